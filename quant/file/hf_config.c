// Hugging Face config.json: reading with refusals, writing for kiln synth, presets (hf_config.h).
//
// Every key of config.json falls in one of four classes:
//   - read: the hyperparameters and the graph switches kiln implements (below, parse());
//   - refused by value: a graph switch set to something kiln does not implement (a bias, a
//     rope scaling kind, experts, sliding windows, an activation) is an error naming it;
//   - harmless: keys that do not change the computed logits (token ids, dtype, generation
//     defaults, attention implementation choice) are accepted silently (harmless_keys);
//   - unknown: refused if the name suggests the graph (it mentions experts, rope, norms, biases,
//     scales, windows, layers, heads ...: suspicious_words), else listed as a note.
// So a config with a field that would make the converted GGUF a different model than the
// checkpoint never converts; one with a vendor's bookkeeping key ("unsloth_version") does.
#include "quant/file/hf_config.h"
#include "quant/file/file_read.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const arch_names[KILN_ARCH_COUNT] = { "llama", "qwen2", "qwen3" };

const char *kiln_arch_name(enum kiln_arch arch) {
    return (unsigned)arch < KILN_ARCH_COUNT ? arch_names[arch] : "?";
}

bool kiln_arch_from_name(const char *name, size_t len, enum kiln_arch *out) {
    for (int a = 0; a < KILN_ARCH_COUNT; a++)
        if (strlen(arch_names[a]) == len && !memcmp(arch_names[a], name, len)) {
            *out = (enum kiln_arch)a;
            return true;
        }
    return false;
}

bool kiln_arch_has_qkv_bias(enum kiln_arch arch) { return arch == KILN_ARCH_QWEN2; }
bool kiln_arch_has_qk_norm(enum kiln_arch arch) { return arch == KILN_ARCH_QWEN3; }

// The Hugging Face classes kiln converts, the architecture each becomes, and the model_type
// config.json must carry with it.
static const struct { const char *hf, *model_type; enum kiln_arch arch; } hf_archs[] = {
    { "LlamaForCausalLM", "llama", KILN_ARCH_LLAMA },
    { "MistralForCausalLM", "mistral", KILN_ARCH_LLAMA },
    { "Qwen2ForCausalLM", "qwen2", KILN_ARCH_QWEN2 },
    { "Qwen3ForCausalLM", "qwen3", KILN_ARCH_QWEN3 },
};

#define LLAMA3(f, lo, hi, orig) .rope_llama3 = true, .rope_factor = f, .rope_low_freq_factor = lo, \
    .rope_high_freq_factor = hi, .rope_original_max_pos = orig
