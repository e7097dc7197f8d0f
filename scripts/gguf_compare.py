#!/usr/bin/env python3
"""Compare two GGUF files tensor by tensor with gguf-py (a reader nobody here wrote).

    gguf_compare.py A.gguf B.gguf [--label NAME] [--keys PREFIX]

Prints one line: tensors compared, how many have the same name, type, shape and bytes, and the
general.file_type of each; then one line per tensor that differs (type, shape or bytes, with
the first differing byte). Tensor order and metadata order may differ (llama-quantize writes
tensors sorted by block, kiln in the input's order); the set of tensors may not.
--keys PREFIX also compares every metadata key starting with PREFIX (values and types; e.g.
quantize.imatrix.), and the line then says how many there were.
Exit 0 when every tensor is identical and the file types agree, 1 otherwise.
"""
import argparse
import sys

import numpy as np
from gguf import GGUFReader


def file_type(reader):
    field = reader.fields.get("general.file_type")
    return None if field is None else int(field.parts[field.data[0]][0])


def field_value(field):
    """A key's value as comparable Python data, with its gguf type."""
    parts = [field.parts[i].tolist() for i in field.data]
    if field.types and field.types[-1].name == "STRING":
        parts = [bytes(p).decode("utf-8", "replace") for p in parts]
    return [t.name for t in field.types], parts


def keys(reader, prefix):
    return {k: field_value(f) for k, f in reader.fields.items() if k.startswith(prefix)}


def tensors(reader):
    return {t.name: t for t in reader.tensors}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--label", default="")
    ap.add_argument("--keys", default=None)
    args = ap.parse_args()
    ra, rb = GGUFReader(args.a), GGUFReader(args.b)
    ta, tb = tensors(ra), tensors(rb)
    problems = []
    for name in sorted(set(ta) - set(tb)):
        problems.append(f"  {name}: only in {args.a}")
    for name in sorted(set(tb) - set(ta)):
        problems.append(f"  {name}: only in {args.b}")
    same = 0
    for name in sorted(set(ta) & set(tb)):
        x, y = ta[name], tb[name]
        if x.tensor_type != y.tensor_type:
            problems.append(f"  {name}: type {x.tensor_type.name} vs {y.tensor_type.name}")
            continue
        if list(x.shape) != list(y.shape):
            problems.append(f"  {name}: shape {list(x.shape)} vs {list(y.shape)}")
            continue
        bx, by = np.asarray(x.data).view(np.uint8).ravel(), np.asarray(y.data).view(np.uint8).ravel()
        if bx.size != by.size or not np.array_equal(bx, by):
            diff = np.nonzero(bx[: min(bx.size, by.size)] != by[: min(bx.size, by.size)])[0]
            first = int(diff[0]) if diff.size else min(bx.size, by.size)
            problems.append(f"  {name}: {x.tensor_type.name} bytes differ ({diff.size} of {bx.size}, first at {first})")
            continue
        same += 1
    fa, fb = file_type(ra), file_type(rb)
    if fa != fb:
        problems.append(f"  general.file_type {fa} vs {fb}")
    total = len(set(ta) | set(tb))
    key_note = ""
    if args.keys:
        ka, kb = keys(ra, args.keys), keys(rb, args.keys)
        for k in sorted(set(ka) | set(kb)):
            if ka.get(k) != kb.get(k):
                problems.append(f"  {k}: {ka.get(k)} vs {kb.get(k)}")
        key_note = f", {len(set(ka) & set(kb))} {args.keys}* keys"
    verdict = "IDENTICAL" if not problems else "DIFFERENT"
    types = {}
    for t in ta.values():
        types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
    mix = " ".join(f"{k}:{v}" for k, v in sorted(types.items()))
    print(f"{args.label:<14} {verdict:<9} {same}/{total} tensors identical, file_type {fa}/{fb}{key_note}  [{mix}]")
    for p in problems:
        print(p)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
