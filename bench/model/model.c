// The model runner (model.h): loading, memory planning, the forward loop. Each block's ops are
// its architecture's graph file (graph_llama.c, graph_qwen2.c, graph_qwen3.c, built from the
// shared pieces in graph_common.c); then rmsnorm * output_norm and the output matmul
// (token_embd when the embeddings are tied).
#include "bench/model/model_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "backends/kernel.h"
#include "quant/file/gguf.h"

// Weights live in arenas of at most 1 GiB (one tensor larger than that gets an arena of its
// own): GPU APIs cap a single allocation (Vulkan's maxMemoryAllocationSize is 2 GiB on lavapipe,
// ~4 GiB on NVIDIA), and a 7B f16 model is 13 GB. KILN_WEIGHT_ARENA_BYTES lowers the limit so
// the tests can load a tiny model into many arenas.
static size_t arena_limit(void) {
    const char *e = getenv("KILN_WEIGHT_ARENA_BYTES");
    const long long v = e ? atoll(e) : 0;
    return v > 0 && v < (1ll << 30) ? (size_t)v : (size_t)1 << 30;
}

// Where the next weight goes: the sizing pass and the upload pass walk the tensors in the same
// order with the same rule, so they agree on every placement.
struct placement {
    int arena;
    size_t offset;               // in the current arena
    size_t sizes[KILN_MODEL_MAX_ARENAS];    // bytes of each arena
    size_t total;
};

// After a tensor is uploaded its pages of the mapped GGUF file are dropped: otherwise a 7B
// model's 3.6 GiB sits twice in the process's RSS (the file's pages and the device copy) until
// the file is closed. MADV_DONTNEED on a read-only file mapping only discards clean pages; a
// later read faults them back in from the file, so this is safe whatever reads them next.
static void release_file_pages(const void *data, size_t n) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t lo = ((uintptr_t)data + page - 1) & ~(page - 1), hi = ((uintptr_t)data + n) & ~(page - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

// A weight: its GGUF tensor uploaded at its placement in the weight arenas, checked for shape.
// Matmul-only weights (`matmul`) are stored in the layout the device wants for them
// (kiln_weight_layout: Q4_0/Q8_0 in 8-row tiles, the K-quants in 16-row tiles, on x86 CPUs);
// token_embd stays rows, since get_rows reads it (and the output matmul too when tied).
static enum kiln_status load_weight(struct kiln_model *m, struct kiln_stream *s, const struct kiln_gguf *g,
                                    const char *name, int64_t ne0, int64_t ne1, struct placement *at,
                                    struct kiln_tensor *out, bool optional, bool matmul) {
    // kiln_model_check has seen every tensor's presence, shape and type.
    const struct kiln_gguf_tensor *t = kiln_gguf_find_tensor(g, name);
    if (!t) {
        if (optional) {
            out->buffer = NULL;
            return KILN_OK;
        }
        return kiln_fail(KILN_E_FORMAT, "%s: missing tensor %s", g->path, name);
    }
    const size_t size = (t->nbytes + 255) & ~(size_t)255;
    if (at->offset > 0 && at->offset + size > arena_limit()) {
        if (at->arena + 1 == KILN_MODEL_MAX_ARENAS)
            return kiln_fail(KILN_E_UNSUPPORTED, "%s: more than %d GiB of weights", g->path, KILN_MODEL_MAX_ARENAS);
        at->arena++;
        at->offset = 0;
    }
    struct kiln_buffer *arena = m->weights[at->arena];
    if (arena) {
        *out = kiln_tensor_make(arena, at->offset, t->type, ne0, ne1, 1, 1);
        if (matmul) {
            out->layout = kiln_weight_layout(kiln_stream_device(s), t->type, ne0, ne1);
            m->info.n_matmul_weights++;
            m->info.n_repacked += out->layout != KILN_LAYOUT_ROWS;
            m->info.matmul_bytes += t->nbytes;
            if (kiln_type_traits(t->type)->is_quantized)
                m->info.matmul_quantized_bytes += t->nbytes;
        }
        KILN_TRY(kiln_weight_upload(s, out, t->data));
        release_file_pages(t->data, t->nbytes);  // no sync needed: a later read re-faults the page
    }
    at->offset += size;
    at->sizes[at->arena] = at->offset;
    at->total += size;
    return KILN_OK;
}

// Two passes: the first (no buffer yet) only sizes the weights, the second uploads them.
static enum kiln_status load_weights(struct kiln_model *m, struct kiln_stream *s, const struct kiln_gguf *g,
                                     struct placement *off) {
    const struct kiln_model_info *c = &m->info;
    memset(off, 0, sizeof *off);
    KILN_TRY(load_weight(m, s, g, "token_embd.weight", c->n_embd, c->n_vocab, off, &m->token_embd, false, false));
    KILN_TRY(load_weight(m, s, g, "output_norm.weight", c->n_embd, 1, off, &m->output_norm, false, false));
    KILN_TRY(load_weight(m, s, g, "output.weight", c->n_embd, c->n_vocab, off, &m->output, true, true));
    for (int64_t l = 0; l < c->n_layer; l++)
        for (int i = 0; i < KILN_BLK_COUNT; i++) {
            if (!kiln_block_tensor_in((enum kiln_block_tensor)i, c->arch))
                continue;  // not in this architecture's block (the check refused it if present)
            const struct kiln_block_tensor_info *b = &kiln_block_tensors[i];
            char name[96];
            snprintf(name, sizeof name, "blk.%" PRId64 ".%s", l, b->suffix);
            KILN_TRY(load_weight(m, s, g, name, kiln_model_dim(c, b->ne0), kiln_model_dim(c, b->ne1), off,
                                 &m->layers[l].w[i], false, b->matrix));
        }
    return KILN_OK;
}

static size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }

