"""kiln's GGUF reader and writer against gguf-py (PyPI `gguf`, llama.cpp's Python package):
(b) gguf-py's GGUFReader reads the file kiln writes with the same metadata (types and values) and
tensor bytes; (c) kiln reads a file gguf-py's GGUFWriter wrote, seeing what GGUFReader sees.

usage: test_gguf_py.py PATH/TO/gguf_tool WORKDIR     (exit 77 = skipped: numpy/gguf missing)
"""
import json
import os
import subprocess
import sys

try:
    import numpy as np
    from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType
    from gguf import quants
except ImportError as e:
    from oracle_skip import skip
    skip(f"{e} (scripts/test.sh installs numpy and gguf into .venv)")

NAMES = {"UINT8": "u8", "INT8": "i8", "UINT16": "u16", "INT16": "i16", "UINT32": "u32", "INT32": "i32",
         "FLOAT32": "f32", "BOOL": "bool", "STRING": "string", "ARRAY": "array", "UINT64": "u64",
         "INT64": "i64", "FLOAT64": "f64"}
failures = []


def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def reader_view(path):
    """What gguf-py sees, in gguf_tool dump's shape."""
    r = GGUFReader(path)
    kv = {}
    for name, f in r.fields.items():
        if name.startswith("GGUF."):
            continue
        types = [NAMES[t.name] for t in f.types]
        entry = {"type": types[0], "value": f.contents()}
        if types[0] == "array":
            entry["elem"] = types[1]
        kv[name] = entry
    tensors = [{"name": t.name, "type": int(t.tensor_type), "ne": [int(d) for d in t.shape],
                "fnv": fnv(t.data.tobytes())} for t in r.tensors]
    return {"kv": kv, "tensors": tensors}


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def compare(kiln, ref, what):
    for key, want in ref["kv"].items():
        got = kiln["kv"].get(key)
        if got is None:
            failures.append(f"{what}: kiln lacks key {key}")
        elif got["type"] != want["type"] or got.get("elem") != want.get("elem") or not same(got["value"], want["value"]):
            failures.append(f"{what}: {key}: kiln {got}, gguf-py {want}")
    if set(kiln["kv"]) != set(ref["kv"]):
        failures.append(f"{what}: keys differ: {set(kiln['kv']) ^ set(ref['kv'])}")
    if kiln["tensors"] != ref["tensors"]:
        failures.append(f"{what}: tensors differ:\n  kiln    {kiln['tensors']}\n  gguf-py {ref['tensors']}")


def dump(tool, path):
    out = subprocess.run([tool, "dump", path], capture_output=True, text=True)
    if out.returncode != 0:
        failures.append(f"kiln cannot read {path}: {out.stderr.strip()}")
        return None
    return json.loads(out.stdout)


def main():
    tool, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    # (b) kiln writes, gguf-py reads.
    path = os.path.join(work, "kiln_sample.gguf")
    subprocess.run([tool, "sample", path], check=True)
    k = dump(tool, path)
    if k:
        compare(k, reader_view(path), "kiln-written file")
    # (c) gguf-py writes, kiln reads.
    path = os.path.join(work, "gguf_py_sample.gguf")
    w = GGUFWriter(path, arch="llama")
    w.add_block_count(3)
    w.add_context_length(4096)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(500000.0)
    w.add_bool("test.flag", True)
    w.add_int64("test.big", -(1 << 40))
    w.add_float64("test.f64", 2.5)
    w.add_array("test.ints", [1, 2, 3])
    w.add_token_list(["<s>", "</s>", "a", "\u00e9"])
    w.add_token_scores([0.0, -1.0, -2.5, -3.0])
    rng = np.random.default_rng(5)
    w.add_tensor("token_embd.weight", rng.standard_normal((4, 64)).astype(np.float32))
    w.add_tensor("output_norm.weight", rng.standard_normal(64).astype(np.float16))
    x = rng.standard_normal((3, 64)).astype(np.float32)
    w.add_tensor("blk.0.attn_q.weight", quants.quantize(x, GGMLQuantizationType.Q8_0),
                 raw_dtype=GGMLQuantizationType.Q8_0)
    w.add_tensor("blk.0.ffn_up.weight", quants.quantize(x, GGMLQuantizationType.Q4_0),
                 raw_dtype=GGMLQuantizationType.Q4_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    k = dump(tool, path)
    if k:
        compare(k, reader_view(path), "gguf-py-written file")
    for f in failures:
        print("FAIL", f)
    print(f"test_gguf_py: {2 - min(2, len(failures))} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
