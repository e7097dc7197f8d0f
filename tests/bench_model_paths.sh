#!/usr/bin/env bash
# bench_model_paths.sh KILN WORKDIR FAST_KQUANTS: nothing slow in silence.
#   1. With the SIMD kernels masked off (KILN_CPU_ISA=ref) a Q4_K_M model's matmuls run the
#      reference kernel: `kiln bench model` must say so, per test, naming the tensors and types,
#      with the share of the time.
#   2. FAST_KQUANTS=1 (x86-64, where every K-quant has an AVX2 row): natively, no such line.
#   3. The roofline it prints names the compute probes and the read bandwidth's spread, and on
#      x86 with AVX2 measures an int8 peak.
set -u
kiln=$1 dir=$2 fast=$3
rm -rf "$dir" && mkdir -p "$dir"
failed=0
fail() { echo "FAIL: $*"; failed=1; }

"$kiln" synth --preset tiny -o "$dir/hf" >/dev/null || { echo "FAIL: synth"; exit 1; }
"$kiln" convert "$dir/hf" -o "$dir/m.gguf" --type q4_k_m --no-progress >/dev/null || { echo "FAIL: convert"; exit 1; }

KILN_CPU_ISA=ref "$kiln" bench model "$dir/m.gguf" --backend cpu -p 16 -n 4 -r 2 >"$dir/ref.out" 2>&1 ||
    fail "bench model under KILN_CPU_ISA=ref exited $?"
for t in pp16 tg4; do
    grep -qE "^  $t: SLOW PATH: [0-9]+ matmuls per run .*[0-9]+% of the time: .*blk\.\*\.attn_q\.weight \(q4_K\).*output\.weight \(q6_K\)" "$dir/ref.out" ||
        fail "no slow-path line for $t under KILN_CPU_ISA=ref"
done
grep -qE "prefill: .* of the .* GFLOP/s FMA peak" "$dir/ref.out" ||
    fail "without an int8 probe, the prefill fraction must be of the FMA peak"

"$kiln" bench model "$dir/m.gguf" --backend cpu -p 16 -n 4 -r 2 >"$dir/native.out" 2>&1 ||
    fail "bench model exited $?"
if [ "$fast" = 1 ]; then
    grep -q "SLOW PATH" "$dir/native.out" && fail "a slow path on a CPU where every K-quant has a SIMD row: $(grep 'SLOW PATH' "$dir/native.out")"
    grep -qE "prefill: .* of the .* GOP/s int8 peak \(" "$dir/native.out" ||
        fail "a Q4_K_M prefill's fraction must be of the int8 peak"
fi
grep -qE "decode: .* read bandwidth \(best of [0-9]+ probes; the worst read [0-9.]+\)" "$dir/native.out" ||
    fail "the decode line must give the read probe's spread"

"$kiln" bench roofline --backend cpu --min-time 0.02 >"$dir/roof.out" 2>&1 || fail "bench roofline exited $?"
grep -qE "roofline of cpu: read [0-9.]+ GB/s \(best of [0-9]+; worst [0-9.]+\).*FMA [0-9.]+ GFLOP/s \([^)]+\)" "$dir/roof.out" ||
    fail "bench roofline line: $(cat "$dir/roof.out")"
if [ "$fast" = 1 ]; then
    grep -qE "int8 [0-9.]+ GOP/s \((avx2|avxvnni|avx512vnni) " "$dir/roof.out" || fail "no int8 peak: $(cat "$dir/roof.out")"
fi
[ $failed = 0 ] && echo "ok: slow paths named, peaks and spread reported"
exit $failed