static const struct kiln_model_config presets[] = {
    { .name = "micro", .hf_arch = "LlamaForCausalLM", .hidden = 64, .layers = 1, .heads = 2, .kv_heads = 1, .ffn = 128,
      .vocab = 64, .max_pos = 64, .rms_eps = 1e-5, .rope_theta = 10000.0, .tie_embeddings = true },
    { .name = "tiny", .hf_arch = "LlamaForCausalLM", .hidden = 256, .layers = 2, .heads = 4, .kv_heads = 2, .ffn = 512,
      .vocab = 512, .max_pos = 512, .rms_eps = 1e-5, .rope_theta = 10000.0 },
    { .name = "bench-2l", .hf_arch = "LlamaForCausalLM", .hidden = 2048, .layers = 2, .heads = 32, .kv_heads = 4,
      .ffn = 5632, .vocab = 32000, .max_pos = 2048, .rms_eps = 1e-5, .rope_theta = 10000.0 },
    { .name = "llama-1b", .hf_arch = "LlamaForCausalLM", .hidden = 2048, .layers = 16, .heads = 32, .kv_heads = 8,
      .ffn = 8192, .vocab = 128256, .max_pos = 131072, .rms_eps = 1e-5, .rope_theta = 500000.0, .tie_embeddings = true },
    { .name = "tinyllama-1.1b", .hf_arch = "LlamaForCausalLM", .hidden = 2048, .layers = 22, .heads = 32,
      .kv_heads = 4, .ffn = 5632, .vocab = 32000, .max_pos = 2048, .rms_eps = 1e-5, .rope_theta = 10000.0 },
    { .name = "llama-2-7b", .hf_arch = "LlamaForCausalLM", .hidden = 4096, .layers = 32, .heads = 32, .kv_heads = 32,
      .ffn = 11008, .vocab = 32000, .max_pos = 4096, .rms_eps = 1e-5, .rope_theta = 10000.0 },
    { .name = "llama-3-8b", .hf_arch = "LlamaForCausalLM", .hidden = 4096, .layers = 32, .heads = 32, .kv_heads = 8,
      .ffn = 14336, .vocab = 128256, .max_pos = 8192, .rms_eps = 1e-5, .rope_theta = 500000.0 },
    { .name = "llama-3.1-8b", .hf_arch = "LlamaForCausalLM", .hidden = 4096, .layers = 32, .heads = 32, .kv_heads = 8,
      .ffn = 14336, .vocab = 128256, .max_pos = 131072, .rms_eps = 1e-5, .rope_theta = 500000.0,
      LLAMA3(8.0, 1.0, 4.0, 8192) },
    { .name = "llama-3.2-1b", .hf_arch = "LlamaForCausalLM", .hidden = 2048, .layers = 16, .heads = 32, .kv_heads = 8,
      .ffn = 8192, .vocab = 128256, .max_pos = 131072, .head_dim = 64, .head_dim_explicit = true, .rms_eps = 1e-5,
      .rope_theta = 500000.0, .tie_embeddings = true, LLAMA3(32.0, 1.0, 4.0, 8192) },
    { .name = "mistral-7b", .hf_arch = "MistralForCausalLM", .hidden = 4096, .layers = 32, .heads = 32, .kv_heads = 8,
      .ffn = 14336, .vocab = 32768, .max_pos = 32768, .rms_eps = 1e-5, .rope_theta = 1000000.0 },
    { .name = "qwen2.5-0.5b", .arch = KILN_ARCH_QWEN2, .hf_arch = "Qwen2ForCausalLM", .hidden = 896, .layers = 24,
      .heads = 14, .kv_heads = 2, .ffn = 4864, .vocab = 151936, .max_pos = 32768, .rms_eps = 1e-6,
      .rope_theta = 1000000.0, .tie_embeddings = true },
    { .name = "qwen2.5-7b", .arch = KILN_ARCH_QWEN2, .hf_arch = "Qwen2ForCausalLM", .hidden = 3584, .layers = 28,
      .heads = 28, .kv_heads = 4, .ffn = 18944, .vocab = 152064, .max_pos = 32768, .rms_eps = 1e-6,
      .rope_theta = 1000000.0 },
    { .name = "qwen3-0.6b", .arch = KILN_ARCH_QWEN3, .hf_arch = "Qwen3ForCausalLM", .hidden = 1024, .layers = 28,
      .heads = 16, .kv_heads = 8, .ffn = 3072, .vocab = 151936, .max_pos = 40960, .head_dim = 128,
      .head_dim_explicit = true, .rms_eps = 1e-6, .rope_theta = 1000000.0, .tie_embeddings = true },
    { .name = "qwen3-8b", .arch = KILN_ARCH_QWEN3, .hf_arch = "Qwen3ForCausalLM", .hidden = 4096, .layers = 36,
      .heads = 32, .kv_heads = 8, .ffn = 12288, .vocab = 151936, .max_pos = 40960, .head_dim = 128,
      .head_dim_explicit = true, .rms_eps = 1e-6, .rope_theta = 1000000.0 },
    // Test shapes with each architecture's special parts: GQA 4:1, head_dim x heads != hidden,
    // llama3 frequency factors with all three regimes (wavelengths below 16, between, above 64).
    { .name = "tiny-llama3", .hf_arch = "LlamaForCausalLM", .hidden = 256, .layers = 2, .heads = 8, .kv_heads = 2,
      .ffn = 512, .vocab = 512, .max_pos = 512, .head_dim = 48, .head_dim_explicit = true, .rms_eps = 1e-5,
      .rope_theta = 500000.0, LLAMA3(8.0, 1.0, 4.0, 64) },
    { .name = "tiny-qwen2", .arch = KILN_ARCH_QWEN2, .hf_arch = "Qwen2ForCausalLM", .hidden = 256, .layers = 2,
      .heads = 8, .kv_heads = 2, .ffn = 512, .vocab = 512, .max_pos = 512, .rms_eps = 1e-6, .rope_theta = 1000000.0,
      .tie_embeddings = true },
    { .name = "tiny-qwen3", .arch = KILN_ARCH_QWEN3, .hf_arch = "Qwen3ForCausalLM", .hidden = 256, .layers = 2,
      .heads = 8, .kv_heads = 2, .ffn = 512, .vocab = 512, .max_pos = 512, .head_dim = 64, .head_dim_explicit = true,
      .rms_eps = 1e-6, .rope_theta = 1000000.0 },
    // The quantizer parity check's model (scripts/peer-quantize-check.sh): enough blocks for every
    // layer rule of llama-quantize's mixes to pick some and not others (n/16, n/8, use_more_bits),
    // GQA 4 (Q2_K's and IQ4's attn_v rules), an FFN width that is not whole 256-blocks (704 =
    // 22 x 32: the K-quant fallbacks on ffn_down) and untied embeddings.
    { .name = "quant-mix", .hf_arch = "LlamaForCausalLM", .hidden = 256, .layers = 16, .heads = 8, .kv_heads = 2,
      .ffn = 704, .vocab = 512, .max_pos = 512, .rms_eps = 1e-5, .rope_theta = 10000.0 },
};
#undef LLAMA3

