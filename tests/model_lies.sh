#!/usr/bin/env bash
# model_lies.sh KILN GGUF_EDIT WORKDIR: GGUF models whose metadata disagrees with their tensors,
# through every command that loads a model (kiln run, bench model, eval, inspect). Each must exit
# 1 within seconds with one line on stderr that names the file and what is wrong (the regex of
# its case), and allocate nothing large first: outside sanitizer builds each command runs with
# a 3 GiB address-space limit (the tiny model needs ~100 MiB; a loader that sized a buffer from
# a lying block_count or context_length would fail that limit with another message).
# Also: a token id beyond the vocabulary, a context_length of 2^31 (legal: the default context
# is bounded), and a --ctx larger than the machine's memory (refused with the numbers).
set -u
kiln=$1 edit=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
passed=0 failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

"$kiln" synth --preset tiny -o "$dir/hf" >/dev/null || { echo "FAIL: synth"; exit 1; }
"$kiln" convert "$dir/hf" -o "$dir/base.gguf" --type f16 --no-progress >/dev/null || { echo "FAIL: convert"; exit 1; }
base=$dir/base.gguf
limit=()
[ -z "${ASAN_OPTIONS:-}" ] && limit=(ulimit -v $((3 << 20)) '&&')

# expect NAME CODE REGEX -- COMMAND...: exit CODE within 30 s, stderr matching REGEX on one line.
expect() {
    local name=$1 code=$2 regex=$3
    shift 4
    local err=$dir/$name.err rc
    SECONDS=0
    bash -c "${limit[*]} exec timeout 30 \"\$@\"" _ "$@" >"$dir/$name.out" 2>"$err"
    rc=$?
    local secs=$SECONDS lines
    lines=$(grep -c . "$err")
    if [ "$rc" -ne "$code" ]; then
        fail "$name: exit $rc, expected $code ($(head -c 300 "$err"))"
    elif [ "$code" -ne 0 ] && { [ "$lines" -ne 1 ] || ! grep -Eq -- "$regex" "$err"; }; then
        fail "$name: stderr is not one line matching /$regex/: $(head -c 300 "$err")"
    elif [ "$secs" -gt 20 ]; then
        fail "$name: took ${secs}s"
    else
        passed=$((passed + 1))
        [ "$code" -ne 0 ] && echo "ok  $name: $(cat "$err")"
    fi
}

# lie NAME REGEX EDIT...: a file with those edits, through all four commands.
lie() {
    local name=$1 regex=$2
    shift 2
    local f=$dir/$name.gguf
    "$edit" "$base" "$f" "$@" || { fail "$name: gguf_edit $*"; return; }
    local named="$f: .*($regex)"
    expect "$name-run" 1 "$named" -- "$kiln" run "$f" --tokens 1,2,3 --backend cpu
    expect "$name-bench" 1 "$named" -- "$kiln" bench model "$f" -p 4 -n 2 -r 1 --backend cpu --no-roofline
    expect "$name-eval" 1 "$named" -- "$kiln" eval "$base" "$f" -n 16 --backend cpu
    expect "$name-inspect" 1 "$named" -- "$kiln" inspect "$f"
}

