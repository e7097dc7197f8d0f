#!/usr/bin/env bash
# kiln's test command (the README's second command; CI runs exactly this).
#   0. installs what is missing (scripts/deps.sh test)
#   1. Release build with -Werror: every test (unit, kernel checks, CLI, Python oracles)
#   2. AddressSanitizer + UBSan build: the unit tests and the kernel checks
#   3. aarch64 cross build: the unit tests and the NEON kernel checks under qemu-aarch64
#   4. the GGUF and safetensors parsers under libFuzzer (clang, ASan+UBSan), 30 s each, plus
#      the committed crash inputs (tests/fuzz/regressions/)
# Exit status 0 only if all four pass.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
step() { printf '\n==== %s\n' "$*"; }

bash scripts/deps.sh test

step "1/4 Release build (-Werror), all tests"
# One CUDA architecture keeps the compile short (the GPU suite builds for the GPU at hand).
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKILN_WERROR=ON -DKILN_CUDA_ARCHS=80 >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

step "2/4 AddressSanitizer + UndefinedBehaviorSanitizer: unit tests and kernel checks"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_WERROR=ON -DKILN_CUDA_ARCHS=80 \
      -DKILN_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan -L 'unit|ops' --output-on-failure -j"$jobs"

step "3/4 aarch64 cross build: unit tests and NEON kernel checks under qemu-aarch64"
cmake -S . -B build-arm64 -DCMAKE_BUILD_TYPE=Release -DKILN_WERROR=ON -DKILN_CUDA=OFF \
      -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake >/dev/null
cmake --build build-arm64 -j"$jobs"
ctest --test-dir build-arm64 -L 'unit|ops' --output-on-failure -j"$jobs"

step "4/4 parser fuzzing (libFuzzer)"
bash scripts/fuzz.sh 30

step "all test stages passed"
