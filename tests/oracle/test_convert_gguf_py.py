"""kiln convert against an independent reading of the same model: the Hugging Face safetensors
parsed here with numpy, the q/k permutation done here the way llama.cpp's convert_hf_to_gguf.py
does it, and every quantized tensor compared byte for byte with gguf-py's quantizers; kiln's
GGUF files read with gguf-py's GGUFReader; the architecture's keys with the types llama.cpp
requires; per architecture (llama, qwen2, qwen3) every tensor name one that gguf-py's own
MODEL_TENSORS table lists for that architecture; qwen2's biases and qwen3's q/k norms carried
unpermuted; Llama 3's rope_freqs.weight recomputed here from the published formula.

usage: test_convert_gguf_py.py PATH/TO/kiln WORKDIR     (exit 77 = skipped: numpy/gguf missing)
"""
import json
import os
import struct
import subprocess
import sys

try:
    import numpy as np
    from gguf import GGUFReader, GGMLQuantizationType as T
    from gguf import quants
    import gguf
except ImportError as e:
    from oracle_skip import skip
    skip(f"{e} (scripts/test.sh installs numpy and gguf into .venv)")

failures = []


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        if info["dtype"] == "BF16":  # numpy has no bf16: its bits are an f32's top half
            bits = np.frombuffer(data[a:b], dtype=np.uint16).astype(np.uint32) << 16
            out[name] = bits.view(np.float32).reshape(info["shape"])
            continue
        dt = {"F16": np.float16, "F32": np.float32}[info["dtype"]]
        out[name] = np.frombuffer(data[a:b], dtype=dt).reshape(info["shape"]).astype(np.float32)
    return out


def permute(w, n_head):  # convert_hf_to_gguf.py's LlamaModel.permute
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


ARCHS = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2",
         "Qwen3ForCausalLM": "qwen3"}


