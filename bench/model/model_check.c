// What a GGUF of an architecture kiln runs (llama, qwen2, qwen3) must say about itself before kiln allocates anything for it
// (model.h: kiln_model_check). A file whose metadata disagrees with its tensors is refused here,
// with the file, the key or tensor and what is wrong, in one line — never a crash, a huge
// allocation or a silently wrong model later. Everything is read from the metadata and tensor
// infos of the mapped file: nothing here allocates.
//
// Checked, in this order:
//   - general.architecture is llama, qwen2 or qwen3, whose prefix the keys below carry; the
//     hyperparameters are integers >= 1 (below 2^31); head_count_kv divides head_count;
//     the head size is attention.key_length (= value_length) or embedding_length / head_count;
//   - rope.dimension_count (default: the head size) is even, >= 2 and <= the head size;
//   - layer_norm_rms_epsilon and rope.freq_base are finite and > 0;
//   - config keys that change the model and that kiln does not implement (experts, rope
//     scaling) are refused by name;
//   - block_count matches the blk.N tensors the file holds (no block missing, none beyond);
//   - every tensor is one the architecture's graph uses (a bias on a llama, an expert tensor, a
//     q/k norm on a qwen2 is refused by name), of the shape the hyperparameters give, of a type
//     its op takes (norms and biases f32, matrices any type kiln can dequantize);
//     rope_freqs.weight (llama) holds rope.dimension_count/2 finite factors > 0;
//   - llama.vocab_size and the tokenizer's vocabulary, where present, equal token_embd's rows.
#include "bench/model/model.h"
#include "bench/model/model_tensors.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/file/gguf.h"

#define DIM_MAX ((int64_t)1 << 31)  // above any real model's dimension; keeps products in int64

// An integer key as int64, whatever integer type the writer chose; `fallback` < 0: required.
static enum kiln_status get_int(const struct kiln_gguf *g, const char *key, int64_t fallback, int64_t *out) {
    const struct kiln_gguf_kv *kv = kiln_gguf_find(g, key);
    if (!kv) {
        if (fallback < 0)
            return kiln_fail(KILN_E_FORMAT, "%s: missing %s", g->path, key);
        *out = fallback;
        return KILN_OK;
    }
    switch (kv->value.type) {
    case KILN_GGUF_UINT8: case KILN_GGUF_UINT16: case KILN_GGUF_UINT32: case KILN_GGUF_UINT64:
        *out = kv->value.u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)kv->value.u;
        return KILN_OK;
    case KILN_GGUF_INT8: case KILN_GGUF_INT16: case KILN_GGUF_INT32: case KILN_GGUF_INT64:
        *out = kv->value.i;
        return KILN_OK;
    default:
        return kiln_fail(KILN_E_FORMAT, "%s: %s has type %s, expected an integer", g->path, key,
                         kiln_gguf_type_name(kv->value.type));
    }
}

// A dimension: required, an integer in [1, 2^31).
static enum kiln_status get_dim(const struct kiln_gguf *g, const char *key, int64_t fallback, int64_t *out) {
    KILN_TRY(get_int(g, key, fallback, out));
    if (*out < 1 || *out >= DIM_MAX)
        return kiln_fail(KILN_E_FORMAT, "%s: %s is %" PRId64 ", expected 1 .. 2^31-1", g->path, key, *out);
    return KILN_OK;
}

static enum kiln_status get_positive_f32(const struct kiln_gguf *g, const char *key, float fallback, float *out) {
    const struct kiln_gguf_kv *kv = kiln_gguf_find(g, key);
    if (!kv) {
        if (isnan(fallback))
            return kiln_fail(KILN_E_FORMAT, "%s: missing %s", g->path, key);
        *out = fallback;
        return KILN_OK;
    }
    if (kv->value.type != KILN_GGUF_FLOAT32 && kv->value.type != KILN_GGUF_FLOAT64)
        return kiln_fail(KILN_E_FORMAT, "%s: %s has type %s, expected f32", g->path, key,
                         kiln_gguf_type_name(kv->value.type));
    *out = (float)kv->value.f;
    if (!isfinite(*out) || !(*out > 0))
        return kiln_fail(KILN_E_FORMAT, "%s: %s is %g, expected a finite number > 0", g->path, key, kv->value.f);
    return KILN_OK;
}

