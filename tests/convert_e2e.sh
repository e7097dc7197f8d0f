#!/usr/bin/env bash
# convert_e2e.sh KILN WORKDIR: synth -> convert to every type -> inspect, end to end, plus:
# quantize(f16 GGUF) == convert straight to the type (f16 holds the source exactly), the
# output does not depend on the thread count, --dry-run writes nothing, and bad input leaves
# no output file behind.
set -u
kiln=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
passed=0

"$kiln" synth --preset tiny -o "$dir/tiny" >/dev/null || fail "synth"
# --pure: every weight of the type (without it a type name is llama-quantize's mix of that name,
# tested by quant_mixes.sh).
for t in f32 f16 bf16 q8_0 q6_K q5_K q5_1 q5_0 q4_K q4_1 q4_0 q3_K q2_K; do
    "$kiln" convert "$dir/tiny" -o "$dir/tiny-$t.gguf" --type "$t" --pure --no-progress >"$dir/convert-$t.txt" 2>&1 ||
        fail "convert to $t: $(cat "$dir/convert-$t.txt")"
    out=$("$kiln" inspect "$dir/tiny-$t.gguf") || fail "inspect $t"
    grep -qE "^  $t +1[0-9] " <<<"$out" || [ "$t" = f32 ] || fail "inspect of $t shows no $t weights: $out"
    passed=$((passed + 1))
done

"$kiln" quantize "$dir/tiny-f16.gguf" "$dir/requant-q4_0.gguf" q4_0 --pure --no-progress >/dev/null || fail "quantize"
cmp -s "$dir/requant-q4_0.gguf" "$dir/tiny-q4_0.gguf" || fail "quantize(f16 gguf) differs from convert --type q4_0"
passed=$((passed + 1))

"$kiln" convert "$dir/tiny" -o "$dir/t1.gguf" --type q4_1 --threads 1 --no-progress >/dev/null &&
"$kiln" convert "$dir/tiny" -o "$dir/t3.gguf" --type q4_1 --threads 3 --no-progress >/dev/null || fail "threads"
cmp -s "$dir/t1.gguf" "$dir/t3.gguf" || fail "the output depends on the thread count"
passed=$((passed + 1))

"$kiln" convert "$dir/tiny" -o "$dir/dry.gguf" --type q8_0 --dry-run | grep -q "MiB out" || fail "dry run prints no plan"
[ ! -e "$dir/dry.gguf" ] || fail "--dry-run wrote a file"
passed=$((passed + 1))

# The SIMD quantizers (q4_K, q5_K) write the reference's bytes: whole files compared.
for t in q4_K q5_K; do
    KILN_CPU_ISA=ref "$kiln" convert "$dir/tiny" -o "$dir/ref-$t.gguf" --type "$t" --pure --no-progress >/dev/null ||
        fail "reference convert $t"
    cmp -s "$dir/ref-$t.gguf" "$dir/tiny-$t.gguf" || fail "$t: the SIMD quantizer's file differs from the reference's"
    passed=$((passed + 1))
done

# Overrides: a regex per tensor name, lowercased, the first match wins (llama-quantize's
# llama_tensor_get_type stops at the first matching pattern): blk.1.ffn_down matches both of the
# first two and takes q8_0, not f16; --tensor-type repeats, each adding its patterns after the
# earlier ones (as llama-quantize's).
out=$("$kiln" convert "$dir/tiny" -o "$dir/ov.gguf" --type q4_0 --tensor-type 'blk\.1\.ffn_(up|down)=q8_0,ffn_down=f16' --tensor-type '^OUTPUT=f16' --no-progress) ||
    fail "convert with overrides"
grep -qE "blk.1.ffn_down.weight +f16 +q8_0" <<<"$out" && grep -qE "^  output.weight +f16 +f16" <<<"$out" &&
    grep -qE "blk.0.ffn_down.weight +f16 +f16" <<<"$out" && grep -qE "attn_output.weight +f16 +q4_0" <<<"$out" &&
    grep -qE "blk.1.ffn_up.weight +f16 +q8_0" <<<"$out" ||
    fail "overrides not applied as asked: $out"
passed=$((passed + 1))

# Bad input: a config.json without a field; a truncated safetensors file. Exit 1, one line, no output.
mkdir -p "$dir/bad1" && cp "$dir/tiny/model.safetensors" "$dir/bad1/" &&
    sed 's/"hidden_size"/"hidden_sizes"/' "$dir/tiny/config.json" >"$dir/bad1/config.json"
msg=$("$kiln" convert "$dir/bad1" -o "$dir/bad1.gguf" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q 'missing "hidden_size"' <<<"$msg" || fail "missing field: exit $rc: $msg"
mkdir -p "$dir/bad2" && cp "$dir/tiny/config.json" "$dir/bad2/" &&
    head -c 100000 "$dir/tiny/model.safetensors" >"$dir/bad2/model.safetensors"
msg=$("$kiln" convert "$dir/bad2" -o "$dir/bad2.gguf" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "outside the" <<<"$msg" || fail "truncated safetensors: exit $rc: $msg"
ls "$dir"/bad*.gguf* >/dev/null 2>&1 && fail "a failed conversion left a file behind"
msg=$("$kiln" convert "$dir/tiny" -o "$dir/bad3.gguf" --type iq2_xxs 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "cannot write iq2_xxs" <<<"$msg" || fail "unsupported type: exit $rc: $msg"
passed=$((passed + 3))
echo "convert_e2e: $passed passed, 0 failed"
