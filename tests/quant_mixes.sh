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
# A list of mixes: the size and bits per weight of each (--dry-run: llama-quantize --dry-run
# prints 0.85 MiB / 4.95 BPW, 0.77 / 4.48 and 0.56 / 3.27 for these on the tiny preset), then
# written and evaluated against the input (--eval): fewer bits cost more KL.
"$kiln" quantize "$dir/tiny.gguf" "$dir/list.gguf" Q4_K_M,IQ4_XS,Q2_K --dry-run >"$dir/got" 2>&1 ||
    fail "a list of mixes, --dry-run: $(tail -1 "$dir/got")"
grep -q "^Q4_K_M  *0.85  *4.95$" "$dir/got" && grep -q "^IQ4_XS  *0.77  *4.48$" "$dir/got" &&
    grep -q "^Q2_K  *0.56  *3.27$" "$dir/got" || fail "list --dry-run: $(cat "$dir/got")"
"$kiln" quantize "$dir/tiny.gguf" "$dir/list.gguf" Q8_0,Q2_K --eval >"$dir/got" 2>&1 ||
    fail "a list of mixes, --eval: $(tail -1 "$dir/got")"
[ -f "$dir/list-Q8_0.gguf" ] && [ -f "$dir/list-Q2_K.gguf" ] || fail "list: OUT-<MIX>.gguf not written"
awk '$1 == "Q8_0" { a = $5 } $1 == "Q2_K" { b = $5 } END { exit !(a > 0 && b > 10 * a) }' "$dir/got" ||
    fail "list --eval: Q2_K's KL is not well above Q8_0's: $(cat "$dir/got")"
passed=$((passed + 2))
echo "quant_mixes: $passed passed, 0 failed"