def llama3_factors(cfg):
    # transformers' _compute_llama3_parameters, as a divisor of each inverse frequency
    rs, hd = cfg["rope_scaling"], cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    inv = 1.0 / (cfg["rope_theta"] ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    old, lo, hi, f = rs["original_max_position_embeddings"], rs["low_freq_factor"], rs["high_freq_factor"], rs["factor"]
    out = []
    for w in 2 * np.pi / inv:
        if w < old / hi:
            out.append(1.0)
        elif w > old / lo:
            out.append(f)
        else:
            s = (old / w - lo) / (hi - lo)
            out.append(1.0 / ((1 - s) / f + s))
    return np.array(out, dtype=np.float32)


def gguf_py_names(arch, n_layers):
    """Tensor names (without .weight/.bias) gguf-py's MODEL_TENSORS lists for the architecture."""
    a = {"llama": gguf.MODEL_ARCH.LLAMA, "qwen2": gguf.MODEL_ARCH.QWEN2, "qwen3": gguf.MODEL_ARCH.QWEN3}[arch]
    names = set()
    for t in gguf.MODEL_TENSORS[a]:
        base = gguf.TENSOR_NAMES[t]
        names |= {base.format(bid=l) for l in range(n_layers)} if "{bid}" in base else {base}
    return names


def expected(cfg, hf):
    """GGUF name -> f32 numpy array (numpy layout) as llama.cpp's converter would produce."""
    arch = ARCHS[cfg["architectures"][0]]
    out = {"token_embd.weight": hf["model.embed_tokens.weight"], "output_norm.weight": hf["model.norm.weight"]}
    if "lm_head.weight" in hf and not cfg.get("tie_word_embeddings"):
        out["output.weight"] = hf["lm_head.weight"]
    if (cfg.get("rope_scaling") or {}).get("rope_type") == "llama3":
        out["rope_freqs.weight"] = llama3_factors(cfg)
    names = {"input_layernorm.weight": "attn_norm.weight", "self_attn.q_proj.weight": "attn_q.weight",
             "self_attn.k_proj.weight": "attn_k.weight", "self_attn.v_proj.weight": "attn_v.weight",
             "self_attn.o_proj.weight": "attn_output.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
             "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
             "mlp.down_proj.weight": "ffn_down.weight", "self_attn.q_proj.bias": "attn_q.bias",
             "self_attn.k_proj.bias": "attn_k.bias", "self_attn.v_proj.bias": "attn_v.bias",
             "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight"}
    for l in range(cfg["num_hidden_layers"]):
        for hf_name, g in names.items():
            w = hf.get(f"model.layers.{l}.{hf_name}")
            if w is None:
                continue
            if arch == "llama" and g == "attn_q.weight":  # only llama is permuted (qwen: neox rope)
                w = permute(w, cfg["num_attention_heads"])
            if arch == "llama" and g == "attn_k.weight":
                w = permute(w, cfg["num_key_value_heads"])
            out[f"blk.{l}.{g}"] = w
    return out


ALL_TYPES = {"f32": T.F32, "f16": T.F16, "bf16": T.BF16, "q8_0": T.Q8_0, "q4_0": T.Q4_0, "q4_1": T.Q4_1,
             "q5_0": T.Q5_0, "q5_1": T.Q5_1}


def check_model(kiln, work, model, tag, types=ALL_TYPES):
    """Converts one synthetic folder to every type and compares each tensor with gguf-py."""
    cfg = json.load(open(os.path.join(model, "config.json")))
    arch = ARCHS[cfg["architectures"][0]]
    want = expected(cfg, read_safetensors(os.path.join(model, "model.safetensors")))
    known = gguf_py_names(arch, cfg["num_hidden_layers"])
    for n in want:
        if n.rsplit(".", 1)[0] not in known:
            failures.append(f"{tag}: {n} is not a tensor gguf-py lists for {arch}")
    checked = 0
    for name, qt in types.items():
        out = os.path.join(work, f"{tag}-{name}.gguf")
        subprocess.run([kiln, "convert", model, "-o", out, "--type", name, "--pure", "--no-progress"], check=True,
                       capture_output=True)
        r = GGUFReader(out)
        f = r.fields
        keys = [(f"{arch}.block_count", "UINT32"), (f"{arch}.embedding_length", "UINT32"),
                (f"{arch}.attention.head_count_kv", "UINT32"), (f"{arch}.context_length", "UINT32"),
                (f"{arch}.attention.layer_norm_rms_epsilon", "FLOAT32"), (f"{arch}.rope.freq_base", "FLOAT32"),
                ("general.architecture", "STRING")]
        if cfg.get("head_dim"):
            keys += [(f"{arch}.attention.key_length", "UINT32"), (f"{arch}.attention.value_length", "UINT32")]
        for key, typ in keys:
            if key not in f or f[key].types[0].name != typ:
                failures.append(f"{tag} {name}: {key} missing or not {typ}")
        if f["general.architecture"].contents() != arch:
            failures.append(f"{tag} {name}: general.architecture is {f['general.architecture'].contents()}, not {arch}")
        if cfg.get("head_dim") and f[f"{arch}.attention.key_length"].contents() != cfg["head_dim"]:
            failures.append(f"{tag} {name}: key_length is not head_dim {cfg['head_dim']}")
        # The vocabulary, read here from tokenizer.json / tokenizer_config.json.
        tj = json.load(open(os.path.join(model, "tokenizer.json")))
        vocab = {i: t for t, i in tj["model"]["vocab"].items()}
        vocab.update({a["id"]: a["content"] for a in tj["added_tokens"]})
        want_tokens = [vocab.get(i, f"[PAD{i}]") for i in range(max(cfg["vocab_size"], max(vocab) + 1))]
        if f["tokenizer.ggml.model"].contents() != "gpt2" or f["tokenizer.ggml.tokens"].contents() != want_tokens:
            failures.append(f"{tag} {name}: tokenizer tokens differ from tokenizer.json")
        if f["tokenizer.ggml.merges"].contents() != tj["model"]["merges"]:
            failures.append(f"{tag} {name}: merges differ")
        tc = json.load(open(os.path.join(model, "tokenizer_config.json")))
        if want_tokens[f["tokenizer.ggml.bos_token_id"].contents()] != tc["bos_token"]:
            failures.append(f"{tag} {name}: bos id does not name {tc['bos_token']}")
        got = {t.name: t for t in r.tensors}
        if set(got) != set(want):
            failures.append(f"{tag} {name}: tensor names differ: {set(got) ^ set(want)}")
            continue
        for tname, w in want.items():
            t = got[tname]
            target = qt if w.ndim == 2 else T.F32
            if int(t.tensor_type) != int(target):
                failures.append(f"{tag} {name}: {tname} is type {int(t.tensor_type)}, expected {int(target)}")
                continue
            ref = quants.quantize(w.astype(np.float32), target) if target != T.F32 else w.astype(np.float32)
            if tname == "rope_freqs.weight":  # recomputed here in float64: llama.cpp's f32 within 1 ulp
                if not np.allclose(t.data, ref, rtol=2e-7, atol=0):
                    failures.append(f"{tag} {name}: rope_freqs.weight {t.data} differs from {ref}")
                checked += 1
                continue
            if t.data.tobytes() != np.ascontiguousarray(ref).tobytes():
                failures.append(f"{tag} {name}: {tname} bytes differ from gguf-py's {target.name}")
            checked += 1
    hf = read_safetensors(os.path.join(model, "model.safetensors"))
    if cfg.get("tie_word_embeddings") and ("lm_head.weight" in hf or "output.weight" in want):
        failures.append(f"{tag}: tied, yet an lm_head / output.weight is present")
    return checked


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    # An f16 checkpoint with its own lm_head, and a bf16 one with tied embeddings (most published
    # checkpoints are bf16; Llama 3.2 1B/3B and Qwen2.5's small models tie the output to the
    # embeddings: no output.weight may then be written, llama.cpp reads token_embd instead).
    checked = 0
    for tag, extra in [("tiny", ["--seed", "7"]), ("tiny-bf16-tied", ["--seed", "8", "--dtype", "bf16", "--tied"])]:
        m = os.path.join(work, tag)
        subprocess.run([kiln, "synth", "--preset", "tiny", "-o", m] + extra, check=True, capture_output=True)
        checked += check_model(kiln, work, m, tag)
    for preset in ["tiny-llama3", "tiny-qwen2", "tiny-qwen3"]:  # the other architectures' special parts
        m = os.path.join(work, preset)
        subprocess.run([kiln, "synth", "--preset", preset, "-o", m, "--seed", "9"], check=True, capture_output=True)
        checked += check_model(kiln, work, m, preset, {k: ALL_TYPES[k] for k in ["f32", "f16", "q8_0", "q4_0"]})
    model = os.path.join(work, "tiny")
    # Sharded: the same model split over two files with model.safetensors.index.json converts to
    # the same bytes as the single file.
    raw = open(os.path.join(model, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
    names = [k for k in header if k != "__metadata__"]
    shard_dir = os.path.join(work, "sharded")
    os.makedirs(shard_dir, exist_ok=True)
    weight_map = {}
    for part, group in enumerate([names[:len(names) // 2], names[len(names) // 2:]]):
        h, blob, off = {}, b"", 0
        for k in group:
            a, b = header[k]["data_offsets"]
            h[k] = {"dtype": header[k]["dtype"], "shape": header[k]["shape"], "data_offsets": [off, off + b - a]}
            blob += data[a:b]
            off += b - a
            weight_map[k] = f"model-{part + 1:05d}-of-00002.safetensors"
        hb = json.dumps(h).encode()
        hb += b" " * (-len(hb) % 8)
        with open(os.path.join(shard_dir, f"model-{part + 1:05d}-of-00002.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", len(hb)) + hb + blob)
    json.dump({"metadata": {}, "weight_map": weight_map}, open(os.path.join(shard_dir, "model.safetensors.index.json"), "w"))
    for extra in ["config.json", "tokenizer.json", "tokenizer_config.json"]:
        open(os.path.join(shard_dir, extra), "w").write(open(os.path.join(model, extra)).read())
    one, two = os.path.join(work, "one.gguf"), os.path.join(work, "two.gguf")
    subprocess.run([kiln, "convert", model, "-o", one, "--type", "q4_0", "--no-progress"], check=True, capture_output=True)
    subprocess.run([kiln, "convert", shard_dir, "-o", two, "--type", "q4_0", "--no-progress"], check=True, capture_output=True)
    if open(one, "rb").read() != open(two, "rb").read():
        failures.append("the sharded model converts to different bytes than the single file")
    # Hostile safetensors: overlapping data, an unsupported dtype. One-line error, exit 1, no output.
    for case, mutate, msg in [("overlap", lambda h: h[names[1]].__setitem__("data_offsets", h[names[0]]["data_offsets"]), "overlap"),
                              ("dtype", lambda h: h[names[0]].__setitem__("dtype", "I64"), "has dtype I64")]:
        h = json.loads(raw[8:8 + n])
        mutate(h)
        bad_dir = os.path.join(work, f"bad_{case}")
        os.makedirs(bad_dir, exist_ok=True)
        hb = json.dumps(h).encode()
        hb += b" " * (-len(hb) % 8)
        open(os.path.join(bad_dir, "model.safetensors"), "wb").write(struct.pack("<Q", len(hb)) + hb + data)
        open(os.path.join(bad_dir, "config.json"), "w").write(open(os.path.join(model, "config.json")).read())
        out = os.path.join(work, f"bad_{case}.gguf")
        r = subprocess.run([kiln, "convert", bad_dir, "-o", out, "--no-progress"], capture_output=True, text=True)
        if r.returncode != 1 or msg not in r.stderr or len(r.stderr.strip().splitlines()) != 1 or os.path.exists(out):
            failures.append(f"hostile safetensors ({case}): exit {r.returncode}, stderr {r.stderr!r}")
    for m in failures[:20]:
        print("FAIL", m)
    print(f"test_convert_gguf_py: {checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
