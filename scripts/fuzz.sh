#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (+ ASan, UBSan; kiln_core instrumented through CMake)
# and runs each for a bounded time from a seed corpus of small valid files, then replays the
# committed regression inputs (tests/fuzz/regressions/<target>/). Targets:
#   gguf          the GGUF reader (quant/gguf_read.c)
#   safetensors   the safetensors reader
#   model         GGUF bytes -> kiln_model_load on the CPU device, memory capped at 64 MiB, then a
#                 prefill and a decode step (tests/fuzz/fuzz_model.c)
# Seeds are made by kiln itself and fit -max_len (128 KiB), so mutations start from files that
# reach the success path: the spec's 416-byte example GGUF, the micro preset as Q4_0 and Q8_0
# GGUF (27 and 47 KiB), and the micro preset's safetensors header and whole file.
# Usage: scripts/fuzz.sh [SECONDS]   (KILN_BIN: the kiln that makes the seeds; default build/kiln)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
out=build-fuzz
kiln=${KILN_BIN:-build/kiln}
cmake -S . -B "$out" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DKILN_SANITIZE=fuzzer-no-link,address,undefined -DKILN_FUZZ=ON -DKILN_WERROR=OFF \
      -DKILN_VULKAN=OFF -DKILN_CUDA=OFF -DBUILD_TESTING=OFF >/dev/null
cmake --build "$out" -j"$(nproc)" --target fuzz_gguf fuzz_safetensors fuzz_model >/dev/null

test -x "$kiln" || { cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" >/dev/null; kiln=build/kiln; }
seed=$out/seed
rm -rf "$seed" "$out"/corpus_* && mkdir -p "$seed" "$out/corpus_gguf" "$out/corpus_safetensors" "$out/corpus_model"
"$kiln" synth --preset micro -o "$seed/hf" >/dev/null
for t in q4_0 q8_0; do
    "$kiln" convert "$seed/hf" -o "$seed/micro-$t.gguf" --type "$t" --no-progress >/dev/null
    cp "$seed/micro-$t.gguf" "$out/corpus_gguf/"
    cp "$seed/micro-$t.gguf" "$out/corpus_model/"
done
cp tests/data/example.gguf "$out/corpus_gguf/"
head -c 4000 "$seed/hf/model.safetensors" >"$out/corpus_safetensors/seed_head"
cp "$seed/hf/model.safetensors" "$out/corpus_safetensors/seed_full"
for f in "$out"/corpus_*/*; do
    [ "$(stat -c %s "$f")" -le 131072 ] || { echo "fuzz: seed $f is over -max_len"; exit 1; }
done

n=0
for target in gguf safetensors model; do
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