// The architecture's key: "<arch>.<suffix>" (llama.block_count, qwen2.block_count, ...).
static const char *akey(const struct kiln_model_info *c, const char *suffix, char *buf, size_t size) {
    snprintf(buf, size, "%s.%s", kiln_arch_name(c->arch), suffix);
    return buf;
}

// Keys that change the model's arithmetic in ways the runner does not implement.
static enum kiln_status refuse_unimplemented_keys(const struct kiln_gguf *g, const struct kiln_model_info *c) {
    char k[96];
    int64_t experts = 0;
    KILN_TRY(get_int(g, akey(c, "expert_count", k, sizeof k), 0, &experts));
    if (experts > 0)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: %s is %" PRId64 ": mixture-of-experts models are "
                         "not implemented", g->path, k, experts);
    const struct kiln_gguf_kv *type = kiln_gguf_find(g, akey(c, "rope.scaling.type", k, sizeof k));
    if (type && !(type->value.type == KILN_GGUF_STRING && type->value.str.len == 4 && !memcmp(type->value.str.data, "none", 4)))
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: %s is set: rope scaling of that kind is not implemented "
                         "(llama3's rope_freqs.weight is)", g->path, k);
    const struct kiln_gguf_kv *factor = kiln_gguf_find(g, akey(c, "rope.scaling.factor", k, sizeof k));
    if (factor && !((factor->value.type == KILN_GGUF_FLOAT32 || factor->value.type == KILN_GGUF_FLOAT64) &&
                    (factor->value.f == 0.0 || factor->value.f == 1.0)))
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: %s is set: rope scaling is not implemented", g->path, k);
    static const char *const refused[] = { "attention.sliding_window", "attn_logit_softcapping",
                                           "final_logit_softcapping", "attention.clamp_kqv" };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (kiln_gguf_find(g, akey(c, refused[i], k, sizeof k)))
            return kiln_fail(KILN_E_UNSUPPORTED, "%s: %s is set: not implemented by kiln's %s graph", g->path, k,
                             kiln_arch_name(c->arch));
    return KILN_OK;
}

static bool arch_of(const struct kiln_gguf *g, enum kiln_arch *out) {
    const struct kiln_gguf_kv *arch = kiln_gguf_find(g, "general.architecture");
    return arch && arch->value.type == KILN_GGUF_STRING &&
           kiln_arch_from_name(arch->value.str.data, arch->value.str.len, out);
}

bool kiln_model_is_runnable(const struct kiln_gguf *g) {
    enum kiln_arch a;
    return arch_of(g, &a);
}

