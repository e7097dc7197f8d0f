#!/usr/bin/env bash
# eval_e2e.sh KILN WORKDIR: kiln eval and kiln convert --eval. A model against itself has zero
# KL and full top-1 agreement; more bits cost less (KL of q8_0 < q4_0 < q2_K, by orders of
# magnitude on this model); --eval prints its line and leaves no reference file behind.
set -u
kiln=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
"$kiln" synth --preset tiny -o "$dir/tiny" >/dev/null || fail synth
for t in f32 q8_0 q4_0 q2_K; do
    "$kiln" convert "$dir/tiny" -o "$dir/$t.gguf" --type "$t" --no-progress >/dev/null || fail "convert $t"
done
kl() { "$kiln" eval "$dir/f32.gguf" "$dir/$1.gguf" -n 128 | sed -n 's/.*mean KL \([0-9.e-]*\).*/\1/p'; }
same=$("$kiln" eval "$dir/f32.gguf" "$dir/f32.gguf" -n 64)
grep -q "mean KL 0.000000 (max 0.000000), top-1 agreement 100.00%" <<<"$same" || fail "self-eval: $same"
k8=$(kl q8_0) k4=$(kl q4_0) k2=$(kl q2_K)
awk -v a="$k8" -v b="$k4" -v c="$k2" 'BEGIN { exit !(a < b && b < c && a > 0) }' || fail "KL not ordered: q8_0 $k8, q4_0 $k4, q2_K $k2"
out=$("$kiln" convert "$dir/tiny" -o "$dir/ev.gguf" --type q4_0 --eval --no-progress) || fail "convert --eval"
grep -q "eval against f32" <<<"$out" || fail "convert --eval printed no eval line"
ls "$dir"/ev.gguf.eval-ref* >/dev/null 2>&1 && fail "convert --eval left its reference file"
echo "KL: q8_0 $k8, q4_0 $k4, q2_K $k2"
echo "eval_e2e: 3 passed, 0 failed"
