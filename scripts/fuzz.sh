#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (+ ASan, UBSan; kiln_core instrumented through CMake)
# and runs each for a bounded time from a seed corpus of small valid files, then replays the
# committed regression inputs (tests/fuzz/regressions/<target>/). Targets:
#   gguf          the GGUF reader (quant/file/gguf_read.c)
#   safetensors   the safetensors reader
#   model         GGUF bytes -> kiln_model_load on the CPU device, memory capped at 64 MiB, then a
#                 prefill and a decode step (tests/fuzz/fuzz_model.c)
#   hf_files      config.json, tokenizer.json, the tokenizer.model protobuf, the sharded
#                 checkpoint's index (first byte picks)
#   spm           the SentencePiece encoder/decoder on arbitrary text (a fixed vocabulary)
#   bpe           the byte-level BPE encoder/decoder (llama-bpe, qwen2, gpt2 splits) likewise
#   gbench        the benchmark-JSON reader behind kiln compare
# Seeds are made by kiln itself and fit -max_len (128 KiB), so mutations start from files that
# reach the success path: the spec's 416-byte example GGUF, the micro preset as Q4_0 and Q8_0
# GGUF (27 and 47 KiB), the micro preset's safetensors header and whole file, its config.json
# and tokenizer.json, a hand-made SentencePiece protobuf, texts, and tests/data's JSON files.
# Usage: scripts/fuzz.sh [SECONDS]   (KILN_BIN: the kiln that makes the seeds; default build/kiln)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
out=build-fuzz
kiln=${KILN_BIN:-build/kiln}
cmake -S . -B "$out" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DKILN_SANITIZE=fuzzer-no-link,address,undefined -DKILN_FUZZ=ON -DKILN_WERROR=OFF \
      -DKILN_VULKAN=OFF -DKILN_CUDA=OFF -DBUILD_TESTING=OFF >/dev/null
cmake --build "$out" -j"$(nproc)" --target fuzz_gguf fuzz_safetensors fuzz_model \
      fuzz_hf_files fuzz_spm fuzz_bpe fuzz_gbench >/dev/null

test -x "$kiln" || { cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" >/dev/null; kiln=build/kiln; }
seed=$out/seed
targets="gguf safetensors model hf_files spm bpe gbench"
rm -rf "$seed" "$out"/corpus_* && mkdir -p "$seed"
for target in $targets; do mkdir -p "$out/corpus_$target"; done
"$kiln" synth --preset micro -o "$seed/hf" >/dev/null
for t in q4_0 q8_0; do
    "$kiln" convert "$seed/hf" -o "$seed/micro-$t.gguf" --type "$t" --no-progress >/dev/null
    cp "$seed/micro-$t.gguf" "$out/corpus_gguf/"
    cp "$seed/micro-$t.gguf" "$out/corpus_model/"
done
cp tests/data/example.gguf "$out/corpus_gguf/"
head -c 4000 "$seed/hf/model.safetensors" >"$out/corpus_safetensors/seed_head"
cp "$seed/hf/model.safetensors" "$out/corpus_safetensors/seed_full"
# hf_files: the first byte picks the file (tests/fuzz/fuzz_hf_files.c)
{ printf '\000'; cat "$seed/hf/config.json"; } >"$out/corpus_hf_files/config"
{ printf '\001'; cat "$seed/hf/tokenizer.json"; } >"$out/corpus_hf_files/tokenizer_json"
{ printf '\003'; cat "$seed/hf/tokenizer.json"; } >"$out/corpus_hf_files/tokenizer_json_config"
printf '\004{"metadata": {"total_size": 8}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}' \
    >"$out/corpus_hf_files/sharded_index"
# A SentencePiece ModelProto by hand: pieces {1: text, 2: score (float), 3: type}, byte pieces.
python3 - "$out/corpus_hf_files/tokenizer_model" <<'PY'
import struct, sys
def piece(text, score, typ):
    t = text.encode()
    body = b"\x0a" + bytes([len(t)]) + t + b"\x15" + struct.pack("<f", score) + b"\x18" + bytes([typ])
    return b"\x0a" + bytes([len(body)]) + body
pieces = [("<unk>", 0.0, 2), ("<s>", 0.0, 3), ("</s>", 0.0, 3)] + [(f"<0x{b:02X}>", 0.0, 6) for b in range(256)]
pieces += [("\u2581a", -1.0, 1), ("ab", -2.0, 1), ("\u2581the", -3.0, 1), ("e", -4.0, 1)]
open(sys.argv[1], "wb").write(b"\x02" + b"".join(piece(*p) for p in pieces))
PY
printf 'Hello world, the quick brown fox' >"$out/corpus_spm/ascii"
printf 'caf\303\251 \344\270\255\346\226\207 \360\237\230\200 ab  ab\n\tthe' >"$out/corpus_spm/utf8"
# bpe: the first byte picks the pre-tokenizer (tests/fuzz/fuzz_bpe.c)
printf '\000It'"'"'s 1234567 the  ab\r\n\t<|im_start|>x' >"$out/corpus_bpe/llama"
printf '\001caf\303\251 \344\270\255 \360\237\230\200 12 3   ' >"$out/corpus_bpe/qwen"
printf '\002 the ab<|x|> 99' >"$out/corpus_bpe/gpt2"
cp tests/data/*.json "$out/corpus_gbench/"
for f in "$out"/corpus_*/*; do
    [ "$(stat -c %s "$f")" -le 131072 ] || { echo "fuzz: seed $f is over -max_len"; exit 1; }
done

n=0
for target in $targets; do
    echo "fuzz_$target: ${seconds}s"
    regress=tests/fuzz/regressions/$target
    if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
        "$out/fuzz_$target" "$regress"/* >/dev/null 2>&1 || { echo "a regression input crashes fuzz_$target"; exit 1; }
    fi
    # 2 GiB RSS and 512 MiB per allocation: a loader sizing a buffer from lying metadata fails.
    "$out/fuzz_$target" -max_total_time="$seconds" -max_len=131072 -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -artifact_prefix="$out/crash_$target-" "$out/corpus_$target" 2>"$out/fuzz_$target.log" \
        || { tail -30 "$out/fuzz_$target.log"; exit 1; }
    tail -1 "$out/fuzz_$target.log"
    n=$((n + 1))
done
echo "fuzz: $n passed, 0 failed"