bool kiln_model_preset(const char *name, struct kiln_model_config *out) {
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (!strcmp(presets[i].name, name)) {
            *out = presets[i];
            if (!out->head_dim)
                out->head_dim = out->hidden / out->heads;
            return true;
        }
    }
    return false;
}

const char *kiln_model_preset_names(void) {
    return "micro (fuzzing seeds: under 64 KiB as Q4_0), tiny, bench-2l (TinyLlama shapes, 2 layers), llama-1b, "
           "tinyllama-1.1b, llama-2-7b, llama-3-8b, llama-3.1-8b, llama-3.2-1b, mistral-7b, qwen2.5-0.5b, qwen2.5-7b, "
           "qwen3-0.6b, qwen3-8b; test shapes tiny-llama3, tiny-qwen2, tiny-qwen3, quant-mix";
}

float kiln_llama3_rope_factor(const struct kiln_model_config *c, int64_t i) {
    // HF transformers' _compute_llama3_parameters, per inverse frequency.
    const double freq = pow(c->rope_theta, -2.0 * (double)i / (double)c->head_dim);
    const double wavelen = 2.0 * M_PI / freq, old = (double)c->rope_original_max_pos;
    const double low_wavelen = old / c->rope_low_freq_factor, high_wavelen = old / c->rope_high_freq_factor;
    if (wavelen < high_wavelen)
        return 1.0f;
    if (wavelen > low_wavelen)
        return (float)c->rope_factor;
    const double smooth = (old / wavelen - c->rope_low_freq_factor) / (c->rope_high_freq_factor - c->rope_low_freq_factor);
    return (float)(1.0 / ((1.0 - smooth) / c->rope_factor + smooth));
}

int kiln_hf_tensors(const struct kiln_model_config *c, struct kiln_hf_tensor *out, int max) {
    const int64_t hd = c->head_dim, q = c->heads * hd, kv = c->kv_heads * hd;
    const bool bias = kiln_arch_has_qkv_bias(c->arch), qk_norm = kiln_arch_has_qk_norm(c->arch);
    int n = 0;
#define T1(nm, a) do { if (n < max) { out[n] = (struct kiln_hf_tensor){ .ndim = 1, .shape = { a, 0 } }; snprintf(out[n].name, sizeof out[n].name, "%s", nm); } n++; } while (0)
#define T2(nm, a, b) do { if (n < max) { out[n] = (struct kiln_hf_tensor){ .ndim = 2, .shape = { a, b } }; snprintf(out[n].name, sizeof out[n].name, "%s", nm); } n++; } while (0)
    T2("model.embed_tokens.weight", c->vocab, c->hidden);
    for (int64_t l = 0; l < c->layers; l++) {
        char nm[96];
#define L(suffix) (snprintf(nm, sizeof nm, "model.layers.%" PRId64 ".%s", l, suffix), nm)
        T1(L("input_layernorm.weight"), c->hidden);
        T2(L("self_attn.q_proj.weight"), q, c->hidden);
        if (bias)
            T1(L("self_attn.q_proj.bias"), q);
        T2(L("self_attn.k_proj.weight"), kv, c->hidden);
        if (bias)
            T1(L("self_attn.k_proj.bias"), kv);
        T2(L("self_attn.v_proj.weight"), kv, c->hidden);
        if (bias)
            T1(L("self_attn.v_proj.bias"), kv);
        T2(L("self_attn.o_proj.weight"), c->hidden, q);
        if (qk_norm) {
            T1(L("self_attn.q_norm.weight"), hd);
            T1(L("self_attn.k_norm.weight"), hd);
        }
        T1(L("post_attention_layernorm.weight"), c->hidden);
        T2(L("mlp.gate_proj.weight"), c->ffn, c->hidden);
        T2(L("mlp.up_proj.weight"), c->ffn, c->hidden);
        T2(L("mlp.down_proj.weight"), c->hidden, c->ffn);
#undef L
    }
    T1("model.norm.weight", c->hidden);
    if (!c->tie_embeddings)
        T2("lm_head.weight", c->vocab, c->hidden);
#undef T1
#undef T2
    return n;
}

