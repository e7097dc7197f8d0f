#!/usr/bin/env bash
# Benchmarks several commits of this repository into one results history, as asv does: each
# commit is checked out in its own worktree and built (cached in ~/.cache/kiln-history/<commit>),
# then all are benchmarked one after another with the same options, each run imported into the
# history with this checkout's kiln (older builds may not know --db), so `kiln history` and
# `kiln plot history` show the series across them.
#
#   scripts/bench-history.sh [--db FILE] [--build-only] COMMIT... [-- kiln bench ops options]
#
# Default options: the q4_K/q5_K/q6_K GEMV m=4096 n=1 k=14336 on one thread, 9 repetitions of
# 0.05 s, no roofline (the probes measure the machine, not the commit). Nothing else should run
# on the machine while it benchmarks. The default history: results/<machine>/history.sqlite.
set -euo pipefail
cd "$(dirname "$0")/.."
db="" build_only=false commits=() bench=()
while [ $# -gt 0 ]; do
    case "$1" in
    --db) db=$2; shift ;;
    --build-only) build_only=true ;;
    --) shift; bench=("$@"); break ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) commits+=("$1") ;;
    esac
    shift
done
((${#commits[@]})) || { echo "usage: scripts/bench-history.sh [--db FILE] COMMIT... [-- bench options]" >&2; exit 2; }
((${#bench[@]})) || bench=(--op matmul --type q4_K,q5_K,q6_K --shape m=4096,n=1,k=14336 --threads 1
                           --repetitions 9 --min-time 0.05 --no-roofline --backend cpu)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kiln-history
mkdir -p "$cache"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j"$(nproc)" --target kiln >/dev/null
model=$(./build/kiln info --json --backend cpu | sed -n 's/.*"model":[[:space:]]*"\(.*\)",/\1/p' | head -1)
cores=$(./build/kiln info --json --backend cpu | sed -n 's/.*"cores":[[:space:]]*\([0-9]*\),/\1/p' | head -1)
machine=$(echo "$model" | tr 'A-Z' 'a-z' | sed 's/([^)]*)//g; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')-${cores}c
db=${db:-results/$machine/history.sqlite}
mkdir -p "$(dirname "$db")"
bins=()
for c in "${commits[@]}"; do
    id=$(git rev-parse --short=12 "$c^{commit}")
    tree=$cache/$id
    if [ ! -x "$tree/build/kiln" ]; then
        echo "bench-history: building $id ($(git log -1 --format=%s "$id" | cut -c1-70))"
        [ -d "$tree" ] || git worktree add --detach "$tree" "$id" >/dev/null 2>&1
        cmake -S "$tree" -B "$tree/build" -DCMAKE_BUILD_TYPE=Release -DKILN_CUDA=OFF -DKILN_VULKAN=OFF \
              -DBUILD_TESTING=OFF >"$tree/configure.log" 2>&1 || { tail "$tree/configure.log"; exit 1; }
        cmake --build "$tree/build" -j"$(nproc)" --target kiln >"$tree/build.log" 2>&1 || { tail "$tree/build.log"; exit 1; }
    fi
    bins+=("$id")
done
$build_only && { echo "bench-history: built ${bins[*]}"; exit 0; }
out=$(mktemp -d)
for id in "${bins[@]}"; do
    echo "bench-history: $id: kiln bench ops ${bench[*]}"
    "$cache/$id/build/kiln" bench ops "${bench[@]}" --json "$out/$id.json" >"$out/$id.txt" 2>&1 ||
        { cat "$out/$id.txt"; exit 1; }
    ./build/kiln history import --db "$db" "$out/$id.json"
done
rm -rf "$out"
./build/kiln history --db "$db" --machine "$machine"
