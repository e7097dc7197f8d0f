#!/usr/bin/env bash
# quant_mixes.sh KILN WORKDIR: the per-tensor types of every llama-quantize mix kiln writes equal
# llama-quantize's own, tensor by tensor, on two models: quant-mix (Llama, 16 blocks, GQA 4, FFN
# 704, which is not whole 256-blocks: the fallbacks) and tiny (GQA 2). The expected lists
# (tests/data/quant-mixes/<preset>-<MIX>.types) were written from llama-quantize's output files
# by `scripts/peer-quantize-check.sh expected` (llama-cpp-python 0.3.36's vendor tree); the
# bytes themselves are compared by `scripts/peer-quantize-check.sh check` (results/). Both the
# GGUF path (kiln quantize) and the Hugging Face path (kiln convert) are checked.
set -u
kiln=$1 dir=$2
data=$(dirname "$0")/data/quant-mixes
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
passed=0
mixes="Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K IQ4_NL IQ4_XS F16 BF16"
plan_types() { awk 'NF >= 5 && $1 != "tensor" && $1 != "total:" { print $1, $3 }' | sort; }
for preset in quant-mix tiny; do
    "$kiln" synth --preset $preset -o "$dir/$preset" >/dev/null || fail "synth $preset"
    "$kiln" convert "$dir/$preset" -o "$dir/$preset.gguf" --no-progress >/dev/null || fail "convert $preset"
    for mix in $mixes; do
        want="$data/$preset-$mix.types"
        [ -f "$want" ] || fail "missing $want"
        "$kiln" quantize "$dir/$preset.gguf" "$dir/out.gguf" "$mix" --dry-run 2>/dev/null | plan_types >"$dir/got" ||
            fail "$preset $mix: quantize --dry-run failed"
        sort "$want" | diff "$dir/got" - >"$dir/diff" || fail "$preset $mix: types differ from llama-quantize's: $(head -5 "$dir/diff")"
        "$kiln" convert "$dir/$preset" -o "$dir/out.gguf" --type "$(tr A-Z a-z <<<"$mix")" --dry-run 2>/dev/null |
            plan_types >"$dir/got" || fail "$preset $mix: convert --dry-run failed"
        sort "$want" | diff "$dir/got" - >"$dir/diff" || fail "$preset $mix (convert): types differ: $(head -5 "$dir/diff")"
        passed=$((passed + 1))
    done
done
# A mix llama-quantize refuses without an importance matrix: refused, exit non-zero, no file.
msg=$("$kiln" quantize "$dir/quant-mix.gguf" "$dir/q2ks.gguf" Q2_K_S --no-progress 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "needs an importance matrix" <<<"$msg" || fail "Q2_K_S without an imatrix: exit $rc: $msg"
ls "$dir"/q2ks.gguf* >/dev/null 2>&1 && fail "the refused Q2_K_S left a file"
passed=$((passed + 1))
# --pure: one type everywhere but the fallback; the options beside it.
"$kiln" quantize "$dir/quant-mix.gguf" "$dir/out.gguf" Q4_K_M --pure --dry-run 2>/dev/null | plan_types >"$dir/got"
grep -q "^output.weight q4_K$" "$dir/got" && grep -q "^blk.3.ffn_down.weight q5_0$" "$dir/got" &&
    ! grep -q "q6_K" "$dir/got" || fail "--pure: $(grep -E 'output|ffn_down' "$dir/got" | head -3)"
"$kiln" quantize "$dir/quant-mix.gguf" "$dir/out.gguf" Q5_K_M --output-tensor-type q8_0 --token-embedding-type q4_0 \
    --dry-run 2>/dev/null | plan_types >"$dir/got"
grep -q "^output.weight q8_0$" "$dir/got" && grep -q "^token_embd.weight q4_0$" "$dir/got" ||
    fail "output/token-embedding types: $(grep -E 'output.weight|token_embd' "$dir/got")"
"$kiln" quantize "$dir/quant-mix.gguf" "$dir/out.gguf" Q5_K_M --leave-output-tensor --dry-run 2>/dev/null |
    plan_types | grep -q "^output.weight f16$" || fail "--leave-output-tensor"
passed=$((passed + 3))
echo "quant_mixes: $passed passed, 0 failed"