static const char *model_type_of(const struct kiln_model_config *c) {
    for (size_t i = 0; i < sizeof hf_archs / sizeof hf_archs[0]; i++)
        if (!strcmp(hf_archs[i].hf, c->hf_arch))
            return hf_archs[i].model_type;
    return kiln_arch_name(c->arch);
}

enum kiln_status kiln_model_config_save(const struct kiln_model_config *c, const char *path) {
    cJSON *j = cJSON_CreateObject();
    cJSON *arch = cJSON_AddArrayToObject(j, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString(c->hf_arch[0] ? c->hf_arch : "LlamaForCausalLM"));
    cJSON_AddStringToObject(j, "model_type", model_type_of(c));
    cJSON_AddStringToObject(j, "_name_or_path", c->name);
    cJSON_AddNumberToObject(j, "hidden_size", (double)c->hidden);
    cJSON_AddNumberToObject(j, "num_hidden_layers", (double)c->layers);
    cJSON_AddNumberToObject(j, "num_attention_heads", (double)c->heads);
    cJSON_AddNumberToObject(j, "num_key_value_heads", (double)c->kv_heads);
    if (c->head_dim_explicit)
        cJSON_AddNumberToObject(j, "head_dim", (double)c->head_dim);
    cJSON_AddNumberToObject(j, "intermediate_size", (double)c->ffn);
    cJSON_AddNumberToObject(j, "vocab_size", (double)c->vocab);
    cJSON_AddNumberToObject(j, "max_position_embeddings", (double)c->max_pos);
    cJSON_AddNumberToObject(j, "rms_norm_eps", c->rms_eps);
    cJSON_AddNumberToObject(j, "rope_theta", c->rope_theta);
    if (c->rope_llama3) {
        cJSON *rs = cJSON_AddObjectToObject(j, "rope_scaling");
        cJSON_AddStringToObject(rs, "rope_type", "llama3");
        cJSON_AddNumberToObject(rs, "factor", c->rope_factor);
        cJSON_AddNumberToObject(rs, "low_freq_factor", c->rope_low_freq_factor);
        cJSON_AddNumberToObject(rs, "high_freq_factor", c->rope_high_freq_factor);
        cJSON_AddNumberToObject(rs, "original_max_position_embeddings", (double)c->rope_original_max_pos);
    } else {
        cJSON_AddNullToObject(j, "rope_scaling");
    }
    if (c->arch == KILN_ARCH_QWEN2 || c->arch == KILN_ARCH_QWEN3) {
        cJSON_AddBoolToObject(j, "use_sliding_window", false);
        cJSON_AddNumberToObject(j, "max_window_layers", (double)c->layers);
    }
    if (c->arch != KILN_ARCH_QWEN2)
        cJSON_AddBoolToObject(j, "attention_bias", false);
    cJSON_AddStringToObject(j, "hidden_act", "silu");
    cJSON_AddBoolToObject(j, "tie_word_embeddings", c->tie_embeddings);
    cJSON_AddStringToObject(j, "torch_dtype", "float16");
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    FILE *f = fopen(path, "w");
    const bool ok = f && fputs(text, f) >= 0;
    free(text);
    if (f && fclose(f) != 0)
        return kiln_fail(KILN_E_IO, "writing %s failed", path);
    return ok ? KILN_OK : kiln_fail(KILN_E_IO, "cannot write %s: %s", path, strerror(errno));
}

