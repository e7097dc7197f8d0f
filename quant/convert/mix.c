// llama-quantize's mixes and per-tensor rules (mix.h). Each rule below is the branch of
// llama_tensor_get_type_impl (llama-cpp-python 0.3.36, vendor/llama.cpp/src/llama-quant.cpp) for
// the file types kiln writes, in the same order, so that a change there is easy to follow here.
#include "quant/convert/mix.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct kiln_mix MIXES[] = {
    { "F32", KILN_FTYPE_F32, KILN_TYPE_F32, "32-bit floats" },
    { "F16", KILN_FTYPE_F16, KILN_TYPE_F16, "16-bit floats" },
    { "BF16", KILN_FTYPE_BF16, KILN_TYPE_BF16, "bfloat16" },
    { "Q8_0", KILN_FTYPE_Q8_0, KILN_TYPE_Q8_0, "8.50 bpw" },
    { "Q6_K", KILN_FTYPE_Q6_K, KILN_TYPE_Q6_K, "6.56 bpw" },
    { "Q5_K_M", KILN_FTYPE_Q5_K_M, KILN_TYPE_Q5_K, "Q5_K, Q6_K for half of attn_v/ffn_down" },
    { "Q5_K_S", KILN_FTYPE_Q5_K_S, KILN_TYPE_Q5_K, "Q5_K" },
    { "Q5_1", KILN_FTYPE_Q5_1, KILN_TYPE_Q5_1, "6.00 bpw" },
    { "Q5_0", KILN_FTYPE_Q5_0, KILN_TYPE_Q5_0, "5.50 bpw" },
    { "Q4_K_M", KILN_FTYPE_Q4_K_M, KILN_TYPE_Q4_K, "Q4_K, Q6_K for half of attn_v/ffn_down" },
    { "Q4_K_S", KILN_FTYPE_Q4_K_S, KILN_TYPE_Q4_K, "Q4_K, Q5_K for the first attn_v/ffn_down" },
    { "Q4_1", KILN_FTYPE_Q4_1, KILN_TYPE_Q4_1, "5.00 bpw" },
    { "Q4_0", KILN_FTYPE_Q4_0, KILN_TYPE_Q4_0, "4.50 bpw" },
    { "IQ4_XS", KILN_FTYPE_IQ4_XS, KILN_TYPE_IQ4_XS, "4.25 bpw non-linear" },
    { "IQ4_NL", KILN_FTYPE_IQ4_NL, KILN_TYPE_IQ4_NL, "4.50 bpw non-linear" },
    { "Q3_K_L", KILN_FTYPE_Q3_K_L, KILN_TYPE_Q3_K, "Q3_K, Q5_K attn_v/ffn_down/attn_output" },
    { "Q3_K_M", KILN_FTYPE_Q3_K_M, KILN_TYPE_Q3_K, "Q3_K, Q4_K/Q5_K attn_v/ffn_down, Q4_K attn_output" },
    { "Q3_K_S", KILN_FTYPE_Q3_K_S, KILN_TYPE_Q3_K, "Q3_K" },
    { "Q2_K", KILN_FTYPE_Q2_K, KILN_TYPE_Q2_K, "Q2_K, Q3_K ffn_down/attn_output, Q3_K/Q4_K attn_v" },
    { "Q2_K_S", KILN_FTYPE_Q2_K_S, KILN_TYPE_Q2_K, "Q2_K (needs an importance matrix)" },
};
#define N_MIXES (sizeof MIXES / sizeof MIXES[0])

// llama-quantize's aliases (QUANT_OPTIONS): a bare K type is its _M mix.
static const struct { const char *alias, *name; } ALIASES[] = {
    { "Q3_K", "Q3_K_M" }, { "Q4_K", "Q4_K_M" }, { "Q5_K", "Q5_K_M" },
};

const struct kiln_mix *kiln_mix_find(const char *name) {
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (!strcasecmp(name, ALIASES[i].alias))
            name = ALIASES[i].name;
    for (size_t i = 0; i < N_MIXES; i++)
        if (!strcasecmp(name, MIXES[i].name))
            return &MIXES[i];
    return NULL;
}

const struct kiln_mix *kiln_mix_of(enum kiln_ftype ftype) {
    for (size_t i = 0; i < N_MIXES; i++)
        if (MIXES[i].ftype == ftype)
            return &MIXES[i];
    return NULL;
}

