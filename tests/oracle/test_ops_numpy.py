"""The CPU's reference kernels against numpy: an oracle written without kiln's C code.

`kiln ops` judges every kernel row against the REF rows (kernels/<op>/<op>_ref.c); on the CPU
those rows would otherwise only be compared with themselves. This runs
`kiln ops --backend cpu --kernel ref --dump DIR` (every op's REF row on every shape of its
list, the edge inputs included: zero blocks, outliers, positions 0 and 32767, large attention
scores, batched and permuted views) and recomputes each case from the dumped inputs with
numpy in float64, from the op definitions in backends/ops.h:

  matmul    y[.., j, i] = sum_k x[.., j, k] w[i, k]
  attention softmax(scale q.k) v over the visible keys (j <= pos0 + i when causal), query head
            h reading kv head h // (H / H_kv)
  rmsnorm   x / sqrt(mean(x^2) + eps) * w
  rope      pairs (2i, 2i+1) (normal) or (i, i + n/2) (neox) rotated by pos * base^(-2i/n) / factor_i
  swiglu    g / (1 + exp(-g)) * u;  add  a + b;  get_rows  table[ids];  copy  a type change

Float ops must agree to NMSE 1e-12 (the references accumulate in double and round once to f32:
that rounding alone is ~1e-15); add, get_rows and copy to float types must be bit-exact.
Cases with quantized tensors are not dumped (their dequantization is checked against gguf-py
by oracle_quant_gguf); the count of cases checked per op is printed and must be non-zero.

usage: test_ops_numpy.py KILN WORKDIR
"""
import glob
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from oracle_skip import skip  # noqa: E402

try:
    import numpy as np
except ImportError as e:
    skip(f"numpy is not installed ({e})")


def load(prefix, name):
    path = f"{prefix}-{name}.npy"
    if not os.path.exists(path):
        return None
    a = np.load(path)
    if a.dtype == np.uint16:  # bf16 raw bits -> float32
        a = (a.astype(np.uint32) << 16).view(np.float32)
    return a


def matmul(meta, dst, w, x):
    # w (1, 1, m, k); x (1, B, n, k); y (1, B, n, m)
    return np.einsum("bnk,mk->bnm", x[0].astype(np.float64), w[0, 0].astype(np.float64))[None]


def attention(meta, dst, q, k, v):
    # q (1, H, n_q, D); k, v (1, H_kv, n_kv, D)
    q, k, v = (t[0].astype(np.float64) for t in (q, k, v))
    h, n_q, _ = q.shape
    h_kv, n_kv, _ = k.shape
    out = np.zeros_like(q)
    for hh in range(h):
        g = hh // (h // h_kv)
        s = meta["scale"] * q[hh] @ k[g].T  # (n_q, n_kv)
        for i in range(n_q):
            visible = min(n_kv, meta["pos0"] + i + 1) if meta["causal"] else n_kv
            if visible == 0:
                continue
            row = s[i, :visible]
            p = np.exp(row - row.max())
            out[hh, i] = (p / p.sum()) @ v[g, :visible]
    return out[None]


def rmsnorm(meta, dst, x, w=None):
    x = x.astype(np.float64)
    y = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + meta["eps"])
    return y * w.reshape(-1).astype(np.float64) if w is not None else y


def rope(meta, dst, x, pos):
    # x (1, n, H, D); pos (1, 1, 1, n)
    x = x.astype(np.float64)
    y = x.copy()
    n_dims = meta["n_dims"]
    half = n_dims // 2
    i = np.arange(half)
    ff = np.array(meta.get("freq_factors", [1.0] * half), dtype=np.float64)  # Llama 3's divisors
    theta = pos.reshape(-1, 1).astype(np.float64) * meta["theta_base"] ** (-2.0 * i / n_dims) / ff  # (n, half)
    c, s = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]
    if meta["mode"] == "neox":
        a, b = i, i + half
    else:
        a, b = 2 * i, 2 * i + 1
    x0, x1 = x[0][..., a], x[0][..., b]
    y[0][..., a] = x0 * c - x1 * s
    y[0][..., b] = x0 * s + x1 * c
    return y


def swiglu(meta, dst, g, u):
    g = g.astype(np.float64)
    return g / (1.0 + np.exp(-g)) * u.astype(np.float64)


def add(meta, dst, a, b):
    return a.astype(np.float32) + b.astype(np.float32)  # one correctly rounded f32 addition


def get_rows(meta, dst, table, ids):
    return table[0, 0][ids.reshape(-1)][None, None].astype(np.float32)


def copy(meta, dst, src):
    t = meta["dst_type"]
    s = src.astype(np.float32)
    if t == "f16":
        return s.astype(np.float16)
    if t == "bf16":  # round to nearest even on the top 16 bits
        bits = s.view(np.uint32).astype(np.uint64)
        rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint32) << 16
        return rounded.view(np.float32)
    return s


OPS = {"matmul": matmul, "attention": attention, "rmsnorm": rmsnorm, "rope": rope,
       "swiglu": swiglu, "add": add, "get_rows": get_rows, "copy": copy}
EXACT = {"add", "get_rows", "copy"}


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    dump = os.path.join(work, "dump")
    run = subprocess.run([kiln, "ops", "--backend", "cpu", "--kernel", "ref", "--dump", dump],
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout, run.stderr)
        print("FAIL: kiln ops --dump failed")
        return 1
    checked, skipped, failures = {}, {}, []
    for meta_path in sorted(glob.glob(os.path.join(dump, "*.json"))):
        prefix = meta_path[:-5]
        name = os.path.basename(prefix)
        meta = json.load(open(meta_path))
        op = meta["op"]
        if op not in OPS:
            continue  # dequant: gguf-py's dequantizers judge it (oracle_quant_gguf)
        dst = load(prefix, "dst")
        srcs = [load(prefix, f"src{i}") for i in range(len(meta["src_types"]))]
        if dst is None or any(s is None for s in srcs):
            skipped[op] = skipped.get(op, 0) + 1  # a quantized tensor: not dumped
            continue
        want = OPS[op](meta, dst, *srcs)
        got = dst.astype(np.float64) if dst.dtype != np.float16 else dst
        if op in EXACT:
            w = np.asarray(want).astype(dst.dtype) if dst.dtype != np.float32 or op != "copy" else want
            ok = np.array_equal(np.asarray(dst).view(np.uint8), np.asarray(w, dtype=dst.dtype).view(np.uint8))
            detail = "bit-exact" if ok else f"{np.sum(np.asarray(w, dtype=dst.dtype) != dst)} elements differ"
        else:
            want = np.asarray(want, dtype=np.float64).reshape(dst.shape)
            err = np.sum((got - want) ** 2)
            ref = np.sum(want ** 2)
            nmse = err / ref if ref > 0 else err
            ok = nmse <= 1e-12
            detail = f"nmse {nmse:.3g}"
        checked[op] = checked.get(op, 0) + 1
        if not ok:
            failures.append(f"{name}: {detail}")
    for op in sorted(OPS):
        print(f"  {op:10s} {checked.get(op, 0):4d} cases checked"
              f"{'' if not skipped.get(op) else f' ({skipped[op]} with quantized tensors not dumped)'}")
    for f in failures:
        print("FAIL", f)
    missing = [op for op in OPS if not checked.get(op)]
    if missing:
        print("FAIL: no case checked for", ", ".join(missing))
        return 1
    print(f"test_ops_numpy: {sum(checked.values())} cases, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