static enum kiln_status plan_activations(struct kiln_model *m) {
    const struct kiln_model_info *c = &m->info;
    const int64_t B = c->n_batch, q = c->n_head * c->head_dim, kv = c->n_head_kv * c->head_dim;
    const struct { struct kiln_tensor *t; enum kiln_type type; int64_t ne0, ne1; } plan[] = {
        { &m->x, KILN_TYPE_F32, c->n_embd, B }, { &m->cur, KILN_TYPE_F32, c->n_embd, B },
        { &m->q, KILN_TYPE_F32, q, B }, { &m->k, KILN_TYPE_F32, kv, B }, { &m->v, KILN_TYPE_F32, kv, B },
        { &m->attn, KILN_TYPE_F32, q, B }, { &m->ffn_g, KILN_TYPE_F32, c->n_ff, B },
        { &m->ffn_u, KILN_TYPE_F32, c->n_ff, B }, { &m->logits, KILN_TYPE_F32, c->n_vocab, B },
        { &m->pos, KILN_TYPE_I32, B, 1 }, { &m->ids, KILN_TYPE_I32, B, 1 },
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++)
        total += align256(kiln_row_size(plan[i].type, plan[i].ne0) * (size_t)plan[i].ne1);
    m->info.activation_bytes = total;
    KILN_TRY(kiln_buffer_alloc(m->dev, total, &m->act));
    size_t off = 0;
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        *plan[i].t = kiln_tensor_make(m->act, off, plan[i].type, plan[i].ne0, plan[i].ne1, 1, 1);
        off += align256(kiln_row_size(plan[i].type, plan[i].ne0) * (size_t)plan[i].ne1);
    }
    return KILN_OK;
}

static enum kiln_status plan_cache(struct kiln_model *m) {
    const struct kiln_model_info *c = &m->info;
    const size_t one = kiln_row_size(KILN_TYPE_F16, c->head_dim) * (size_t)(c->n_ctx * c->n_head_kv);
    m->info.kv_bytes = 2 * one * (size_t)c->n_layer;
    KILN_TRY(kiln_buffer_alloc(m->dev, m->info.kv_bytes, &m->cache));
    for (int64_t l = 0; l < c->n_layer; l++) {
        m->layers[l].k_cache = kiln_tensor_make(m->cache, (size_t)(2 * l) * one, KILN_TYPE_F16, c->head_dim, c->n_ctx, c->n_head_kv, 1);
        m->layers[l].v_cache = kiln_tensor_make(m->cache, (size_t)(2 * l + 1) * one, KILN_TYPE_F16, c->head_dim, c->n_ctx, c->n_head_kv, 1);
    }
    return KILN_OK;
}

// Bytes the model needs on the device, known before allocating anything.
static uint64_t activation_estimate(const struct kiln_model_info *c) {
    const uint64_t q = (uint64_t)(c->n_head * c->head_dim), kv = (uint64_t)(c->n_head_kv * c->head_dim);
    return 4 * (uint64_t)c->n_batch * (2 * (uint64_t)c->n_embd + 2 * q + 2 * kv + 2 * (uint64_t)c->n_ff + (uint64_t)c->n_vocab + 2);
}