// ---- reading config.json ----

// Keys that do not change the logits a checkpoint computes: ids of special tokens, the stored
// dtype, generation defaults and PretrainedConfig's bookkeeping, the attention implementation
// HF picks (eager/sdpa/flash compute the same function), dropout (inference), tensor-parallel
// slicing of the pretraining run (pretraining_tp: the same matmuls, split).
static const char *const harmless_keys[] = {
    "_name_or_path", "transformers_version", "torch_dtype", "dtype", "bos_token_id", "eos_token_id",
    "pad_token_id", "sep_token_id", "decoder_start_token_id", "use_cache", "initializer_range",
    "attention_dropout", "pretraining_tp", "tokenizer_class", "return_dict", "output_hidden_states",
    "output_attentions", "torchscript", "is_decoder", "is_encoder_decoder", "add_cross_attention",
    "tie_encoder_decoder", "chunk_size_feed_forward", "use_bfloat16", "id2label", "label2id",
    "problem_type", "finetuning_task", "prefix", "task_specific_params", "max_length", "min_length",
    "do_sample", "early_stopping", "num_beams", "num_beam_groups", "diversity_penalty", "temperature",
    "top_k", "top_p", "typical_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size",
    "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences", "output_scores",
    "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id", "remove_invalid_values",
    "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens", "tf_legacy_loss",
    "_attn_implementation", "_attn_implementation_autoset", "attn_implementation", "bos_token",
    "eos_token", "pad_token", "unk_token", "cross_attention_hidden_size", "auto_map",
};

// Parts of names that suggest a key changes the graph: an unknown key containing one is
// refused rather than ignored.
static const char *const suspicious_words[] = {
    "expert", "moe", "router", "slid", "window", "rope", "rotary", "bias", "norm", "softcap", "logit",
    "scal", "multiplier", "alibi", "lora", "quant", "layer", "residual", "parallel", "clip", "attn",
    "attention", "head", "mlp", "ffn", "act", "embed", "shared", "sparse", "dense", "kv", "qk", "hidden",
    "intermediate", "position", "dim", "gate", "vocab", "tie",
};

// Keys parse() reads or judges by value.
static const char *const graph_keys[] = {
    "architectures", "model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "intermediate_size", "vocab_size", "max_position_embeddings", "rms_norm_eps",
    "rope_theta", "tie_word_embeddings", "head_dim", "rope_scaling", "rope_parameters", "hidden_act",
    "attention_bias", "mlp_bias", "sliding_window", "use_sliding_window", "max_window_layers", "layer_types",
    "partial_rotary_factor", "num_local_experts", "num_experts", "num_experts_per_tok", "moe_intermediate_size",
    "n_routed_experts", "n_shared_experts", "decoder_sparse_step", "shared_expert_intermediate_size",
    "quantization_config", "pruned_heads", "use_mrope",
};

static bool in_list(const char *key, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(key, list[i]))
            return true;
    return false;
}
#define IN(key, list) in_list(key, list, sizeof list / sizeof list[0])

static enum kiln_status get_int(const char *path, const cJSON *j, const char *key, int64_t *out,
                                int64_t fallback, bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return kiln_fail(KILN_E_FORMAT, "%s: missing \"%s\"", path, key);
        *out = fallback;
        return KILN_OK;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9 || v->valuedouble != (double)(int64_t)v->valuedouble)
        return kiln_fail(KILN_E_FORMAT, "%s: \"%s\" must be a positive integer", path, key);
    *out = (int64_t)v->valuedouble;
    return KILN_OK;
}

static enum kiln_status get_double(const char *path, const cJSON *j, const char *key, double *out,
                                   double fallback, bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return kiln_fail(KILN_E_FORMAT, "%s: missing \"%s\"", path, key);
        *out = fallback;
        return KILN_OK;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || !isfinite(v->valuedouble))
        return kiln_fail(KILN_E_FORMAT, "%s: \"%s\" must be a positive number", path, key);
    *out = v->valuedouble;
    return KILN_OK;
}

