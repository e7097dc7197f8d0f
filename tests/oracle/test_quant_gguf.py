"""kiln's reference quantizers against gguf-py's (PyPI `gguf`), an implementation nobody here
wrote: byte equality of the quantized rows, and bit equality of the dequantized values, on data
that stresses the rounding rules (spec/ggml-formats.md §1.2, §6): Gaussian, heavy-tailed,
all-zero blocks, one huge value per block, exact ties, tiny values, and the spec's generator.

usage: test_quant_gguf.py PATH/TO/quant_dump      (exit 77 = skipped: numpy/gguf missing)
"""
import subprocess
import sys

try:
    import numpy as np
    from gguf import quants
    from gguf.constants import GGMLQuantizationType as T
except ImportError as e:  # the venv of scripts/test.sh has them; a bare python may not
    from oracle_skip import skip
    skip(f"{e} (scripts/test.sh installs numpy and gguf into .venv)")

TYPES = {"q4_0": T.Q4_0, "q4_1": T.Q4_1, "q5_0": T.Q5_0, "q5_1": T.Q5_1, "q8_0": T.Q8_0,
         "f16": T.F16, "bf16": T.BF16}
K_TYPES = {"q2_K": T.Q2_K, "q3_K": T.Q3_K, "q4_K": T.Q4_K, "q5_K": T.Q5_K, "q6_K": T.Q6_K,
           "iq4_nl": T.IQ4_NL, "iq4_xs": T.IQ4_XS}
# Round-trip ceilings on Gaussian data (relative RMSE), loose bounds on what each type achieves.
K_CEILING = {"q2_K": 0.40, "q3_K": 0.20, "q4_K": 0.10, "q5_K": 0.05, "q6_K": 0.025, "iq4_nl": 0.10,
             "iq4_xs": 0.10}
COLS = 256


def spec_tensor():
    """spec §10.2's generator: 16 x 4096 values."""
    s, draws = 0x12345678, np.zeros(16 * 4096, dtype=np.uint32)
    for i in range(draws.size):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        draws[i] = s
    v = ((draws >> 8).astype(np.float32) / np.float32(16777216.0)) * np.float32(2) - np.float32(1)
    v = v.reshape(16, 4096)
    for r in range(16):
        v[r] *= np.float32(2.0 ** ((r % 5) - 2))
    v[1] = 0
    v[2, 7] *= np.float32(8)
    return v


def cases(rng):
    n = 64
    yield "gaussian", rng.standard_normal((n, COLS)).astype(np.float32)
    yield "heavy-tailed", rng.standard_t(2, (n, COLS)).astype(np.float32)
    z = rng.standard_normal((n, COLS)).astype(np.float32)
    z[:, 32:64] = 0  # whole zero blocks
    yield "zero blocks", z
    o = rng.standard_normal((n, COLS)).astype(np.float32) * 0.01
    o[:, ::32] = 1000.0  # one huge value per block
    yield "outliers", o
    yield "ties", (rng.integers(-16, 17, (n, COLS)) / 2).astype(np.float32)
    yield "tiny", (rng.standard_normal((n, COLS)) * 1e-6).astype(np.float32)
    yield "positive", np.abs(rng.standard_normal((n, COLS))).astype(np.float32)
    yield "spec generator", spec_tensor().reshape(-1, COLS)


def f16_fields(name, size):
    """Byte offsets of the f16 scale fields in one block (spec/ggml-formats.md §2-3)."""
    return {"q4_0": [0], "q4_1": [0, 2], "q5_0": [0], "q5_1": [0, 2], "q8_0": [0],
            "f16": list(range(0, size, 2)), "bf16": [],
            "q2_K": [80, 82], "q3_K": [108], "q4_K": [0, 2], "q5_K": [0, 2], "q6_K": [208],
            "iq4_nl": [0], "iq4_xs": [0]}[name]


