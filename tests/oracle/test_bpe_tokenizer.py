"""kiln's byte-level BPE encoding against Hugging Face `tokenizers` (the PyPI wheel), the library
that defines what a tokenizer.json means.

No real Llama 3 or Qwen tokenizer.json can be downloaded here, so the test trains one per style
with `tokenizers` itself, with the published pre-tokenizers: Llama 3's (Split on its regex, digits
in runs of 1-3, then ByteLevel; ignore_merges as its tokenizer.json sets it) and Qwen2's (digits
one by one, NFC normalizer, merges always applied), special tokens added as those models add them.
Each is put into a synthetic model folder, converted by `kiln convert` (which must label it
tokenizer.ggml.pre llama-bpe / qwen2, and take Llama 3's BOS from its post-processor), and every text of a corpus — code, numbers, whitespace
runs, CRLF, tabs, contractions in any case, emoji, mixed scripts, non-ASCII digits, special
tokens written inline — must encode to exactly the ids `tokenizers` gives.

usage: test_bpe_tokenizer.py PATH/TO/kiln WORKDIR     (exit 77 = skipped: tokenizers missing)
"""
import json
import os
import subprocess
import sys

try:
    from tokenizers import Tokenizer, Regex, models, normalizers, pre_tokenizers, processors, trainers
except ImportError as e:
    from oracle_skip import skip
    skip(f"{e} (scripts/test.sh installs tokenizers into .venv)")

LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
          r"\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
         r"\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = [
    "Hello world",
    "Once upon a time, there was a little girl named Lily.",
    "It's, I'M, they'RE, we've, You'LL, he'd, ma'am's, 'tis, o'clock",
    "def main(argv):\n    return 0 if argv else 1  # comment\n",
    "for (int i = 0; i < n; i++) { y[i] += a * x[i]; }",
    "    leading spaces and trailing   ",
    "tabs\tand\t\tmore\ttabs",
    "windows\r\nline\r\n\r\nendings\n\n\n",
    "   \n   \n",
    " ",
    "1234567890 12 345 6789 3.14159 -42 1e-5 0x1F",
    "Prices: $1,299.99 (was €1.499,00) — save 13%!!!",
    "emoji 😀🎉👍🏽 and flags 🇫🇷 and ZWJ 👩‍💻",
    "日本語のテキストと中文混合, 한국어도 있어요.",
    "Русский текст, ελληνικά, עברית, العربية ٣٤٥ and हिन्दी १२३",
    "mixed123abc456 ABC_def-ghi.jkl",
    "...!!!???;;;::: <<>> [[]] {{}}",
    "<|begin_of_text|>user said hi<|end_of_text|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>",
    "a<|endoftext|>b <|endoftext|> c",
    "naïve café résumé Zürich",
    "URL https://example.com/path?q=1&r=two#frag",
    "json {\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "x" * 300,
    "ab" * 100 + " " + "1" * 50,
    "'s's's 'S'T'RE",
    "\u00a0non-breaking\u00a0space and\u2003em space\u3000ideographic",
]

TRAIN = CORPUS * 3 + [
    "the quick brown fox jumps over the lazy dog " * 5,
    "int main(void) { printf(\"hello\\n\"); return 0; }",
    "0123456789 " * 10,
]


def train(style):
    regex = LLAMA3 if style == "llama3" else QWEN2
    specials = (["<|begin_of_text|>", "<|end_of_text|>"] if style == "llama3"
                else ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tok = Tokenizer(models.BPE(ignore_merges=style == "llama3"))
    if style == "qwen2":
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(TRAIN, trainer)
    if style == "llama3":  # BOS by the post-processor, as Llama 3's tokenizer.json adds it
        tok.post_processor = processors.TemplateProcessing(
            single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))])
    return tok, specials


def kiln_ids(kiln, gguf, text):
    r = subprocess.run([kiln, "tokenize", gguf, text], capture_output=True, text=True)
    if r.returncode != 0:
        return f"exit {r.returncode}: {r.stderr.strip()}"
    line = r.stdout.strip()
    return [int(x) for x in line.split(",")] if line else []


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    failures, passed = [], 0
    for style, pre in [("llama3", "llama-bpe"), ("qwen2", "qwen2")]:
        model = os.path.join(work, style)
        subprocess.run([kiln, "synth", "--preset", "tiny", "-o", model], check=True, capture_output=True)
        tok, specials = train(style)
        if tok.get_vocab_size() > 512:
            failures.append(f"{style}: trained vocabulary of {tok.get_vocab_size()} does not fit the model's 512")
            continue
        tok.save(os.path.join(model, "tokenizer.json"))
        # Chat templates: Qwen's in tokenizer_config.json, the Llama one as transformers >= 4.43
        # saves it (chat_template.jinja); both must land in tokenizer.chat_template.
        template = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        with open(os.path.join(model, "tokenizer_config.json"), "w") as f:  # Llama 3's says nothing of BOS
            json.dump({"bos_token": specials[0]} if style == "llama3" else
                      {"bos_token": None, "add_bos_token": False, "chat_template": template}, f)
        if style == "llama3":
            with open(os.path.join(model, "chat_template.jinja"), "w") as f:
                f.write(template)
        gguf = os.path.join(work, f"{style}.gguf")
        subprocess.run([kiln, "convert", model, "-o", gguf, "--type", "f16", "--no-progress"], check=True,
                       capture_output=True)
        out = subprocess.run([kiln, "inspect", gguf], check=True, capture_output=True, text=True).stdout
        if f'"{pre}"' not in out:
            failures.append(f"{style}: tokenizer.ggml.pre is not {pre}")
        try:
            from gguf import GGUFReader
            got_template = GGUFReader(gguf).fields["tokenizer.chat_template"].contents()
        except (ImportError, KeyError) as e:
            got_template = f"unreadable: {e!r}"
        if got_template != template:
            failures.append(f"{style}: tokenizer.chat_template is {got_template!r}")
        else:
            passed += 1
        for text in CORPUS:
            want = tok.encode(text).ids
            got = kiln_ids(kiln, gguf, text)
            if got == want:
                passed += 1
            else:
                failures.append(f"{style} {text[:40]!r}: kiln {got} != tokenizers {want}")
    for f in failures:
        print("FAIL", f)
    print(f"test_bpe_tokenizer: {passed} passed (texts equal, chat templates carried), {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
