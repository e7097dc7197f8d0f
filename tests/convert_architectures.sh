#!/usr/bin/env bash
# convert_architectures.sh KILN WORKDIR: the converter per architecture, and its refusals.
#   - tiny-qwen2 converts to general.architecture qwen2 with its biases (attn_q/k/v.bias);
#     tiny-qwen3 to qwen3 with attn_q_norm/attn_k_norm and key_length; tiny-llama3 to llama with
#     rope_freqs.weight; each then runs (kiln run).
#   - a Qwen2 checkpoint whose config.json says Llama (the bug this guards against: the biases
#     used to be skipped with a note, giving a different model) is refused naming the bias;
#   - every graph-changing config field kiln does not implement is refused naming it;
#   - contradictory fields (kv heads, head_dim or vocab_size against the tensors) name the field;
#   - a vendor's bookkeeping key converts with a note; Mistral's sliding window caps the context.
# Every refusal: exit 1, one line on stderr naming the field or tensor, no output file.
set -u
kiln=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
passed=0

for p in tiny tiny-qwen2 tiny-qwen3 tiny-llama3; do
    "$kiln" synth --preset "$p" -o "$dir/$p" >/dev/null || fail "synth $p"
done

# converts, and `kiln inspect` shows what it must hold ($2: extended regexes, all must match)
converts() {
    local name=$1 src=$2
    shift 2
    "$kiln" convert "$src" -o "$dir/$name.gguf" --type q8_0 --no-progress >"$dir/$name.log" 2>&1 ||
        fail "$name: convert failed: $(cat "$dir/$name.log")"
    local out
    out=$("$kiln" inspect "$dir/$name.gguf" --tensors) || fail "$name: inspect"
    for re in "$@"; do
        grep -qE "$re" <<<"$out" || fail "$name: inspect shows no /$re/"
    done
    "$kiln" run "$dir/$name.gguf" --tokens 1,2,3 --backend cpu >/dev/null 2>&1 || fail "$name: kiln run failed"
    passed=$((passed + 1))
}
converts qwen2 "$dir/tiny-qwen2" 'general.architecture +string +"qwen2"' 'blk\.1\.attn_q\.bias' 'blk\.0\.attn_v\.bias' \
    'qwen2\.attention\.head_count_kv +u32 +2'
converts qwen3 "$dir/tiny-qwen3" '"qwen3"' 'blk\.0\.attn_q_norm\.weight' 'blk\.1\.attn_k_norm\.weight' \
    'qwen3\.attention\.key_length +u32 +64'
converts llama3 "$dir/tiny-llama3" '"llama"' 'rope_freqs\.weight' 'llama\.attention\.key_length +u32 +48'

# refused SRC NAME REGEX: exit 1, one stderr line matching REGEX, no output file
refused() {
    local name=$1 src=$2 regex=$3
    local err rc
    err=$("$kiln" convert "$src" -o "$dir/$name.gguf" --type q8_0 --no-progress 2>&1 >/dev/null)
    rc=$?
    [ "$rc" = 1 ] || fail "$name: exit $rc, expected 1 ($err)"
    [ "$(grep -c . <<<"$err")" = 1 ] || fail "$name: expected one line on stderr, got: $err"
    grep -qE "$regex" <<<"$err" || fail "$name: stderr /$regex/ not found in: $err"
    [ ! -e "$dir/$name.gguf" ] || fail "$name: left an output file"
    ls "$dir" | grep -q "$name.gguf.tmp" && fail "$name: left a temporary file"
    passed=$((passed + 1))
}
# variant NAME FROM SED-SCRIPT: a copy of preset folder FROM with its config.json edited
variant() {
    rm -rf "${dir:?}/$1" && cp -r "$dir/$2" "$dir/$1" && sed -i "$3" "$dir/$1/config.json" || fail "variant $1"
}
add_key() { variant "$1" "$2" "1a\\\t$3,"; }  # a key and value after the opening brace

