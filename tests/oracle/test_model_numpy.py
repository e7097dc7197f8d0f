"""kiln's forward pass against an independent one: the Hugging Face Llama definition (RMSNorm,
rotate-half RoPE on the original q/k weights, grouped-query attention by repeating kv heads,
SiLU-gated MLP) written here in numpy float64 straight from the model's safetensors, so the
converter's q/k permutation, the GGUF layout and every kiln op are checked together.
(PyTorch from PyPI pulls GBs of CUDA libraries; numpy computes the same definition.)

usage: test_model_numpy.py PATH/TO/kiln WORKDIR     (exit 77 = skipped: numpy missing)
"""
import json
import os
import struct
import subprocess
import sys

try:
    import numpy as np
except ImportError as e:
    from oracle_skip import skip
    skip(f"{e}")


def load_hf(model):
    raw = open(os.path.join(model, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h, data = json.loads(raw[8:8 + n]), raw[8 + n:]
    w = {}
    for k, info in h.items():
        if k == "__metadata__":
            continue
        a, b = info["data_offsets"]
        w[k] = np.frombuffer(data[a:b], dtype=np.float16).reshape(info["shape"]).astype(np.float64)
    return w


def forward(cfg, w, tokens):
    H, Hkv, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["hidden_size"]
    hd, eps, theta, n = D // H, cfg["rms_norm_eps"], cfg.get("rope_theta", 10000.0), len(tokens)

    def rms(x, g):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * g

    inv = theta ** (-np.arange(0, hd, 2) / hd)
    ang = np.arange(n)[:, None] * inv[None, :]
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))

    def rope(x):  # x [n, heads, hd], HF's rotate_half
        rot = np.concatenate([-x[..., hd // 2:], x[..., :hd // 2]], -1)
        return x * cos[:, None, :] + rot * sin[:, None, :]

    x = w["model.embed_tokens.weight"][tokens]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, w[p + "input_layernorm.weight"])
        q = rope((h @ w[p + "self_attn.q_proj.weight"].T).reshape(n, H, hd))
        k = rope((h @ w[p + "self_attn.k_proj.weight"].T).reshape(n, Hkv, hd))
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(n, Hkv, hd)
        k, v = np.repeat(k, H // Hkv, axis=1), np.repeat(v, H // Hkv, axis=1)
        s = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(hd) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = np.einsum("hqk,khd->qhd", s, v).reshape(n, H * hd)
        x = x + o @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, w[p + "post_attention_layernorm.weight"])
        g = h @ w[p + "mlp.gate_proj.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    x = rms(x, w["model.norm.weight"])
    out = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ out.T


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "tiny")
    subprocess.run([kiln, "synth", "--preset", "tiny", "-o", model, "--seed", "11"], check=True, capture_output=True)
    cfg = json.load(open(os.path.join(model, "config.json")))
    rng = np.random.default_rng(4)
    tokens = rng.integers(0, cfg["vocab_size"], 23).tolist()
    ref = forward(cfg, load_hf(model), tokens)
    failures, passed = [], 0
    # f32 weights: only f32 arithmetic and the f16 K/V cache separate kiln from float64.
    # q8_0: weight quantization and Q8_0 activations on top.
    for typ, ceiling in [("f32", 1e-6), ("f16", 1e-6), ("q8_0", 1e-3)]:
        gguf = os.path.join(work, f"tiny-{typ}.gguf")
        logits = os.path.join(work, f"logits-{typ}.bin")
        subprocess.run([kiln, "convert", model, "-o", gguf, "--type", typ, "--no-progress"], check=True, capture_output=True)
        subprocess.run([kiln, "run", gguf, "--tokens", ",".join(map(str, tokens)), "--logits", logits],
                       check=True, capture_output=True)
        got = np.fromfile(logits, dtype=np.float32).reshape(len(tokens), -1).astype(np.float64)
        nmse = float(np.sum((got - ref) ** 2) / np.sum(ref ** 2))
        agree = float(np.mean(got.argmax(-1) == ref.argmax(-1)))
        print(f"  {typ}: logits NMSE {nmse:.3e} (ceiling {ceiling:g}), top-1 agreement {agree:.3f}")
        if nmse > ceiling:
            failures.append(f"{typ}: NMSE {nmse:.3e} above {ceiling:g}")
        else:
            passed += 1
    for m in failures:
        print("FAIL", m)
    print(f"test_model_numpy: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
