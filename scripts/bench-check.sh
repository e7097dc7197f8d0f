#!/usr/bin/env bash
# The regression check a user's CI would run: build, benchmark the default op set, and compare
# with a baseline. Exit 0 = no significant regression beyond the threshold, 1 = a regression,
# 2 = no baseline or bad files.
#   scripts/bench-check.sh [--update] [--threshold 5%] [--baseline FILE|db:REF] [--db FILE]
#                          [--junit FILE] [--md FILE]
# The baseline is this machine's committed results/<machine>/baseline.json unless --baseline
# names another (a file, or db:COMMIT from the --db history). --db FILE also appends this run
# to that results history (kiln history). The comparison is printed as a table, and written as
# Markdown to --md FILE and to $GITHUB_STEP_SUMMARY when set (GitHub shows it on the job's
# page), and as JUnit XML to --junit FILE (CI systems show each benchmark as a test case).
# --update replaces the baseline file with this run (commit it together with how it was made).
set -euo pipefail
cd "$(dirname "$0")/.."
update=false threshold=5% baseline="" db="" junit="" md=""
usage() { echo "usage: scripts/bench-check.sh [--update] [--threshold 5%] [--baseline FILE|db:REF] [--db FILE] [--junit FILE] [--md FILE]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --update) update=true ;;
    --threshold) threshold=$2; shift ;;
    --baseline) baseline=$2; shift ;;
    --db) db=$2; shift ;;
    --junit) junit=$2; shift ;;
    --md) md=$2; shift ;;
    *) usage ;;
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

./build/kiln bench ops --json results/latest.json ${db:+--db "$db"}
if $update || { [ -z "$baseline" ] && [ ! -f "$dir/baseline.json" ]; }; then
    cp results/latest.json "$dir/baseline.json"
    echo "baseline written: $dir/baseline.json (commit $(git rev-parse --short HEAD))"
    exit 0
fi
baseline=${baseline:-$dir/baseline.json}
opts=(--threshold "$threshold" ${db:+--db "$db"} ${junit:+--junit "$junit"})
rc=0
./build/kiln compare "${opts[@]}" "$baseline" results/latest.json || rc=$?
if [ -n "$md" ] || [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    report=$(./build/kiln compare --threshold "$threshold" ${db:+--db "$db"} --format md "$baseline" results/latest.json || true)
    [ -n "$md" ] && printf '%s\n' "$report" >"$md"
    [ -n "${GITHUB_STEP_SUMMARY:-}" ] && printf '%s\n' "$report" >>"$GITHUB_STEP_SUMMARY"
fi
exit $rc
