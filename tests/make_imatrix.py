#!/usr/bin/env python3
"""Write an importance matrix for a GGUF model in llama.cpp's formats, with gguf-py.

    make_imatrix.py MODEL.gguf OUT [--format gguf|dat] [--seed N] [--process-output]
                    [--bad nan|negative|size|name|truncate]

The entries are those llama-imatrix records by default: every 2-D "blk.*" weight (and
output.weight with --process-output), laid out as its save_imatrix / save_imatrix_legacy write
them (GGUF: general.type imatrix, imatrix.datasets/chunk_count/chunk_size, "<name>.in_sum2"
[ne0, 1] and "<name>.counts" [1, 1] f32, names sorted; dat: count, then per entry the name,
ncall, nval, values, then the chunk count and dataset). The values are seeded and spread over
four orders of magnitude (lognormal), so that weighting really changes the quantizers'
choices; they are not activations of the model. The --bad variants are for the refusal tests.
"""
import argparse
import struct
import sys

import numpy as np
from gguf import GGUFReader, GGUFWriter

CHUNKS, CHUNK_SIZE = 8, 128


def entries(model, process_output):
    out = []
    for t in GGUFReader(model).tensors:
        name = t.name
        if len(t.shape) < 2 or not name.endswith("weight"):
            continue
        if name.startswith("blk.") or (process_output and name == "output.weight"):
            out.append((name, int(t.shape[0])))
    return sorted(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--format", choices=["gguf", "dat"], default="gguf")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--process-output", action="store_true")
    ap.add_argument("--bad", choices=["nan", "negative", "size", "name", "truncate"])
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    ents = entries(args.model, args.process_output)
    if not ents:
        sys.exit(f"{args.model}: no blk.* weights")
    tokens = CHUNKS * CHUNK_SIZE
    data = []
    for i, (name, ne0) in enumerate(ents):
        mean_sq = np.exp(rng.normal(0.0, 1.5, ne0)).astype(np.float32)  # per-token mean of x^2
        if args.bad == "nan" and i == 1:
            mean_sq[3] = np.nan
        if args.bad == "negative" and i == 1:
            mean_sq[5] = -0.25
        if args.bad == "size" and i == 1:
            mean_sq = mean_sq[:-32]
        if args.bad == "name" and i == 1:
            name = name.replace("blk.", "blk.9")  # a block this model does not have
        data.append((name, mean_sq))
    if args.format == "gguf":
        w = GGUFWriter(args.out, arch="imatrix")
        w.add_string("general.type", "imatrix")
        w.add_array("imatrix.datasets", ["kiln-test-seed-%d" % args.seed])
        w.add_uint32("imatrix.chunk_count", CHUNKS)
        w.add_uint32("imatrix.chunk_size", CHUNK_SIZE)
        for name, mean_sq in data:
            sums = (mean_sq.astype(np.float64) * tokens).astype(np.float32)
            w.add_tensor(name + ".in_sum2", sums.reshape(1, -1))
            w.add_tensor(name + ".counts", np.array([[float(tokens)]], dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
    else:
        # legacy: the value is the per-call mean times ncall (save_imatrix_legacy), ncall = chunks
        with open(args.out, "wb") as f:
            f.write(struct.pack("<i", len(data)))
            for name, mean_sq in data:
                nb = name.encode()
                f.write(struct.pack("<i", len(nb)) + nb)
                f.write(struct.pack("<ii", CHUNKS, mean_sq.size))
                f.write((mean_sq * CHUNKS).astype("<f4").tobytes())
            ds = b"kiln-test-seed-%d" % args.seed
            f.write(struct.pack("<ii", CHUNKS, len(ds)) + ds)
    if args.bad == "truncate":
        with open(args.out, "r+b") as f:
            f.seek(0, 2)
            f.truncate(f.tell() * 2 // 3)


if __name__ == "__main__":
    main()
