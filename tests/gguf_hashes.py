#!/usr/bin/env python3
"""Print each tensor of a GGUF file as `name type sha256-of-its-bytes`, sorted by name (gguf-py).

    gguf_hashes.py FILE.gguf

tests/quant_imatrix.sh holds kiln's files to lists written this way from llama-quantize's.
"""
import hashlib
import sys

import numpy as np
from gguf import GGUFReader

for t in sorted(GGUFReader(sys.argv[1]).tensors, key=lambda t: t.name):
    b = np.asarray(t.data).view(np.uint8).tobytes()
    print(t.name, t.tensor_type.name, hashlib.sha256(b).hexdigest())