static enum kiln_status read_hparams(const struct kiln_gguf *g, struct kiln_model_info *c) {
    if (!arch_of(g, &c->arch)) {
        const struct kiln_gguf_kv *arch = kiln_gguf_find(g, "general.architecture");
        if (arch && arch->value.type == KILN_GGUF_STRING)
            return kiln_fail(KILN_E_UNSUPPORTED, "%s: architecture \"%.*s\" is not one kiln runs (llama, qwen2, qwen3)",
                             g->path, (int)(arch->value.str.len < 64 ? arch->value.str.len : 64), arch->value.str.data);
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: no general.architecture string: not a model kiln runs", g->path);
    }
    char k[96];
    KILN_TRY(get_dim(g, akey(c, "embedding_length", k, sizeof k), -1, &c->n_embd));
    KILN_TRY(get_dim(g, akey(c, "block_count", k, sizeof k), -1, &c->n_layer));
    KILN_TRY(get_dim(g, akey(c, "attention.head_count", k, sizeof k), -1, &c->n_head));
    KILN_TRY(get_dim(g, akey(c, "attention.head_count_kv", k, sizeof k), c->n_head, &c->n_head_kv));
    KILN_TRY(get_dim(g, akey(c, "feed_forward_length", k, sizeof k), -1, &c->n_ff));
    if (c->n_head % c->n_head_kv)
        return kiln_fail(KILN_E_FORMAT, "%s: %s.attention.head_count_kv = %" PRId64 " does not divide "
                         "%s.attention.head_count = %" PRId64, g->path, kiln_arch_name(c->arch), c->n_head_kv,
                         kiln_arch_name(c->arch), c->n_head);
    // head size: attention.key_length where given (Qwen3, Mistral Nemo, Llama 3.2), else embd / heads
    const bool explicit_hd = kiln_gguf_find(g, akey(c, "attention.key_length", k, sizeof k)) != NULL;
    if (!explicit_hd && c->n_embd % c->n_head)
        return kiln_fail(KILN_E_FORMAT, "%s: %s.attention.head_count = %" PRId64 " does not divide "
                         "%s.embedding_length = %" PRId64, g->path, kiln_arch_name(c->arch), c->n_head,
                         kiln_arch_name(c->arch), c->n_embd);
    KILN_TRY(get_dim(g, k, c->n_embd / c->n_head, &c->head_dim));
    int64_t v_len = c->head_dim;
    KILN_TRY(get_dim(g, akey(c, "attention.value_length", k, sizeof k), c->head_dim, &v_len));
    if (v_len != c->head_dim)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: %s = %" PRId64 " differs from attention.key_length = %" PRId64
                         ": not implemented", g->path, k, v_len, c->head_dim);
    KILN_TRY(get_int(g, akey(c, "rope.dimension_count", k, sizeof k), c->head_dim, &c->rope_dims));
    if (c->rope_dims < 2 || c->rope_dims > c->head_dim || c->rope_dims % 2)
        return kiln_fail(KILN_E_FORMAT, "%s: %s is %" PRId64 ", expected an even number in "
                         "2 .. the head size %" PRId64, g->path, k, c->rope_dims, c->head_dim);
    KILN_TRY(get_positive_f32(g, akey(c, "attention.layer_norm_rms_epsilon", k, sizeof k), NAN, &c->rms_eps));
    KILN_TRY(get_positive_f32(g, akey(c, "rope.freq_base", k, sizeof k), 10000.0f, &c->rope_base));
    KILN_TRY(get_int(g, akey(c, "context_length", k, sizeof k), 0, &c->n_ctx_train));
    if (c->n_ctx_train < 0)
        return kiln_fail(KILN_E_FORMAT, "%s: %s is %" PRId64, g->path, k, c->n_ctx_train);
    KILN_TRY(refuse_unimplemented_keys(g, c));
    const struct kiln_gguf_kv *name = kiln_gguf_find(g, "general.name");
    if (name && name->value.type == KILN_GGUF_STRING)
        snprintf(c->name, sizeof c->name, "%.*s", (int)(name->value.str.len < 63 ? name->value.str.len : 63), name->value.str.data);
    return KILN_OK;
}

// rope_freqs.weight (llama only): [rope dims / 2] f32 divisors, each finite and > 0, kept in info.
static enum kiln_status read_rope_freqs(const struct kiln_gguf *g, struct kiln_model_info *c) {
    const struct kiln_gguf_tensor *t = kiln_gguf_find_tensor(g, "rope_freqs.weight");
    if (!t)
        return KILN_OK;
    if (c->arch != KILN_ARCH_LLAMA)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: tensor rope_freqs.weight is not part of the %s graph kiln runs",
                         g->path, kiln_arch_name(c->arch));
    const int64_t pairs = c->rope_dims / 2;
    if (t->type != KILN_TYPE_F32 || t->ne[0] != pairs || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1)
        return kiln_fail(KILN_E_FORMAT, "%s: rope_freqs.weight is %s [%" PRId64 ", %" PRId64 "], expected f32 [%" PRId64
                         "] (rope.dimension_count / 2)", g->path, kiln_type_name(t->type), t->ne[0], t->ne[1], pairs);
    if (pairs > KILN_ROPE_MAX_PAIRS)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: rope_freqs.weight has %" PRId64 " pairs, kiln's rope at most %d",
                         g->path, pairs, KILN_ROPE_MAX_PAIRS);
    const float *f = (const float *)t->data;
    for (int64_t i = 0; i < pairs; i++) {
        float v;
        memcpy(&v, f + i, sizeof v);  // the mapped file's data may be unaligned
        if (!(v > 0.0f) || !isfinite(v))
            return kiln_fail(KILN_E_FORMAT, "%s: rope_freqs.weight[%" PRId64 "] is %g, expected a finite number > 0",
                             g->path, i, (double)v);
        c->rope_freqs[i] = v;
    }
    c->has_rope_freqs = true;
    return KILN_OK;
}

