#!/usr/bin/env bash
# bench_compare.sh KILN WORKDIR: the regression check end to end.
#   1. kiln bench ops --json a.json, then kiln compare a.json a.json: no regression, exit 0
#   2. the same benchmarks with the SIMD kernels masked off (KILN_CPU_ISA=ref: a deliberately
#      slowed build), then kiln compare a.json slow.json: the regression is flagged, exit 1
set -u
kiln=$1 dir=$2
mkdir -p "$dir"
opts=(bench ops --shapes ci --op matmul,dequant --type q4_0,q8_0 --min-time 0.005 --repetitions 9 --no-roofline)
fail() { echo "FAIL: $*"; exit 1; }

"$kiln" "${opts[@]}" --json "$dir/a.json" >"$dir/a.txt" 2>&1 || fail "bench failed: $(cat "$dir/a.txt")"
out=$("$kiln" compare "$dir/a.json" "$dir/a.json" 2>&1); rc=$?
[ $rc -eq 0 ] || fail "compare of a file with itself exited $rc: $out"
grep -q "0 slower" <<<"$out" || fail "compare of a file with itself reports slower entries: $out"

KILN_CPU_ISA=ref "$kiln" "${opts[@]}" --json "$dir/slow.json" >"$dir/slow.txt" 2>&1 || fail "slow bench failed"
grep -q "matmul.q4_0.ref" "$dir/slow.json" || fail "KILN_CPU_ISA=ref did not select the reference kernels"
out=$("$kiln" compare "$dir/a.json" "$dir/slow.json" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "compare against the slowed run exited $rc, expected 1: $out"
grep -q "SLOWER" <<<"$out" || fail "no SLOWER verdict: $out"
echo "$out" | tail -3
echo "bench_compare: 2 passed, 0 failed"