def run(tool, mode, name, data):
    out = subprocess.run([tool, mode, name, str(COLS)], input=data.tobytes(), capture_output=True,
                         check=True)
    return out.stdout


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(20261125)
    passed = failed = 0
    for case, x in cases(rng):
        for name, t in TYPES.items():
            ref = quants.quantize(x, t)
            got = run(tool, "quantize", name, x)
            if got != ref.tobytes():
                a = np.frombuffer(got, dtype=np.uint8)
                b = ref.reshape(-1).view(np.uint8)
                diff = int(np.count_nonzero(a != b)) if a.size == b.size else -1
                print(f"FAIL {name} quantize on {case}: {diff} bytes differ from gguf-py")
                failed += 1
                continue
            ref_f = quants.dequantize(ref, t).astype(np.float32)
            got_f = np.frombuffer(run(tool, "dequantize", name, ref), dtype=np.float32)
            if got_f.tobytes() != ref_f.tobytes():
                print(f"FAIL {name} dequantize on {case}: values differ from gguf-py")
                failed += 1
                continue
            passed += 1
    # K-quants and IQ4: gguf-py dequantizes them but has no quantizer, so kiln's bytes (checked
    # against ggml's in test_quant_vectors.c) are dequantized by both, on every case.
    for case, x in cases(rng):
        for name, t in K_TYPES.items():
            q = run(tool, "quantize", name, x)
            qa = np.frombuffer(q, dtype=np.uint8).reshape(x.shape[0], -1)
            ref_f = quants.dequantize(qa, t).astype(np.float32)
            got_f = np.frombuffer(run(tool, "dequantize", name, qa), dtype=np.float32)
            if got_f.tobytes() != ref_f.tobytes():
                print(f"FAIL {name} dequantize on {case}: values differ from gguf-py")
                failed += 1
                continue
            rel = np.sqrt(np.mean((ref_f.reshape(x.shape) - x) ** 2) / max(np.mean(x ** 2), 1e-30))
            if case == "gaussian" and not rel < K_CEILING[name]:
                print(f"FAIL {name} on gaussian data: relative RMSE {rel:.4f} above {K_CEILING[name]}")
                failed += 1
                continue
            passed += 1
    # Dequantizers fed bytes no quantizer made: random blocks, once fully random (NaN and Inf
    # scales included: both sides must agree on which outputs are NaN) and once with every f16
    # scale field replaced by a finite one, so that the codes and sub-block scales are what is
    # compared. Bit equality (NaN equal to NaN) with gguf-py's dequantization.
    for name, t in {**TYPES, **K_TYPES}.items():
        block, size = quants.GGML_QUANT_SIZES[t]
        rows = 48
        raw = rng.integers(0, 256, (rows, COLS // block * size), dtype=np.uint8)
        finite = raw.copy()
        for off in f16_fields(name, size):
            cols = np.arange(off, finite.shape[1], size)
            h = rng.standard_normal((rows, cols.size)).astype(np.float16).view(np.uint8).reshape(rows, cols.size, 2)
            finite[:, cols] = h[..., 0]
            finite[:, cols + 1] = h[..., 1]
        for label, data in (("random bytes", raw), ("random bytes, finite scales", finite)):
            with np.errstate(all="ignore"):  # NaN and Inf scales are the point here
                ref_f = quants.dequantize(data, t).astype(np.float32).reshape(-1)
            got_f = np.frombuffer(run(tool, "dequantize", name, data), dtype=np.float32)
            if got_f.shape != ref_f.shape or not np.array_equal(got_f, ref_f, equal_nan=True):
                bad = int(np.count_nonzero(~((got_f == ref_f) | (np.isnan(got_f) & np.isnan(ref_f))))) \
                    if got_f.shape == ref_f.shape else -1
                print(f"FAIL {name} dequantize on {label}: {bad} values differ from gguf-py")
                failed += 1
            else:
                passed += 1
    print(f"test_quant_gguf: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