const struct kiln_block_tensor_info kiln_block_tensors[KILN_BLK_COUNT] = {
    [KILN_BLK_ATTN_NORM] = { "attn_norm.weight", KILN_DIM_EMBD, KILN_DIM_ONE, false },
    [KILN_BLK_Q] = { "attn_q.weight", KILN_DIM_EMBD, KILN_DIM_Q, true },
    [KILN_BLK_K] = { "attn_k.weight", KILN_DIM_EMBD, KILN_DIM_KV, true },
    [KILN_BLK_V] = { "attn_v.weight", KILN_DIM_EMBD, KILN_DIM_KV, true },
    [KILN_BLK_O] = { "attn_output.weight", KILN_DIM_Q, KILN_DIM_EMBD, true },
    [KILN_BLK_FFN_NORM] = { "ffn_norm.weight", KILN_DIM_EMBD, KILN_DIM_ONE, false },
    [KILN_BLK_GATE] = { "ffn_gate.weight", KILN_DIM_EMBD, KILN_DIM_FF, true },
    [KILN_BLK_UP] = { "ffn_up.weight", KILN_DIM_EMBD, KILN_DIM_FF, true },
    [KILN_BLK_DOWN] = { "ffn_down.weight", KILN_DIM_FF, KILN_DIM_EMBD, true },
    [KILN_BLK_Q_BIAS] = { "attn_q.bias", KILN_DIM_Q, KILN_DIM_ONE, false },
    [KILN_BLK_K_BIAS] = { "attn_k.bias", KILN_DIM_KV, KILN_DIM_ONE, false },
    [KILN_BLK_V_BIAS] = { "attn_v.bias", KILN_DIM_KV, KILN_DIM_ONE, false },
    [KILN_BLK_Q_NORM] = { "attn_q_norm.weight", KILN_DIM_HEAD, KILN_DIM_ONE, false },
    [KILN_BLK_K_NORM] = { "attn_k_norm.weight", KILN_DIM_HEAD, KILN_DIM_ONE, false },
};

int64_t kiln_model_dim(const struct kiln_model_info *c, enum kiln_model_dim d) {
    switch (d) {
    case KILN_DIM_EMBD: return c->n_embd;
    case KILN_DIM_Q: return c->n_head * c->head_dim;
    case KILN_DIM_KV: return c->n_head_kv * c->head_dim;
    case KILN_DIM_FF: return c->n_ff;
    case KILN_DIM_HEAD: return c->head_dim;
    default: return 1;
    }
}

// One tensor the graph uses: present (unless optional), [ne0, ne1], a type its op takes.
static enum kiln_status check_tensor(const struct kiln_gguf *g, const char *name, int64_t ne0, int64_t ne1,
                                     bool matrix, bool optional) {
    const struct kiln_gguf_tensor *t = kiln_gguf_find_tensor(g, name);
    if (!t)
        return optional ? KILN_OK : kiln_fail(KILN_E_FORMAT, "%s: missing tensor %s", g->path, name);
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
        return kiln_fail(KILN_E_FORMAT, "%s: tensor %s is [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "], "
                         "expected [%" PRId64 ", %" PRId64 "] from the metadata", g->path, name,
                         t->ne[0], t->ne[1], t->ne[2], t->ne[3], ne0, ne1);
    if (!matrix && t->type != KILN_TYPE_F32)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: tensor %s is %s; norms and biases are f32 only", g->path, name,
                         kiln_type_name(t->type));
    if (!kiln_type_can_dequantize(t->type))
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: tensor %s is %s, which kiln cannot compute with yet", g->path,
                         name, kiln_type_name(t->type));
    return KILN_OK;
}