K=llama.attention
lie head_count_0 "$K.head_count is 0" "set:$K.head_count=u32:0"
lie head_count_kv_0 "$K.head_count_kv is 0" "set:$K.head_count_kv=u32:0"
lie head_count_kv_3 "head_count_kv = 3 does not divide" "set:$K.head_count_kv=u32:3"
lie head_count_3 "head_count = 3 does not divide llama.embedding_length" "set:$K.head_count=u32:3" "set:$K.head_count_kv=u32:1"
lie embedding_length "tensor token_embd.weight is \[256, 512, 1, 1\], expected \[512, 512\]" "set:llama.embedding_length=u32:512"
lie feed_forward_length "tensor blk.0.ffn_gate.weight is \[256, 512, 1, 1\], expected \[256, 1024\]" "set:llama.feed_forward_length=u32:1024"
lie block_count_huge "llama.block_count is 1000000 but the file has tensors for 2 block" "set:llama.block_count=u32:1000000"
lie block_count_u64 "llama.block_count is 9223372036854775807" "set:llama.block_count=u64:18446744073709551615"
lie block_count_0 "llama.block_count is 0" "set:llama.block_count=u32:0"
lie block_count_short "llama.block_count is 1 but the file has tensors for 2 block" "set:llama.block_count=u32:1"
lie block_count_string "llama.block_count has type string, expected an integer" "set:llama.block_count=str:two"
lie rope_dims_large "llama.rope.dimension_count is 128, expected an even number in 2 .. the head size 64" "set:llama.rope.dimension_count=u32:128"
lie rope_dims_odd "llama.rope.dimension_count is 63" "set:llama.rope.dimension_count=u32:63"
lie rms_eps_negative "layer_norm_rms_epsilon is -1e-05, expected a finite number > 0" "set:$K.layer_norm_rms_epsilon=f32:-1e-5"
lie rms_eps_zero "layer_norm_rms_epsilon is 0," "set:$K.layer_norm_rms_epsilon=f32:0"
lie rms_eps_nan "layer_norm_rms_epsilon is -?nan," "set:$K.layer_norm_rms_epsilon=f32:nan"
lie rms_eps_inf "layer_norm_rms_epsilon is inf," "set:$K.layer_norm_rms_epsilon=f32:inf"
lie rms_eps_missing "missing $K.layer_norm_rms_epsilon" "del:$K.layer_norm_rms_epsilon"
lie missing_layer_tensor "missing tensor blk.1.ffn_down.weight" "drop:blk.1.ffn_down.weight"
lie missing_output_norm "missing tensor output_norm.weight" "drop:output_norm.weight"
lie missing_token_embd "missing tensor token_embd.weight" "drop:token_embd.weight"
lie transposed "tensor blk.0.ffn_up.weight is \[512, 256, 1, 1\], expected \[256, 512\]" "shape:blk.0.ffn_up.weight=512,256"
lie norm_type "tensor blk.1.attn_norm.weight is f16; norms and biases are f32 only" "f16:blk.1.attn_norm.weight"
lie unknown_tensor "tensor blk.0.attn_q.bias is not part of the llama graph kiln runs" "copy:blk.0.attn_q.weight=blk.0.attn_q.bias"
lie vocab_size "llama.vocab_size is 1000 but token_embd.weight has 512 rows" "set:llama.vocab_size=u32:1000"
lie experts "llama.expert_count is 8: mixture-of-experts models are not implemented" "set:llama.expert_count=u32:8"
lie rope_scaling "llama.rope.scaling.type is set: rope scaling of that kind is not implemented" "set:llama.rope.scaling.type=str:linear"
# An architecture kiln does not run: refused by run, bench and eval (inspect still lists it).
"$edit" "$base" "$dir/gemma2.gguf" "set:general.architecture=str:gemma2" || fail "gguf_edit gemma2"
msg='gemma2.gguf: architecture "gemma2" is not one kiln runs \(llama, qwen2, qwen3\)'
expect arch_unknown-run 1 "$msg" -- "$kiln" run "$dir/gemma2.gguf" --tokens 1,2,3 --backend cpu
expect arch_unknown-bench 1 "$msg" -- "$kiln" bench model "$dir/gemma2.gguf" -p 4 -n 2 -r 1 --backend cpu --no-roofline
# Another architecture's name on a llama file: its keys are under another prefix, so missing.
lie arch_qwen2_keys "missing qwen2.embedding_length" "set:general.architecture=str:qwen2"
lie rope_freqs_shape "rope_freqs.weight is f32 \[256, 1\], expected f32 \[32\]" "copy:blk.0.attn_norm.weight=rope_freqs.weight"

# A token id past the vocabulary (512 ids: 0..511), in a prompt and as the first token.
expect token_past_vocab 1 "$base: token id 512 \(at 1\) is outside the vocabulary of 512" -- \
    "$kiln" run "$base" --tokens 1,512 --backend cpu
expect token_negative 2 "kiln run: --tokens: '-1' is not a token id" -- "$kiln" run "$base" --tokens 3,-1 --backend cpu
# context_length 2^31 is legal: run and bench model size their context from the work asked for.
"$edit" "$base" "$dir/ctx31.gguf" "set:llama.context_length=u32:2147483648" || fail "gguf_edit ctx31"
expect ctx31_run 0 "" -- "$kiln" run "$dir/ctx31.gguf" --tokens 1,2,3 --backend cpu
expect ctx31_bench 0 "" -- "$kiln" bench model "$dir/ctx31.gguf" -p 4 -n 2 -r 1 --backend cpu --no-roofline
# ...and a --ctx that the machine's memory cannot hold is refused before allocating, with numbers.
expect ctx_too_large 1 "ctx31.gguf: the model needs [0-9.]+ GiB on .* \(weights [0-9.]+, K/V cache [0-9.]+\), [0-9.]+ GiB are free" -- \
    "$kiln" run "$dir/ctx31.gguf" --tokens 1,2,3 --ctx 2000000000 --backend cpu
expect ctx_past_trained 1 "base.gguf: a context of 1000 tokens is longer than the model's 512" -- \
    "$kiln" run "$base" --tokens 1,2,3 --ctx 1000 --backend cpu

echo "model_lies: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