#define REFUSE(...) return kiln_fail(KILN_E_UNSUPPORTED, __VA_ARGS__)
#define NOT_IMPL "is not implemented by kiln; refusing rather than converting a different model"

static bool is_set(const cJSON *v) {  // present and not null/false/0/empty
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
        return false;
    if (cJSON_IsNumber(v))
        return v->valuedouble != 0;
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return v->child != NULL;
    return true;
}

static enum kiln_status parse_architecture(const char *path, const cJSON *j, struct kiln_model_config *c) {
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(j, "architectures");
    if (!cJSON_IsArray(archs) || cJSON_GetArraySize(archs) != 1 || !cJSON_IsString(archs->child))
        return kiln_fail(KILN_E_FORMAT, "%s: \"architectures\" must list exactly one model class "
                         "(e.g. [\"LlamaForCausalLM\"])", path);
    const char *hf = archs->child->valuestring;
    size_t i = 0;
    while (i < sizeof hf_archs / sizeof hf_archs[0] && strcmp(hf_archs[i].hf, hf))
        i++;
    if (i == sizeof hf_archs / sizeof hf_archs[0])
        REFUSE("%s: architecture \"%s\" is not one kiln implements (LlamaForCausalLM, MistralForCausalLM, "
               "Qwen2ForCausalLM, Qwen3ForCausalLM)", path, hf);
    c->arch = hf_archs[i].arch;
    snprintf(c->hf_arch, sizeof c->hf_arch, "%s", hf);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "model_type");
    if (mt && (!cJSON_IsString(mt) || strcmp(mt->valuestring, hf_archs[i].model_type)))
        return kiln_fail(KILN_E_FORMAT, "%s: \"model_type\" is %s%s%s but architectures says %s (model_type \"%s\")",
                         path, cJSON_IsString(mt) ? "\"" : "", cJSON_IsString(mt) ? mt->valuestring : "not a string",
                         cJSON_IsString(mt) ? "\"" : "", hf, hf_archs[i].model_type);
    return KILN_OK;
}

// rope_scaling (or transformers 5's rope_parameters): none, "default", or llama3 on llama.
static enum kiln_status parse_rope_scaling(const char *path, const cJSON *rs, const char *key,
                                           struct kiln_model_config *c) {
    if (!rs || cJSON_IsNull(rs))
        return KILN_OK;
    if (!cJSON_IsObject(rs))
        return kiln_fail(KILN_E_FORMAT, "%s: \"%s\" must be an object or null", path, key);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
    if (!type)
        type = cJSON_GetObjectItemCaseSensitive(rs, "type");
    const char *kind = cJSON_IsString(type) ? type->valuestring : NULL;
    if (!kind)
        return kiln_fail(KILN_E_FORMAT, "%s: \"%s\" has no \"rope_type\" string", path, key);
    if (!strcmp(kind, "default"))
        return KILN_OK;
    if (strcmp(kind, "llama3") || c->arch != KILN_ARCH_LLAMA)
        REFUSE("%s: \"%s\" of type \"%s\" (on %s) " NOT_IMPL " (kiln implements llama3 on Llama models)", path, key,
               kind, kiln_arch_name(c->arch));
    double orig = 0;
    KILN_TRY(get_double(path, rs, "factor", &c->rope_factor, 0, true));
    KILN_TRY(get_double(path, rs, "low_freq_factor", &c->rope_low_freq_factor, 0, true));
    KILN_TRY(get_double(path, rs, "high_freq_factor", &c->rope_high_freq_factor, 0, true));
    KILN_TRY(get_double(path, rs, "original_max_position_embeddings", &orig, 0, true));
    if (!(c->rope_high_freq_factor > c->rope_low_freq_factor))
        return kiln_fail(KILN_E_FORMAT, "%s: %s.high_freq_factor must exceed low_freq_factor", path, key);
    c->rope_original_max_pos = (int64_t)orig;
    c->rope_llama3 = true;
    return KILN_OK;
}