// blk.N.SUFFIX -> N and the suffix's index, for the suffixes of arch's block; false otherwise.
static bool parse_block_name(const char *name, enum kiln_arch arch, int64_t *block, size_t *which) {
    if (strncmp(name, "blk.", 4))
        return false;
    char *end;
    const long long n = strtoll(name + 4, &end, 10);
    if (end == name + 4 || *end != '.' || n < 0 || name[4] == '-' || name[4] == '+')
        return false;
    for (size_t i = 0; i < KILN_BLK_COUNT; i++)
        if (kiln_block_tensor_in((enum kiln_block_tensor)i, arch) && !strcmp(end + 1, kiln_block_tensors[i].suffix)) {
            *block = n;
            *which = i;
            return true;
        }
    return false;
}

static enum kiln_status check_tensors(const struct kiln_gguf *g, const struct kiln_model_info *c) {
    // Every tensor is one the graph reads; the blocks present say what block_count must be.
    int64_t last_block = -1;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const char *name = g->tensors[i].name;
        int64_t block;
        size_t which;
        if (parse_block_name(name, c->arch, &block, &which)) {
            last_block = block > last_block ? block : last_block;
        } else if (strcmp(name, "token_embd.weight") && strcmp(name, "output_norm.weight") && strcmp(name, "output.weight") &&
                   !(c->arch == KILN_ARCH_LLAMA && !strcmp(name, "rope_freqs.weight"))) {
            return kiln_fail(KILN_E_UNSUPPORTED, "%s: tensor %s is not part of the %s graph kiln runs "
                             "(not implemented; refusing rather than ignoring it)", g->path, name,
                             kiln_arch_name(c->arch));
        }
    }
    if (last_block + 1 != c->n_layer)
        return kiln_fail(KILN_E_FORMAT, "%s: %s.block_count is %" PRId64 " but the file has tensors for %" PRId64
                         " block(s) (blk.0 .. blk.%" PRId64 ")", g->path, kiln_arch_name(c->arch), c->n_layer,
                         last_block + 1, last_block);
    KILN_TRY(check_tensor(g, "token_embd.weight", c->n_embd, c->n_vocab, true, false));
    KILN_TRY(check_tensor(g, "output_norm.weight", c->n_embd, 1, false, false));
    KILN_TRY(check_tensor(g, "output.weight", c->n_embd, c->n_vocab, true, true));
    for (int64_t l = 0; l < c->n_layer; l++)
        for (size_t i = 0; i < KILN_BLK_COUNT; i++) {
            if (!kiln_block_tensor_in((enum kiln_block_tensor)i, c->arch))
                continue;
            char name[96];
            snprintf(name, sizeof name, "blk.%" PRId64 ".%s", l, kiln_block_tensors[i].suffix);
            const struct kiln_block_tensor_info *b = &kiln_block_tensors[i];
            KILN_TRY(check_tensor(g, name, kiln_model_dim(c, b->ne0), kiln_model_dim(c, b->ne1), b->matrix, false));
        }
    return KILN_OK;
}

enum kiln_status kiln_model_check(const struct kiln_gguf *g, struct kiln_model_info *c) {
    memset(c, 0, sizeof *c);
    KILN_TRY(read_hparams(g, c));
    const struct kiln_gguf_tensor *emb = kiln_gguf_find_tensor(g, "token_embd.weight");
    if (!emb)
        return kiln_fail(KILN_E_FORMAT, "%s: missing tensor token_embd.weight", g->path);
    c->n_vocab = emb->ne[1];
    int64_t vocab_size = 0;
    char k[96];
    KILN_TRY(get_int(g, akey(c, "vocab_size", k, sizeof k), 0, &vocab_size));
    if (vocab_size && vocab_size != c->n_vocab)
        return kiln_fail(KILN_E_FORMAT, "%s: %s is %" PRId64 " but token_embd.weight has %" PRId64
                         " rows", g->path, k, vocab_size, c->n_vocab);
    const struct kiln_gguf_kv *tokens = kiln_gguf_find(g, "tokenizer.ggml.tokens");
    if (tokens && tokens->value.type == KILN_GGUF_ARRAY && tokens->value.arr.n != (uint64_t)c->n_vocab)
        return kiln_fail(KILN_E_FORMAT, "%s: tokenizer.ggml.tokens has %" PRIu64 " tokens but token_embd.weight has "
                         "%" PRId64 " rows", g->path, tokens->value.arr.n, c->n_vocab);
    KILN_TRY(read_rope_freqs(g, c));
    return check_tensors(g, c);
}
