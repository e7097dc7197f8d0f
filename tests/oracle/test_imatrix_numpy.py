"""kiln imatrix against an independent computation: the numpy float64 forward pass of
test_model_numpy.py (the Hugging Face Llama definition, from the safetensors), observed at every
matmul's input, summed as llama-imatrix defines the importance matrix: per weight and column,
the sum over every token of every chunk of x^2, the chunk's first token replaced by BOS
(tokenizer.ggml.add_bos_token), counts = tokens seen. kiln's file is read with gguf-py.

The model is the tiny preset converted to f32 (its weights exactly the f16 safetensors'), run
in 3 chunks of 32 (kiln: one batch each, the f16 K/V cache). Bounds, each entry's importances
against its largest: blk.0.attn_q/k/v see the normed embeddings, upstream of any f16: f32
arithmetic only, 1e-5 (measured 3.2e-7). Everything downstream of the first attention goes
through the f16 K/V cache: V rounded to 2^-11 moves an attention output by up to that relative,
its square by up to 2^-10 (9.8e-4), and K's rounding the softmax weights a little more: 3e-3
(measured 6.8e-4 for blk.0.attn_output, 1-2.5e-4 for the rest). Also checked: the entry set
(every blk.* matmul, and output.weight with --process-output), counts, chunk_count/size, type.

usage: test_imatrix_numpy.py PATH/TO/kiln WORKDIR     (exit 77 = skipped: numpy/gguf missing)
"""
import json
import os
import subprocess
import sys

try:
    import numpy as np
    from gguf import GGUFReader
except ImportError as e:
    from oracle_skip import skip
    skip(f"{e}")

sys.path.insert(0, os.path.dirname(__file__))
from test_model_numpy import forward, load_hf  # noqa: E402

CTX, CHUNKS, BOS = 32, 3, 510  # the tiny preset's BOS (synth's vocabulary: 510/511 = BOS/EOS)


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "tiny")
    subprocess.run([kiln, "synth", "--preset", "tiny", "-o", model, "--seed", "5"], check=True, capture_output=True)
    gguf = os.path.join(work, "tiny-f32.gguf")
    subprocess.run([kiln, "convert", model, "-o", gguf, "--type", "f32", "--no-progress"], check=True,
                   capture_output=True)
    cfg = json.load(open(os.path.join(model, "config.json")))
    rng = np.random.default_rng(7)
    tokens = rng.integers(0, 500, CTX * CHUNKS + 11).tolist()  # 11 left over: not a whole chunk
    tok_file = os.path.join(work, "tokens.txt")
    open(tok_file, "w").write(" ".join(map(str, tokens)))
    out = os.path.join(work, "kiln.imatrix.gguf")
    r = subprocess.run([kiln, "imatrix", gguf, "--tokens", tok_file, "-o", out, "--ctx", str(CTX),
                        "--process-output", "--no-progress"], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
        return 1
    w = load_hf(model)
    sums, counts = {}, {}

    def observe(name, x):
        sums[name] = sums.get(name, 0) + np.sum(x * x, axis=0)
        counts[name] = counts.get(name, 0) + x.shape[0]

    for c in range(CHUNKS):
        chunk = tokens[c * CTX:(c + 1) * CTX]
        chunk[0] = BOS
        forward(cfg, w, chunk, observe)
    rd = GGUFReader(out)
    f = rd.fields
    got = {t.name: np.asarray(t.data, dtype=np.float64).ravel() for t in rd.tensors}
    failures = []
    names = sorted(n[: -len(".in_sum2")] for n in got if n.endswith(".in_sum2"))
    if names != sorted(sums):
        failures.append(f"entries {names} vs {sorted(sums)}")
    if int(f["imatrix.chunk_count"].parts[-1][0]) != CHUNKS or int(f["imatrix.chunk_size"].parts[-1][0]) != CTX:
        failures.append("imatrix.chunk_count / chunk_size")
    if bytes(f["general.type"].parts[-1]).decode() != "imatrix":
        failures.append("general.type")
    worst, worst_name = 0.0, ""
    for n in sorted(sums):
        if n + ".in_sum2" not in got:
            continue
        if got[n + ".counts"].tolist() != [float(counts[n])]:
            failures.append(f"{n}: counts {got[n + '.counts'].tolist()} vs {counts[n]}")
        err = float(np.max(np.abs(got[n + ".in_sum2"] - sums[n])) / np.max(sums[n]))
        if err > worst:
            worst, worst_name = err, n
        bound = 1e-5 if n.startswith("blk.0.attn_") and n != "blk.0.attn_output.weight" else 3e-3
        print(f"    {n:28s} {err:.3e}  (bound {bound:g})")
        if err > bound:
            failures.append(f"{n}: importances off by {err:.3e} of the largest (bound {bound:g})")
    print(f"  {len(names)} entries, {CHUNKS} chunks of {CTX}: worst {worst:.3e} ({worst_name})")
    for x in failures:
        print("FAIL:", x)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
