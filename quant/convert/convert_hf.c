// Hugging Face folder -> GGUF, per architecture as llama.cpp's convert_hf_to_gguf.py writes it
// (convert.h). What the folder holds must be exactly what its config.json implies
// (kiln_hf_tensors): a tensor kiln would not use (a bias on a Llama, an expert) is an error
// naming it, as is a missing one or one of another shape; the only tensors passed over are
// those HF itself does not read (rotary_emb.inv_freq buffers, recomputed from rope_theta;
// lm_head.weight when tie_word_embeddings is true, since HF ties it to the embeddings).
//
// Per architecture (general.architecture = llama / qwen2 / qwen3, keys under that prefix):
//   llama  q/k rows permuted to adjacent rope pairs (spec §5.3); llama.vocab_size and
//          rope.dimension_count; rope_scaling llama3 -> rope_freqs.weight [head_dim/2] f32
//          (the divisor of each rotary frequency, as LlamaModel.generate_extra_tensors)
//   qwen2  attn_{q,k,v}.bias f32; no permutation (llama.cpp runs qwen2 with neox rope)
//   qwen3  attn_{q,k}_norm.weight f32; no permutation
//   all    attention.key_length / value_length = head_dim when config.json gives head_dim
#include "quant/convert/convert.h"
#include "quant/convert/convert_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/thread_pool.h"
#include "quant/file/hf_config.h"
#include "quant/file/safetensors.h"
#include "quant/tokenizer/tokenizer.h"

static const struct { const char *hf, *gguf; int perm; } layer_map[] = {
    { "input_layernorm.weight", "attn_norm.weight", 0 }, { "self_attn.q_proj.weight", "attn_q.weight", 1 },
    { "self_attn.k_proj.weight", "attn_k.weight", 2 }, { "self_attn.v_proj.weight", "attn_v.weight", 0 },
    { "self_attn.o_proj.weight", "attn_output.weight", 0 }, { "self_attn.q_proj.bias", "attn_q.bias", 0 },
    { "self_attn.k_proj.bias", "attn_k.bias", 0 }, { "self_attn.v_proj.bias", "attn_v.bias", 0 },
    { "self_attn.q_norm.weight", "attn_q_norm.weight", 0 }, { "self_attn.k_norm.weight", "attn_k_norm.weight", 0 },
    { "post_attention_layernorm.weight", "ffn_norm.weight", 0 }, { "mlp.gate_proj.weight", "ffn_gate.weight", 0 },
    { "mlp.up_proj.weight", "ffn_up.weight", 0 }, { "mlp.down_proj.weight", "ffn_down.weight", 0 },
};

// The GGUF name of an HF tensor the config implies, and the heads its rows are permuted in.
static bool hf_to_gguf(const char *hf, char *out, size_t size, int64_t *perm_heads, const struct kiln_model_config *c) {
    *perm_heads = 0;
    if (!strcmp(hf, "model.embed_tokens.weight"))
        return snprintf(out, size, "token_embd.weight"), true;
    if (!strcmp(hf, "model.norm.weight"))
        return snprintf(out, size, "output_norm.weight"), true;
    if (!strcmp(hf, "lm_head.weight"))
        return snprintf(out, size, "output.weight"), true;
    long layer;
    int used = 0;
    if (sscanf(hf, "model.layers.%ld.%n", &layer, &used) != 1 || used == 0)
        return false;
    for (size_t i = 0; i < sizeof layer_map / sizeof layer_map[0]; i++) {
        if (strcmp(hf + used, layer_map[i].hf))
            continue;
        if (c->arch == KILN_ARCH_LLAMA && layer_map[i].perm)  // HF rotate-half -> adjacent pairs
            *perm_heads = layer_map[i].perm == 1 ? c->heads : c->kv_heads;
        snprintf(out, size, "blk.%ld.%s", layer, layer_map[i].gguf);
        return true;
    }
    return false;
}

