#!/usr/bin/env python3
"""Compare two importance matrices in llama.cpp's GGUF format (gguf-py).

    imatrix_compare.py A.imatrix.gguf B.imatrix.gguf [--rtol R]

Checks that both have the same entries, counts, imatrix.chunk_count and chunk_size, and that
every entry's importances (in_sum2 / counts) agree within R relative to the entry's largest
value (default 1e-3: the activations come from two different sets of f32/f16 kernels). Prints
one summary line and a line per entry that is off; exit 0 when all agree.
"""
import argparse
import sys

import numpy as np
from gguf import GGUFReader


def load(path):
    r = GGUFReader(path)
    keys = {}
    for k in ("imatrix.chunk_count", "imatrix.chunk_size"):
        f = r.fields.get(k)
        keys[k] = None if f is None else int(f.parts[f.data[0]][0])
    t = {x.name: np.asarray(x.data, dtype=np.float64).ravel() for x in r.tensors}
    ents = {}
    for name in t:
        if name.endswith(".in_sum2"):
            base = name[: -len(".in_sum2")]
            ents[base] = (t[name], t.get(base + ".counts"))
    return keys, ents


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rtol", type=float, default=1e-3)
    args = ap.parse_args()
    ka, ea = load(args.a)
    kb, eb = load(args.b)
    problems = []
    if ka != kb:
        problems.append(f"  keys {ka} vs {kb}")
    for n in sorted(set(ea) ^ set(eb)):
        problems.append(f"  {n}: only in {args.a if n in ea else args.b}")
    worst = 0.0
    for n in sorted(set(ea) & set(eb)):
        (sa, ca), (sb, cb) = ea[n], eb[n]
        if ca is None or cb is None or not np.array_equal(ca, cb):
            problems.append(f"  {n}: counts {ca} vs {cb}")
            continue
        if sa.shape != sb.shape:
            problems.append(f"  {n}: {sa.size} vs {sb.size} values")
            continue
        va, vb = sa / ca.repeat(sa.size // ca.size), sb / cb.repeat(sb.size // cb.size)
        err = float(np.max(np.abs(va - vb)) / max(np.max(np.abs(va)), 1e-30))
        worst = max(worst, err)
        if err > args.rtol:
            problems.append(f"  {n}: max difference {err:.3e} of its largest importance")
    common = len(set(ea) & set(eb))
    verdict = "AGREE" if not problems else "DIFFER"
    print(f"{verdict}: {common} entries, chunks {ka['imatrix.chunk_count']}/{kb['imatrix.chunk_count']} of "
          f"{ka['imatrix.chunk_size']}/{kb['imatrix.chunk_size']}, worst relative difference {worst:.3e} "
          f"(tolerance {args.rtol:g})")
    for p in problems:
        print(p)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
