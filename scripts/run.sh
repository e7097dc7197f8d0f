#!/usr/bin/env bash
# kiln's main command (the README's first command): installs what is missing, builds Release,
# then shows what this machine offers (`kiln info`) and checks every kernel on every device
# against the reference (`kiln ops`). Extra arguments go to `kiln ops` (e.g. --op matmul).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo
./build/kiln info
echo
./build/kiln ops "$@"