variant qwen2_as_llama tiny-qwen2 's/"Qwen2ForCausalLM"/"LlamaForCausalLM"/; s/"model_type":\t"qwen2"/"model_type":\t"llama"/'
refused qwen2_as_llama "$dir/qwen2_as_llama" 'tensor model\.layers\.0\.self_attn\.q_proj\.bias is not part of the llama graph'
variant arch_gemma tiny 's/"LlamaForCausalLM"/"GemmaForCausalLM"/'
refused arch_gemma "$dir/arch_gemma" 'architecture "GemmaForCausalLM" is not one kiln implements'
variant model_type_lie tiny 's/"model_type":\t"llama"/"model_type":\t"qwen2"/'
refused model_type_lie "$dir/model_type_lie" '"model_type" is "qwen2" but architectures says LlamaForCausalLM'
variant attn_bias tiny 's/"attention_bias":\tfalse/"attention_bias":\ttrue/'
refused attn_bias "$dir/attn_bias" '"attention_bias" is true'
add_key mlp_bias tiny '"mlp_bias": true'
refused mlp_bias "$dir/mlp_bias" '"mlp_bias" is true'
variant gelu tiny 's/"hidden_act":\t"silu"/"hidden_act":\t"gelu"/'
refused gelu "$dir/gelu" '"hidden_act" is gelu'
variant yarn tiny 's/"rope_scaling":\tnull/"rope_scaling": {"rope_type": "yarn", "factor": 4.0}/'
refused yarn "$dir/yarn" '"rope_scaling" of type "yarn"'
variant llama3_on_qwen tiny-qwen2 's/"rope_scaling":\tnull/"rope_scaling": {"rope_type": "llama3", "factor": 8.0}/'
refused llama3_on_qwen "$dir/llama3_on_qwen" '"rope_scaling" of type "llama3" \(on qwen2\)'
add_key experts tiny '"num_local_experts": 8'
refused experts "$dir/experts" '"num_local_experts" is set: mixture-of-experts'
variant qwen_swa tiny-qwen2 's/"use_sliding_window":\tfalse/"use_sliding_window":\ttrue/'
refused qwen_swa "$dir/qwen_swa" '"use_sliding_window" is set: sliding-window attention'
add_key layer_types tiny '"layer_types": ["full_attention", "sliding_attention"]'
refused layer_types "$dir/layer_types" '"layer_types" lists sliding_attention'
add_key softcap tiny '"attn_logit_softcapping": 50.0'
refused softcap "$dir/softcap" 'unknown key "attn_logit_softcapping" may change the model'
add_key quantized tiny '"quantization_config": {"quant_method": "gptq", "bits": 4}'
refused quantized "$dir/quantized" '"quantization_config" is set: pre-quantized'
add_key partial tiny '"partial_rotary_factor": 0.5'
refused partial "$dir/partial" '"partial_rotary_factor" is not 1'
# contradictions between config.json and the tensors
variant kv3 tiny 's/"num_key_value_heads":\t2/"num_key_value_heads":\t3/'
refused kv3 "$dir/kv3" 'num_key_value_heads = 3 does not divide num_attention_heads = 4'
add_key head_dim tiny '"head_dim": 32'
refused head_dim "$dir/head_dim" 'model\.layers\.0\.self_attn\.q_proj\.weight is \[256, 256\], config\.json implies \[128, 256\]'
variant vocab tiny 's/"vocab_size":\t512/"vocab_size":\t600/'
refused vocab "$dir/vocab" 'model\.embed_tokens\.weight is \[512, 256\], config\.json implies \[600, 256\]'
variant untied_no_head tiny-qwen2 's/"tie_word_embeddings":\ttrue/"tie_word_embeddings":\tfalse/'
refused untied_no_head "$dir/untied_no_head" 'missing tensor lm_head\.weight'

# tokenizer.json whose pre-tokenizer or normalizer kiln does not know: refused (another model's
# tokenizer.ggml.pre would make llama.cpp and kiln split text differently).
tok_variant() {
    rm -rf "${dir:?}/$1" && cp -r "$dir/tiny" "$dir/$1" &&
        sed -i "s/^{\"version\":\"1.0\",/{\"version\":\"1.0\",$2,/" "$dir/$1/tokenizer.json" || fail "tok_variant $1"
}
tok_variant pre_whitespace '"pre_tokenizer":{"type":"Whitespace"}'
refused pre_whitespace "$dir/pre_whitespace" 'pre_tokenizer Whitespace is not one kiln knows'
tok_variant pre_regex '"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\\\w+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]}'
refused pre_regex "$dir/pre_regex" 'pre_tokenizer regex .* is not one kiln knows'
tok_variant lowercase '"normalizer":{"type":"Lowercase"}'
refused lowercase "$dir/lowercase" 'normalizer Lowercase is not implemented by kiln'
rm -rf "${dir:?}/unigram" && cp -r "$dir/tiny" "$dir/unigram" && sed -i 's/"type":"BPE"/"type":"Unigram"/' "$dir/unigram/tokenizer.json"
refused unigram "$dir/unigram" 'model.type "Unigram" is not a tokenizer kiln converts'

# A key that does not suggest the graph: converted, with a note naming it.
add_key vendor tiny '"unsloth_version": "2024.9"'
"$kiln" convert "$dir/vendor" -o "$dir/vendor.gguf" --type q8_0 --no-progress >/dev/null 2>"$dir/vendor.log" ||
    fail "vendor key: convert failed: $(cat "$dir/vendor.log")"
grep -q 'note: config.json keys kiln does not know, read as not changing the model: unsloth_version' "$dir/vendor.log" ||
    fail "vendor key: no note: $(cat "$dir/vendor.log")"
passed=$((passed + 1))

# Mistral with a sliding window shorter than max_position_embeddings: context_length capped there.
add_key mistral tiny '"sliding_window": 128'
sed -i 's/"LlamaForCausalLM"/"MistralForCausalLM"/; s/"model_type":\t"llama"/"model_type":\t"mistral"/' "$dir/mistral/config.json"
converts mistral "$dir/mistral" 'llama\.context_length +u32 +128'
grep -q 'sliding_window = 128 < max_position_embeddings = 512' "$dir/mistral.log" || fail "mistral: no note on the window"

echo "convert_architectures: $passed passed"
