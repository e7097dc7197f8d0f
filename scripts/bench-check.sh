#!/usr/bin/env bash
# The regression check a user's CI would run: build, benchmark the default op set, and compare
# with this machine's committed baseline (results/<machine>/baseline.json). Exit 0 = no
# significant regression beyond the threshold, 1 = a regression, 2 = no baseline or bad files.
#   scripts/bench-check.sh [--update] [--threshold 5%]
# --update replaces the baseline with this run (commit it together with how it was made).
set -euo pipefail
cd "$(dirname "$0")/.."
update=false threshold=5%
while [ $# -gt 0 ]; do
    case "$1" in
    --update) update=true ;;
    --threshold) threshold=$2; shift ;;
    *) echo "usage: scripts/bench-check.sh [--update] [--threshold 5%]" >&2; exit 2 ;;
    esac
    shift
done

bash scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

# A stable machine id from the CPU model and core count, e.g. intel-xeon-processor-2c.
model=$(./build/kiln info --json | sed -n 's/.*"model":[[:space:]]*"\(.*\)",/\1/p' | head -1)
cores=$(./build/kiln info --json | sed -n 's/.*"cores":[[:space:]]*\([0-9]*\),/\1/p' | head -1)
machine=$(echo "$model" | tr 'A-Z' 'a-z' | sed 's/([^)]*)//g; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')-${cores}c
dir=results/$machine
mkdir -p "$dir"

./build/kiln bench ops --json results/latest.json
if $update || [ ! -f "$dir/baseline.json" ]; then
    cp results/latest.json "$dir/baseline.json"
    echo "baseline written: $dir/baseline.json (commit $(git rev-parse --short HEAD))"
    exit 0
fi
./build/kiln compare --threshold "$threshold" "$dir/baseline.json" results/latest.json