// Graph switches set to what kiln does not implement.
static enum kiln_status refuse_switches(const char *path, const cJSON *j, struct kiln_model_config *c) {
    static const char *const moe[] = { "num_local_experts", "num_experts", "num_experts_per_tok",
        "moe_intermediate_size", "n_routed_experts", "n_shared_experts", "shared_expert_intermediate_size" };
    for (size_t i = 0; i < sizeof moe / sizeof moe[0]; i++)
        if (is_set(cJSON_GetObjectItemCaseSensitive(j, moe[i])))
            REFUSE("%s: \"%s\" is set: mixture-of-experts " NOT_IMPL, path, moe[i]);
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(j, "hidden_act");
    if (act && !(cJSON_IsString(act) && !strcmp(act->valuestring, "silu")))
        REFUSE("%s: \"hidden_act\" is %s: kiln implements silu (SwiGLU) only", path,
               cJSON_IsString(act) ? act->valuestring : "not a string");
    if (is_set(cJSON_GetObjectItemCaseSensitive(j, "attention_bias")) && c->arch != KILN_ARCH_QWEN2)
        REFUSE("%s: \"attention_bias\" is true: biases on %s's attention projections " NOT_IMPL, path,
               kiln_arch_name(c->arch));
    if (is_set(cJSON_GetObjectItemCaseSensitive(j, "mlp_bias")))
        REFUSE("%s: \"mlp_bias\" is true: biases on the MLP projections " NOT_IMPL, path);
    static const char *const refused_if_set[][2] = {
        { "quantization_config", "pre-quantized checkpoints (GPTQ, AWQ, FP8, bitsandbytes)" },
        { "pruned_heads", "pruned attention heads" },
        { "use_mrope", "multimodal rope (mrope)" },
        { "use_sliding_window", "sliding-window attention" },
        { "decoder_sparse_step", "sparse (expert) layers" },
    };
    for (size_t i = 0; i < sizeof refused_if_set / sizeof refused_if_set[0]; i++)
        if (is_set(cJSON_GetObjectItemCaseSensitive(j, refused_if_set[i][0])))
            REFUSE("%s: \"%s\" is set: %s " NOT_IMPL, path, refused_if_set[i][0], refused_if_set[i][1]);
    const cJSON *prf = cJSON_GetObjectItemCaseSensitive(j, "partial_rotary_factor");
    if (prf && !(cJSON_IsNumber(prf) && prf->valuedouble == 1.0))
        REFUSE("%s: \"partial_rotary_factor\" is not 1: partial rotary embeddings " NOT_IMPL, path);
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(j, "layer_types");
    if (types && !cJSON_IsNull(types)) {
        const cJSON *t;
        if (!cJSON_IsArray(types))
            return kiln_fail(KILN_E_FORMAT, "%s: \"layer_types\" must be an array", path);
        cJSON_ArrayForEach(t, types)
            if (!cJSON_IsString(t) || strcmp(t->valuestring, "full_attention"))
                REFUSE("%s: \"layer_types\" lists %s: only full_attention layers are implemented by kiln", path,
                       cJSON_IsString(t) ? t->valuestring : "a non-string");
    }
    // Mistral's sliding window (HF applies it whenever it is set; Qwen only with
    // use_sliding_window, refused above). Attention inside a window as long as the context is
    // full attention: the caller caps the context there instead of refusing the model.
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(j, "sliding_window");
    if (c->arch == KILN_ARCH_LLAMA && sw && !cJSON_IsNull(sw)) {
        if (!cJSON_IsNumber(sw) || sw->valuedouble < 1)
            return kiln_fail(KILN_E_FORMAT, "%s: \"sliding_window\" must be a positive integer or null", path);
        if ((int64_t)sw->valuedouble < c->max_pos)
            c->sliding_window = (int64_t)sw->valuedouble;
    }
    return KILN_OK;
}

static enum kiln_status judge_other_keys(const char *path, const cJSON *j, char *notes, size_t notes_size) {
    size_t len = 0;
    if (notes && notes_size)
        notes[0] = 0;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, j) {
        const char *key = kv->string;
        if (IN(key, graph_keys) || IN(key, harmless_keys))
            continue;
        for (size_t w = 0; w < sizeof suspicious_words / sizeof suspicious_words[0]; w++)
            if (strstr(key, suspicious_words[w]))
                REFUSE("%s: unknown key \"%s\" may change the model (kiln does not know it): not converting", path, key);
        if (notes && len + strlen(key) + 3 < notes_size)
            len += (size_t)snprintf(notes + len, notes_size - len, "%s%s", len ? ", " : "", key);
    }
    return KILN_OK;
}