static enum kiln_status check_fit(const struct kiln_model *m, const struct kiln_gguf *g, size_t weights) {
    const struct kiln_model_info *c = &m->info;
    const uint64_t kv = 2 * 2 * (uint64_t)(c->head_dim * c->n_ctx * c->n_head_kv) * (uint64_t)c->n_layer;
    const uint64_t need = (uint64_t)weights + kv + activation_estimate(c);
    struct kiln_memory_info mem;
    if (kiln_device_memory(m->dev, &mem) == KILN_OK && mem.free_known && need > mem.free)
        return kiln_fail(KILN_E_NOMEM, "%s: the model needs %.2f GiB on %s (weights %.2f, K/V cache %.2f), "
                         "%.2f GiB are free", g->path, need / 1073741824.0, kiln_device_info(m->dev)->name,
                         weights / 1073741824.0, kv / 1073741824.0, mem.free / 1073741824.0);
    return KILN_OK;
}

static enum kiln_status load(struct kiln_model *m, const char *path, int64_t n_ctx, int64_t n_batch) {
    struct kiln_gguf *g;
    KILN_TRY(kiln_gguf_open(path, &g));
    struct kiln_stream *s = NULL;
    enum kiln_status st = kiln_model_check(g, &m->info);
    m->info.n_ctx = n_ctx;
    m->info.n_batch = n_batch;
    snprintf(m->path, sizeof m->path, "%s", path);
    const int64_t trained = m->info.n_ctx_train;
    if (st == KILN_OK && trained > 0 && n_ctx > trained)
        st = kiln_fail(KILN_E_INVALID, "%s: a context of %" PRId64 " tokens is longer than the model's %" PRId64,
                       path, n_ctx, trained);
    if (st == KILN_OK) {
        m->layers = calloc((size_t)m->info.n_layer, sizeof *m->layers);
        st = m->layers ? kiln_stream_new(m->dev, &s) : kiln_fail(KILN_E_NOMEM, "out of memory");
    }
    struct placement *at = calloc(1, sizeof *at);
    if (st == KILN_OK && !at)
        st = kiln_fail(KILN_E_NOMEM, "out of memory");
    if (st == KILN_OK)
        st = load_weights(m, s, g, at);  // sizing pass (no arena allocated yet)
    if (st == KILN_OK)
        st = check_fit(m, g, at->total);
    for (int i = 0; st == KILN_OK && at->total && i <= at->arena; i++, m->n_arenas++)
        st = kiln_buffer_alloc(m->dev, at->sizes[i], &m->weights[i]);
    if (st == KILN_OK) {
        m->info.weight_bytes = at->total;
        st = load_weights(m, s, g, at);
    }
    free(at);
    if (st == KILN_OK && !m->output.buffer)
        m->output = m->token_embd;  // tied embeddings
    if (st == KILN_OK)
        st = plan_cache(m);
    if (st == KILN_OK)
        st = plan_activations(m);
    if (s) {
        kiln_stream_sync(s);
        kiln_stream_free(s);
    }
    kiln_gguf_close(g);
    return st;
}

enum kiln_status kiln_model_load(const char *path, struct kiln_device *device, int64_t n_ctx,
                                 int64_t n_batch, struct kiln_model **out) {
    *out = NULL;
    if (n_ctx < 1 || n_batch < 1 || n_batch > n_ctx)
        return kiln_fail(KILN_E_INVALID, "model: need 1 <= batch (%" PRId64 ") <= context (%" PRId64 ")", n_batch, n_ctx);
    struct kiln_model *m = calloc(1, sizeof *m);
    if (!m)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    m->dev = device;
    const enum kiln_status st = load(m, path, n_ctx, n_batch);
    if (st != KILN_OK) {
        kiln_model_free(m);
        return st;
    }
    *out = m;
    return KILN_OK;
}

void kiln_model_free(struct kiln_model *m) {
    if (!m)
        return;
    for (int i = 0; i < m->n_arenas; i++)
        kiln_buffer_free(m->weights[i]);
    kiln_buffer_free(m->cache);
    kiln_buffer_free(m->act);
    free(m->observe_buf);
    free(m->layers);
    free(m);
}

const struct kiln_model_info *kiln_model_get_info(const struct kiln_model *m) { return &m->info; }