const char *kiln_mix_names(void) {
    static char names[512];
    if (!names[0]) {
        size_t used = 0;
        for (size_t i = 0; i < N_MIXES && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", MIXES[i].name);
    }
    return names;
}

static bool contains(const char *s, const char *part) { return strstr(s, part) != NULL; }

enum kiln_tensor_category kiln_tensor_category(const char *n) {
    if (!strcmp(n, "output.weight"))
        return KILN_CAT_OUTPUT;
    if (!strcmp(n, "token_embd.weight") || !strcmp(n, "per_layer_token_embd.weight"))
        return KILN_CAT_TOKEN_EMBD;
    if (contains(n, "attn_qkv.weight"))
        return KILN_CAT_ATTN_QKV;
    if (contains(n, "attn_kv_b.weight"))
        return KILN_CAT_ATTN_KV_B;
    if (contains(n, "attn_v.weight"))
        return KILN_CAT_ATTN_V;
    if (contains(n, "attn_k.weight"))
        return KILN_CAT_ATTN_K;
    if (contains(n, "attn_q.weight"))
        return KILN_CAT_ATTN_Q;
    if (contains(n, "attn_output.weight"))
        return KILN_CAT_ATTN_OUTPUT;
    if (contains(n, "ffn_up"))
        return KILN_CAT_FFN_UP;
    if (contains(n, "ffn_gate"))
        return KILN_CAT_FFN_GATE;
    if (contains(n, "ffn_down"))
        return KILN_CAT_FFN_DOWN;
    return KILN_CAT_OTHER;
}

bool kiln_mix_allows_quantization(const char *name, uint32_t n_dims, bool leave_output) {
    const size_t len = strlen(name);
    if (n_dims < 2 || len < 6 || strcmp(name + len - 6, "weight"))
        return false;
    // The other names llama.cpp keeps (expert gates, position embeddings, RWKV/Mamba/T5/vision
    // pieces) belong to architectures kiln refuses before it gets here.
    return !contains(name, "_norm.weight") && !contains(name, "ffn_gate_inp.weight") &&
           !(leave_output && !strcmp(name, "output.weight"));
}

static bool use_more_bits(int64_t i, int64_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static bool is_attn_v(enum kiln_tensor_category c) {
    return c == KILN_CAT_ATTN_V || c == KILN_CAT_ATTN_QKV || c == KILN_CAT_ATTN_KV_B;
}

bool kiln_mix_early(const struct kiln_mix_choice *c, enum kiln_tensor_category cat, enum kiln_type *out) {
    if (c->token_embd_type != KILN_TYPE_COUNT && cat == KILN_CAT_TOKEN_EMBD) {
        *out = c->token_embd_type;
        return true;
    }
    if (c->output_type != KILN_TYPE_COUNT && cat == KILN_CAT_OUTPUT) {
        *out = c->output_type;
        return true;
    }
    return false;
}

enum kiln_type kiln_mix_rule(const struct kiln_mix_choice *c, const struct kiln_mix_model *m,
                             enum kiln_tensor_category cat, int64_t ne0, int64_t index, int64_t count) {
    const enum kiln_ftype f = c->ftype;
    enum kiln_type t = c->base;
    if (c->pure)
        return t;
    const int64_t gqa = m->n_head_kv > 0 ? m->n_head / m->n_head_kv : 0;
    if (cat == KILN_CAT_OUTPUT || (m->tied && cat == KILN_CAT_TOKEN_EMBD)) {
        if (c->output_type != KILN_TYPE_COUNT)
            t = c->output_type;
        else if (ne0 % kiln_type_block_size(t))
            t = KILN_TYPE_Q8_0;
        else if (t != KILN_TYPE_Q8_0)
            t = KILN_TYPE_Q6_K;
    } else if (cat == KILN_CAT_TOKEN_EMBD) {
        if (c->token_embd_type != KILN_TYPE_COUNT)
            t = c->token_embd_type;
    } else if (is_attn_v(cat)) {
        const int64_t i = index;
        if (f == KILN_FTYPE_Q2_K)
            t = gqa >= 4 ? KILN_TYPE_Q4_K : KILN_TYPE_Q3_K;
        else if (f == KILN_FTYPE_Q2_K_S && gqa >= 4)
            t = KILN_TYPE_Q4_K;
        else if (f == KILN_FTYPE_Q3_K_M)
            t = i < 2 ? KILN_TYPE_Q5_K : KILN_TYPE_Q4_K;
        else if (f == KILN_FTYPE_Q3_K_L)
            t = KILN_TYPE_Q5_K;
        else if ((f == KILN_FTYPE_IQ4_NL || f == KILN_FTYPE_IQ4_XS) && gqa >= 4)
            t = KILN_TYPE_Q5_K;
        else if ((f == KILN_FTYPE_Q4_K_M || f == KILN_FTYPE_Q5_K_M) && use_more_bits(i, count))
            t = KILN_TYPE_Q6_K;
        else if (f == KILN_FTYPE_Q4_K_S && i < 4)
            t = KILN_TYPE_Q5_K;
        // 70B: 8 heads share attn_v, so more bits there cost little.
        if (m->is_70b && (t == KILN_TYPE_Q3_K || t == KILN_TYPE_Q4_K))
            t = KILN_TYPE_Q5_K;
    } else if (cat == KILN_CAT_FFN_DOWN) {
        // Without experts llama.cpp's layer here is the ffn_down counter, out of the block count.
        const int64_t i = index, n = m->n_layers;
        if (f == KILN_FTYPE_Q2_K)
            t = KILN_TYPE_Q3_K;
        else if (f == KILN_FTYPE_Q2_K_S) {
            if (i < n / 8)
                t = KILN_TYPE_Q4_K;
        } else if (f == KILN_FTYPE_Q3_K_M)
            t = i < n / 16 ? KILN_TYPE_Q5_K : KILN_TYPE_Q4_K;  // (Falcon's Q3_K branch: refused)
        else if (f == KILN_FTYPE_Q3_K_L)
            t = KILN_TYPE_Q5_K;
        else if (f == KILN_FTYPE_Q4_K_M) {
            if (use_more_bits(i, n))
                t = KILN_TYPE_Q6_K;
        } else if (i < n / 8 && (f == KILN_FTYPE_IQ4_NL || f == KILN_FTYPE_IQ4_XS) && !m->has_imatrix)
            t = KILN_TYPE_Q5_K;
        else if (f == KILN_FTYPE_Q5_K_M && use_more_bits(i, n))
            t = KILN_TYPE_Q6_K;
        else if (f == KILN_FTYPE_Q4_K_S && i < n / 8)
            t = KILN_TYPE_Q5_K;
        else if ((f == KILN_FTYPE_Q4_0 || f == KILN_FTYPE_Q5_0) && m->has_imatrix && i < n / 8)
            t = f == KILN_FTYPE_Q4_0 ? KILN_TYPE_Q4_1 : KILN_TYPE_Q5_1;  // guards the first ffn_down
    } else if (cat == KILN_CAT_ATTN_OUTPUT) {
        if (f == KILN_FTYPE_Q2_K)
            t = KILN_TYPE_Q3_K;
        else if (f == KILN_FTYPE_Q3_K_M)
            t = KILN_TYPE_Q4_K;
        else if (f == KILN_FTYPE_Q3_K_L)
            t = KILN_TYPE_Q5_K;
    }
    // attn_q, attn_k, ffn_gate, ffn_up: rules only for IQ3 types and experts, which kiln lacks.
    return t;
}

enum kiln_type kiln_mix_fallback(enum kiln_type t, int64_t ne0) {
    const int bs = kiln_type_block_size(t);
    if (bs <= 0 || ne0 % bs == 0)
        return t;
    switch (t) {
    case KILN_TYPE_IQ4_XS: t = KILN_TYPE_IQ4_NL; break;
    case KILN_TYPE_Q2_K:
    case KILN_TYPE_Q3_K: t = KILN_TYPE_Q4_0; break;
    case KILN_TYPE_Q4_K: t = KILN_TYPE_Q5_0; break;
    case KILN_TYPE_Q5_K: t = KILN_TYPE_Q5_1; break;
    case KILN_TYPE_Q6_K: t = KILN_TYPE_Q8_0; break;
    default: break;  // a 32-block type has nothing smaller to fall to
    }
    return ne0 % kiln_type_block_size(t) ? KILN_TYPE_F16 : t;
}

bool kiln_mix_requires_imatrix(const char *name, enum kiln_type t, enum kiln_ftype ftype) {
    const enum kiln_tensor_category c = kiln_tensor_category(name);
    if (c == KILN_CAT_OUTPUT || c == KILN_CAT_TOKEN_EMBD)
        return false;
    return t == KILN_TYPE_Q2_K && ftype == KILN_FTYPE_Q2_K_S;
}

static int block_of(const char *name) {
    int b = -1;
    sscanf(name, "blk.%d.", &b);
    return b;
}

int kiln_mix_order(const char *a, const char *b) {
    const int la = block_of(a), lb = block_of(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}