static enum kiln_status parse(const char *path, const cJSON *j, struct kiln_model_config *c, char *notes,
                              size_t notes_size) {
    if (!cJSON_IsObject(j))
        return kiln_fail(KILN_E_FORMAT, "%s: not a JSON object", path);
    KILN_TRY(parse_architecture(path, j, c));
    KILN_TRY(get_int(path, j, "hidden_size", &c->hidden, 0, true));
    KILN_TRY(get_int(path, j, "num_hidden_layers", &c->layers, 0, true));
    KILN_TRY(get_int(path, j, "num_attention_heads", &c->heads, 0, true));
    KILN_TRY(get_int(path, j, "num_key_value_heads", &c->kv_heads, c->heads, false));
    KILN_TRY(get_int(path, j, "intermediate_size", &c->ffn, 0, true));
    KILN_TRY(get_int(path, j, "vocab_size", &c->vocab, 0, true));
    KILN_TRY(get_int(path, j, "max_position_embeddings", &c->max_pos, 2048, false));
    KILN_TRY(get_double(path, j, "rms_norm_eps", &c->rms_eps, 0, true));
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(j, "rope_parameters");
    double theta_default = 10000.0;
    if (cJSON_IsObject(rp))
        KILN_TRY(get_double(path, rp, "rope_theta", &theta_default, 10000.0, false));
    KILN_TRY(get_double(path, j, "rope_theta", &c->rope_theta, theta_default, false));
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(j, "tie_word_embeddings");
    if (tie && !cJSON_IsBool(tie))
        return kiln_fail(KILN_E_FORMAT, "%s: \"tie_word_embeddings\" must be true or false", path);
    c->tie_embeddings = cJSON_IsTrue(tie);
    // Qwen3Config's head_dim defaults to 128; the others' to hidden / heads.
    const bool hd_given = cJSON_GetObjectItemCaseSensitive(j, "head_dim") &&
                          !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "head_dim"));
    if (c->heads % c->kv_heads)
        return kiln_fail(KILN_E_FORMAT, "%s: num_key_value_heads = %" PRId64 " does not divide num_attention_heads = %"
                         PRId64, path, c->kv_heads, c->heads);
    if (!hd_given && c->arch != KILN_ARCH_QWEN3 && c->hidden % c->heads)
        return kiln_fail(KILN_E_FORMAT, "%s: num_attention_heads = %" PRId64 " does not divide hidden_size = %" PRId64
                         " (and no head_dim is given)", path, c->heads, c->hidden);
    KILN_TRY(get_int(path, j, "head_dim", &c->head_dim, c->arch == KILN_ARCH_QWEN3 ? 128 : c->hidden / c->heads, false));
    c->head_dim_explicit = hd_given || c->arch == KILN_ARCH_QWEN3;
    if (c->head_dim % 2)
        return kiln_fail(KILN_E_FORMAT, "%s: head_dim = %" PRId64 " is odd (rope rotates pairs)", path, c->head_dim);
    KILN_TRY(parse_rope_scaling(path, cJSON_GetObjectItemCaseSensitive(j, "rope_scaling"), "rope_scaling", c));
    if (!c->rope_llama3 && cJSON_IsObject(rp))
        KILN_TRY(parse_rope_scaling(path, rp, "rope_parameters", c));
    KILN_TRY(refuse_switches(path, j, c));
    return judge_other_keys(path, j, notes, notes_size);
}

enum kiln_status kiln_model_config_load(const char *dir, struct kiln_model_config *out, char *notes,
                                        size_t notes_size) {
    memset(out, 0, sizeof *out);
    if (notes && notes_size)
        notes[0] = 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    cJSON *j;
    KILN_TRY(kiln_load_json_file(path, (size_t)16 << 20, &j));
    const enum kiln_status s = parse(path, j, out, notes, notes_size);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "_name_or_path");
    const char *slash = strrchr(dir, '/');
    snprintf(out->name, sizeof out->name, "%s", cJSON_IsString(name) ? name->valuestring : slash ? slash + 1 : dir);
    cJSON_Delete(j);
    return s;
}