static void add_metadata(struct kiln_gguf_writer *w, const struct kiln_model_config *c, int64_t context) {
    const char *a = kiln_arch_name(c->arch);
    char key[96];
#define KEY(suffix) (snprintf(key, sizeof key, "%s.%s", a, suffix), key)
    kiln_gguf_add_string(w, "general.architecture", a);
    kiln_gguf_add_string(w, "general.name", c->name);
    kiln_gguf_add_u32(w, KEY("context_length"), (uint32_t)context);
    kiln_gguf_add_u32(w, KEY("embedding_length"), (uint32_t)c->hidden);
    kiln_gguf_add_u32(w, KEY("block_count"), (uint32_t)c->layers);
    kiln_gguf_add_u32(w, KEY("feed_forward_length"), (uint32_t)c->ffn);
    kiln_gguf_add_u32(w, KEY("attention.head_count"), (uint32_t)c->heads);
    kiln_gguf_add_u32(w, KEY("attention.head_count_kv"), (uint32_t)c->kv_heads);
    kiln_gguf_add_f32(w, KEY("attention.layer_norm_rms_epsilon"), (float)c->rms_eps);
    kiln_gguf_add_f32(w, KEY("rope.freq_base"), (float)c->rope_theta);
    if (c->head_dim_explicit) {
        kiln_gguf_add_u32(w, KEY("attention.key_length"), (uint32_t)c->head_dim);
        kiln_gguf_add_u32(w, KEY("attention.value_length"), (uint32_t)c->head_dim);
    }
    if (c->arch == KILN_ARCH_LLAMA) {
        kiln_gguf_add_u32(w, KEY("rope.dimension_count"), (uint32_t)c->head_dim);
        kiln_gguf_add_u32(w, KEY("vocab_size"), (uint32_t)c->vocab);
    }
#undef KEY
}

// The safetensors hold exactly the tensors the config implies, each of the implied shape.
static enum kiln_status check_tensors(const char *dir, const struct kiln_model_config *c, const struct kiln_st_model *m,
                                      const struct kiln_hf_tensor *want, int n_want) {
    for (int i = 0; i < n_want; i++) {
        const struct kiln_st_tensor *t = kiln_st_find(m, want[i].name);
        if (!t)
            return kiln_fail(KILN_E_FORMAT, "%s: missing tensor %s (%s with this config.json has it)", dir,
                             want[i].name, c->hf_arch);
        bool same = t->ndim == want[i].ndim;
        for (int d = 0; same && d < t->ndim; d++)
            same = t->shape[d] == want[i].shape[d];
        if (!same)
            return kiln_fail(KILN_E_FORMAT, "%s: %s is [%" PRId64 "%s%" PRId64 "], config.json implies [%" PRId64
                             "%s%" PRId64 "] (hidden_size, heads, head_dim, intermediate_size, vocab_size)", dir,
                             want[i].name, t->shape[0], t->ndim > 1 ? ", " : "", t->ndim > 1 ? t->shape[1] : 0,
                             want[i].shape[0], want[i].ndim > 1 ? ", " : "", want[i].ndim > 1 ? want[i].shape[1] : 0);
    }
    return KILN_OK;
}

static bool wanted(const char *name, const struct kiln_hf_tensor *want, int n_want) {
    for (int i = 0; i < n_want; i++)
        if (!strcmp(want[i].name, name))
            return true;
    return false;
}

