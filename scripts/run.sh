#!/usr/bin/env bash
# kiln's main command (the README's first command): installs what is missing, builds Release,
# shows what this machine offers (`kiln info`), checks every kernel against the reference
# (`kiln ops`), measures the machine's ceilings (`kiln bench roofline`) and benchmarks the default
# op set against them (`kiln bench ops`), printing the table and writing results/latest.json.
# Extra arguments go to `kiln bench ops` (e.g. --shapes llama-8b, --op matmul).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo
./build/kiln info
echo
./build/kiln ops
echo
# bench ops measures the roofline itself (same run), reports fractions of it, and writes JSON.
./build/kiln bench ops --json results/latest.json "$@"
echo
echo "wrote results/latest.json; compare with a baseline: build/kiln compare results/<machine>/baseline.json results/latest.json"