// The ops of one forward pass; *logits_view receives the view the logits are written to.
static enum kiln_status enqueue_forward(struct kiln_model *m, struct kiln_stream *s, int64_t n, int64_t pos0,
                                       bool last_only, struct kiln_tensor *logits_view) {
    const struct kiln_model_info *c = &m->info;
    struct kiln_tensor ids = m->ids, x = kiln_graph_cols(&m->x, n), cur = kiln_graph_cols(&m->cur, n), out = kiln_graph_cols(&m->logits, n);
    ids.ne[0] = n;
    KILN_TRY(kiln_get_rows(s, &x, &m->token_embd, &ids));
    static const kiln_graph_layer_fn layer_of[KILN_ARCH_COUNT] = {
        [KILN_ARCH_LLAMA] = kiln_graph_llama_layer, [KILN_ARCH_QWEN2] = kiln_graph_qwen2_layer,
        [KILN_ARCH_QWEN3] = kiln_graph_qwen3_layer,
    };
    for (int64_t l = 0; l < c->n_layer; l++)
        KILN_TRY(layer_of[c->arch](m, s, &m->layers[l], n, pos0));
    KILN_TRY(kiln_rmsnorm(s, &cur, &x, &m->output_norm, c->rms_eps));
    if (last_only) {  // only the last token's logits are needed (decode, benchmarks)
        struct kiln_tensor last = cur, lg = out;
        last.offset += (size_t)(n - 1) * cur.nb[1];
        last.ne[1] = lg.ne[1] = 1;
        *logits_view = lg;
        return kiln_graph_matmul(m, s, &lg, &m->output, &last, KILN_BLK_COUNT);
    }
    *logits_view = out;
    return kiln_graph_matmul(m, s, &out, &m->output, &cur, KILN_BLK_COUNT);
}

enum kiln_status kiln_model_forward(struct kiln_model *m, struct kiln_stream *s, const int32_t *tokens,
                                    int64_t n, int64_t pos0, float *logits, bool last_only) {
    const struct kiln_model_info *c = &m->info;
    if (n < 1 || n > c->n_batch)
        return kiln_fail(KILN_E_INVALID, "model: %" PRId64 " tokens in a batch of at most %" PRId64, n, c->n_batch);
    if (pos0 < 0 || pos0 + n > c->n_ctx)
        return kiln_fail(KILN_E_INVALID, "model: positions %" PRId64 "..%" PRId64 " past the context of %" PRId64,
                         pos0, pos0 + n - 1, c->n_ctx);
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->n_vocab)
            return kiln_fail(KILN_E_INVALID, "%s: token id %d (at %" PRId64 ") is outside the vocabulary of %" PRId64
                             " (ids 0 .. %" PRId64 ")", m->path, tokens[i], i, c->n_vocab, c->n_vocab - 1);
    int32_t *positions = malloc(sizeof(int32_t) * (size_t)n);
    if (!positions)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++)
        positions[i] = (int32_t)(pos0 + i);
    enum kiln_status st = kiln_buffer_upload(s, m->act, m->pos.offset, positions, sizeof(int32_t) * (size_t)n);
    free(positions);
    if (st == KILN_OK)
        st = kiln_buffer_upload(s, m->act, m->ids.offset, tokens, sizeof(int32_t) * (size_t)n);
    KILN_TRY(st);
    // A decode step on a device with graph capture runs as one graph (CUDA graphs): the
    // uploads above happen first, the download below after the replay.
    const bool graph = n == 1 && !m->no_graphs && kiln_stream_can_capture(s);
    if (graph)
        KILN_TRY(kiln_stream_capture_begin(s));
    struct kiln_tensor out = kiln_graph_cols(&m->logits, n), lg = out;
    st = enqueue_forward(m, s, n, pos0, last_only, &lg);
    if (graph) {
        const enum kiln_status end = kiln_stream_capture_end(s, st == KILN_OK);
        st = st != KILN_OK ? st : end;
    }
    KILN_TRY(st);
    if (!logits)
        return KILN_OK;
    return kiln_buffer_download(s, m->act, lg.offset, logits, sizeof(float) * (size_t)(c->n_vocab * lg.ne[1]));
}

void kiln_model_set_graphs(struct kiln_model *m, bool on) { m->no_graphs = !on; }

void kiln_model_set_observer(struct kiln_model *m, kiln_model_observer_fn fn, void *ctx) {
    m->observe = fn;
    m->observe_ctx = ctx;
}
