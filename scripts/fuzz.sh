#!/usr/bin/env bash
# Builds the parsers' libFuzzer targets with clang (+ ASan, UBSan) and runs each for a bounded
# time from a seed corpus (a valid file of each kind, made by kiln itself), then replays the
# committed regression inputs (tests/fuzz/regressions/<target>/). Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
out=build-fuzz
mkdir -p "$out"
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
# The parsers and what they link: the types table and its converters (AVX2 is fine here: the
# fuzzers run on this machine).
common=(quant/gguf_read.c quant/types.c quant/fp16.c quant/quant_ref_q32.c quant/fp16_f16c.c
        quant/quant_ref_k.c quant/kquant_search.c quant/quantize_fast.c quant/quant_k_avx2.c
        backends/status.c backends/cpu/cpu_features.c)
clang "${flags[@]}" -mavx2 -mf16c tests/fuzz/fuzz_gguf.c "${common[@]}" -o "$out/fuzz_gguf" -lpthread -lm
clang "${flags[@]}" -mavx2 -mf16c tests/fuzz/fuzz_safetensors.c quant/safetensors.c quant/file_read.c "${common[@]}" \
      $(pkg-config --cflags --libs libcjson) -o "$out/fuzz_safetensors" -lpthread -lm

# Seeds: a real GGUF and a real safetensors file.
mkdir -p "$out/corpus_gguf" "$out/corpus_safetensors"
test -x build/kiln || { cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" >/dev/null; }
rm -rf "$out/seed" && ./build/kiln synth --preset tiny -o "$out/seed" >/dev/null
head -c 4000 "$out/seed/model.safetensors" >"$out/corpus_safetensors/seed_head"
cp "$out/seed/model.safetensors" "$out/corpus_safetensors/seed_full"
./build/kiln convert "$out/seed" -o "$out/corpus_gguf/seed.gguf" --type q4_0 --no-progress >/dev/null

for target in gguf safetensors; do
    echo "fuzz_$target: ${seconds}s"
    regress=tests/fuzz/regressions/$target
    if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
        "$out/fuzz_$target" "$regress"/* >/dev/null 2>&1 || { echo "a regression input crashes fuzz_$target"; exit 1; }
    fi
    "$out/fuzz_$target" -max_total_time="$seconds" -max_len=65536 -artifact_prefix="$out/crash_$target-" \
        "$out/corpus_$target" 2>"$out/fuzz_$target.log" || { tail -30 "$out/fuzz_$target.log"; exit 1; }
    tail -1 "$out/fuzz_$target.log"
done
echo "fuzz: 2 passed, 0 failed"