static bool ends_with(const char *s, const char *suffix) {
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

enum kiln_status kiln_convert_hf(const char *hf_dir, const char *out_path, const struct kiln_convert_options *o) {
    struct kiln_model_config c;
    char notes[512];
    KILN_TRY(kiln_model_config_load(hf_dir, &c, notes, sizeof notes));
    if (notes[0])
        fprintf(stderr, "note: config.json keys kiln does not know, read as not changing the model: %s\n", notes);
    int64_t context = c.max_pos;
    if (c.sliding_window) {
        context = c.sliding_window;
        fprintf(stderr, "note: sliding_window = %" PRId64 " < max_position_embeddings = %" PRId64 ": context_length "
                "written as %" PRId64 ", up to which full attention is the same model (kiln implements no sliding "
                "window)\n", c.sliding_window, c.max_pos, context);
    }
    const int n_want = kiln_hf_tensors(&c, NULL, 0);
    struct kiln_hf_tensor *want = calloc((size_t)n_want, sizeof *want);
    if (!want)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    kiln_hf_tensors(&c, want, n_want);
    struct kiln_st_model m;
    enum kiln_status s = kiln_st_open(hf_dir, &m);
    if (s != KILN_OK) {
        free(want);
        return s;
    }
    struct plan p = { .jobs = calloc((size_t)m.n_tensors + 1, sizeof(struct job)) };
    struct kiln_gguf_writer *w = kiln_gguf_writer_new();
    float *rope_freqs = c.rope_llama3 ? malloc(sizeof(float) * (size_t)(c.head_dim / 2)) : NULL;
    s = p.jobs && w && (rope_freqs || !c.rope_llama3) ? KILN_OK : kiln_fail(KILN_E_NOMEM, "out of memory");
    p.model.n_layers = c.layers;
    p.model.n_head = c.heads;
    p.model.n_head_kv = c.kv_heads;
    p.model.tied = c.tie_embeddings;
    p.arch = kiln_arch_name(c.arch);
    if (s == KILN_OK)
        s = check_tensors(hf_dir, &c, &m, want, n_want);
    if (s == KILN_OK) {
        add_metadata(w, &c, context);
        bool vocab = false;
        s = kiln_tokenizer_add(w, hf_dir, c.vocab, &vocab);
        if (s == KILN_OK && !vocab)  // llama.cpp's vocab-less form (spec §5.1)
            kiln_gguf_add_string(w, "tokenizer.ggml.model", "none");
    }
    if (s == KILN_OK && rope_freqs) {  // first, as llama.cpp's generate_extra_tensors
        for (int64_t i = 0; i < c.head_dim / 2; i++)
            rope_freqs[i] = kiln_llama3_rope_factor(&c, i);
        const int64_t ne[1] = { c.head_dim / 2 };
        s = kiln_convert_add_job(&p, o, "rope_freqs.weight", KILN_TYPE_F32, rope_freqs, 1, ne, 0);
    }
    for (int i = 0; i < m.n_tensors && s == KILN_OK; i++) {
        const struct kiln_st_tensor *t = &m.tensors[i];
        char name[64];
        int64_t perm;
        if (!wanted(t->name, want, n_want)) {
            if (ends_with(t->name, ".rotary_emb.inv_freq")) {
                fprintf(stderr, "note: skipping %s (recomputed from rope_theta, as HF and llama.cpp do)\n", t->name);
                continue;
            }
            if (!strcmp(t->name, "lm_head.weight") && c.tie_embeddings) {
                fprintf(stderr, "note: skipping lm_head.weight: tie_word_embeddings is true, so the model's output "
                        "is model.embed_tokens.weight\n");
                continue;
            }
            s = kiln_fail(KILN_E_UNSUPPORTED, "%s: tensor %s is not part of the %s graph kiln implements (%s with "
                          "this config.json has no such tensor): refusing rather than dropping it", hf_dir, t->name,
                          kiln_arch_name(c.arch), c.hf_arch);
            break;
        }
        if (!hf_to_gguf(t->name, name, sizeof name, &perm, &c)) {
            s = kiln_fail(KILN_E_UNSUPPORTED, "%s: no GGUF name for %s", hf_dir, t->name);
            break;
        }
        const int64_t ne[2] = { t->shape[t->ndim - 1], t->ndim == 2 ? t->shape[0] : 1 };  // numpy -> GGUF
        s = kiln_convert_add_job(&p, o, name, t->type, t->data, (uint32_t)t->ndim, ne, perm);
    }
    if (s == KILN_OK)
        s = kiln_convert_run(&p, w, o, out_path);
    kiln_pool_free(p.pool);
    kiln_gguf_writer_free(w);
    free(p.jobs);
    free(rope_freqs);
    free(want);
    kiln_st_close(&m);
    return s;
}
