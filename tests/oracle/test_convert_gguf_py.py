"""kiln convert against an independent reading of the same model: the Hugging Face safetensors
parsed here with numpy, the q/k permutation done here the way llama.cpp's convert_hf_to_gguf.py
does it, and every quantized tensor compared byte for byte with gguf-py's quantizers; kiln's
GGUF files read with gguf-py's GGUFReader; llama.* keys with the types llama.cpp requires.

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


def expected(cfg, hf):
    """GGUF name -> f32 numpy array (numpy layout) as llama.cpp's converter would produce."""
    out = {"token_embd.weight": hf["model.embed_tokens.weight"], "output_norm.weight": hf["model.norm.weight"]}
    if "lm_head.weight" in hf:
        out["output.weight"] = hf["lm_head.weight"]
    names = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
             "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
             "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down"}
    for l in range(cfg["num_hidden_layers"]):
        for hf_name, g in names.items():
            w = hf[f"model.layers.{l}.{hf_name}.weight"]
            if g == "attn_q":
                w = permute(w, cfg["num_attention_heads"])
            if g == "attn_k":
                w = permute(w, cfg["num_key_value_heads"])
            out[f"blk.{l}.{g}.weight"] = w
    return out


def check_model(kiln, work, model, tag):
    """Converts one synthetic folder to every type and compares each tensor with gguf-py."""
    cfg = json.load(open(os.path.join(model, "config.json")))
    want = expected(cfg, read_safetensors(os.path.join(model, "model.safetensors")))
    types = {"f32": T.F32, "f16": T.F16, "bf16": T.BF16, "q8_0": T.Q8_0, "q4_0": T.Q4_0, "q4_1": T.Q4_1,
             "q5_0": T.Q5_0, "q5_1": T.Q5_1}
    checked = 0
    for name, qt in types.items():
        out = os.path.join(work, f"{tag}-{name}.gguf")
        subprocess.run([kiln, "convert", model, "-o", out, "--type", name, "--no-progress"], check=True,
                       capture_output=True)
        r = GGUFReader(out)
        f = r.fields
        for key, typ in [("llama.block_count", "UINT32"), ("llama.embedding_length", "UINT32"),
                         ("llama.attention.head_count_kv", "UINT32"), ("llama.context_length", "UINT32"),
                         ("llama.attention.layer_norm_rms_epsilon", "FLOAT32"), ("llama.rope.freq_base", "FLOAT32"),
                         ("general.architecture", "STRING")]:
            if key not in f or f[key].types[0].name != typ:
                failures.append(f"{tag} {name}: {key} missing or not {typ}")
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
