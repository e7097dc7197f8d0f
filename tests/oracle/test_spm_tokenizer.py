"""kiln convert carries a SentencePiece tokenizer.model into tokenizer.ggml.* exactly as the
sentencepiece library (PyPI) reads the model: a tiny model is trained here on generated text,
placed in a synthetic model folder, converted, and every piece, score and type compared through
gguf-py's GGUFReader.

usage: test_spm_tokenizer.py PATH/TO/kiln WORKDIR   (exit 77 = skipped: a package is missing)
"""
import os
import random
import shutil
import subprocess
import sys

try:
    import sentencepiece as spm
    from gguf import GGUFReader
except ImportError as e:
    from oracle_skip import skip
    skip(f"{e} (scripts/test.sh installs sentencepiece and gguf into .venv)")


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    rng = random.Random(3)
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 7))) for _ in range(400)]
    with open(os.path.join(work, "corpus.txt"), "w") as f:
        for _ in range(3000):
            f.write(" ".join(rng.choice(words) for _ in range(12)) + "\n")
    spm.SentencePieceTrainer.train(input=os.path.join(work, "corpus.txt"), model_prefix=os.path.join(work, "sp"),
                                   vocab_size=300, model_type="bpe", byte_fallback=True, minloglevel=2)
    model = os.path.join(work, "tiny")
    subprocess.run([kiln, "synth", "--preset", "tiny", "-o", model], check=True, capture_output=True)
    for name in ["tokenizer.json", "tokenizer_config.json"]:
        os.remove(os.path.join(model, name))
    shutil.copy(os.path.join(work, "sp.model"), os.path.join(model, "tokenizer.model"))
    out = os.path.join(work, "tiny.gguf")
    subprocess.run([kiln, "convert", model, "-o", out, "--type", "q8_0", "--no-progress"], check=True, capture_output=True)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(work, "sp.model"))
    f = GGUFReader(out).fields
    tokens, scores, types = (f[k].contents() for k in ["tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                                                        "tokenizer.ggml.token_type"])
    failures = []
    if f["tokenizer.ggml.model"].contents() != "llama":
        failures.append("tokenizer.ggml.model is not llama")
    for i in range(sp.get_piece_size()):
        want_type = 3 if sp.is_control(i) else 2 if sp.is_unknown(i) else 6 if sp.is_byte(i) else 5 if sp.is_unused(i) else 1
        if tokens[i] != sp.id_to_piece(i) or abs(scores[i] - sp.get_score(i)) > 0 or types[i] != want_type:
            failures.append(f"piece {i}: kiln ({tokens[i]!r}, {scores[i]}, {types[i]}), "
                            f"sentencepiece ({sp.id_to_piece(i)!r}, {sp.get_score(i)}, {want_type})")
    if len(tokens) != 512 or tokens[300] != "[PAD300]":
        failures.append(f"{len(tokens)} tokens; padding to the model's 512 missing")
    for key, want in [("tokenizer.ggml.bos_token_id", sp.bos_id()), ("tokenizer.ggml.eos_token_id", sp.eos_id()),
                      ("tokenizer.ggml.unknown_token_id", sp.unk_id())]:
        if f[key].contents() != want:
            failures.append(f"{key} = {f[key].contents()}, sentencepiece says {want}")
    # kiln's encoder (kiln tokenize, what kiln run -p uses) against sentencepiece's, BOS first:
    # corpus-like sentences, and text outside the training alphabet (byte fallback, multi-byte UTF-8).
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 9))) for _ in range(40)]
    texts += ["hello world", "Z\u00fcrich \u65e5\u672c na\u00efve", "a", "qqqq ppp", "abc.def,ghi!"]
    mismatched = 0
    for text in texts:
        want = [sp.bos_id()] + sp.encode(text)
        got = subprocess.run([kiln, "tokenize", out, text], check=True, capture_output=True, text=True).stdout.strip()
        got = [int(v) for v in got.split(",")]
        if got != want:
            mismatched += 1
            failures.append(f"encode {text!r}: kiln {got}, sentencepiece {want}")
    print(f"  encode: {len(texts) - mismatched}/{len(texts)} texts tokenized as sentencepiece does")
    for m in failures[:10]:
        print("FAIL", m)
    print(f"test_spm_tokenizer: {1 if not failures else 0} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
