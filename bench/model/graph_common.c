// The forward pass's pieces every architecture shares (model_internal.h), on the dispatch
// layer's ops. Layouts: the q/k/v projections are [head_dim, heads, n] in memory; attention
// reads them as strided views [head_dim, n, heads]. The cache of layer l is
// [head_dim, n_ctx, n_head_kv] f16 for K and for V, so each kv head's positions are contiguous.
#include "bench/model/model_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/kernel.h"

// The first n columns of an activation tensor.
struct kiln_tensor kiln_graph_cols(const struct kiln_tensor *t, int64_t n) {
    struct kiln_tensor v = *t;
    v.ne[1] = n;
    return v;
}

// [ne0 = head_dim, heads, n] view of a [heads*head_dim, n] activation.
struct kiln_tensor kiln_graph_heads(const struct kiln_tensor *t, int64_t head_dim, int64_t heads, int64_t n) {
    struct kiln_tensor v = *t;
    v.ne[0] = head_dim;
    v.ne[1] = heads;
    v.ne[2] = n;
    v.nb[1] = v.nb[0] * (size_t)head_dim;
    v.nb[2] = v.nb[1] * (size_t)heads;
    return v;
}

// [head_dim, n, heads] view (attention's q/out layout) of a [heads*head_dim, n] activation.
static struct kiln_tensor attn_view(const struct kiln_tensor *t, int64_t head_dim, int64_t heads, int64_t n) {
    struct kiln_tensor v = kiln_graph_heads(t, head_dim, heads, n);
    v.ne[1] = n;
    v.ne[2] = heads;
    const size_t tok = v.nb[2];
    v.nb[2] = v.nb[1];
    v.nb[1] = tok;
    return v;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// The observer's call for one matmul: x downloaded row by row (views may be strided), the
// weight named from its place in the model.
static enum kiln_status observe_matmul(struct kiln_model *m, struct kiln_stream *s, const struct kiln_tensor *w,
                                       const struct kiln_tensor *x, int which) {
    const int64_t k = x->ne[0], n = x->ne[1];
    if (x->type != KILN_TYPE_F32)
        return kiln_fail(KILN_E_UNSUPPORTED, "model: the observer takes f32 activations");
    const size_t need = sizeof(float) * (size_t)(k * n);
    if (need > m->observe_cap) {
        float *b = realloc(m->observe_buf, need);
        if (!b)
            return kiln_fail(KILN_E_NOMEM, "out of memory");
        m->observe_buf = b;
        m->observe_cap = need;
    }
    if (x->nb[1] == sizeof(float) * (size_t)k) {
        KILN_TRY(kiln_buffer_download(s, x->buffer, x->offset, m->observe_buf, need));
    } else {
        for (int64_t j = 0; j < n; j++)
            KILN_TRY(kiln_buffer_download(s, x->buffer, x->offset + (size_t)j * x->nb[1], m->observe_buf + j * k,
                                          sizeof(float) * (size_t)k));
    }
    char name[96];
    int64_t layer = -1;
    if (which == KILN_BLK_COUNT) {
        snprintf(name, sizeof name, "output.weight");
    } else {
        for (int64_t l = 0; l < m->info.n_layer && layer < 0; l++)
            if (w == &m->layers[l].w[which])
                layer = l;
        if (layer < 0)
            return kiln_fail(KILN_E_INVALID, "model: a matmul weight outside the model's blocks");
        snprintf(name, sizeof name, "blk.%" PRId64 ".%s", layer, kiln_block_tensors[which].suffix);
    }
    return m->observe(m->observe_ctx, layer, name, m->observe_buf, k, n);
}

// y = x W^T, noting whether a slow path ran (`which`: the block tensor, KILN_BLK_COUNT = output).
enum kiln_status kiln_graph_matmul(struct kiln_model *m, struct kiln_stream *s, const struct kiln_tensor *y,
                                     const struct kiln_tensor *w, const struct kiln_tensor *x, int which) {
    struct kiln_path path = { 0 };
    const bool host = kiln_device_info(m->dev)->host_memory;
    const double t0 = host ? now_seconds() : 0.0;
    KILN_TRY(kiln_matmul(s, y, w, x, &path));
    if (path.fallback || (path.kernel && path.kernel->tier == KILN_TIER_REF)) {
        struct fallback_record *f = &m->fallback;
        f->which |= 1u << which;
        f->type[which] = w->type;
        f->calls++;
        if (host)
            f->seconds += now_seconds() - t0;
    }
    if (m->observe && x->ne[1] >= 16)
        return observe_matmul(m, s, w, x, which);
    return KILN_OK;
}

void kiln_model_fallback_take(struct kiln_model *m, struct kiln_model_fallback *out) {
    const struct fallback_record *f = &m->fallback;
    memset(out, 0, sizeof *out);
    out->calls = f->calls;
    out->seconds = kiln_device_info(m->dev)->host_memory ? f->seconds : -1.0;
    int len = 0;
    for (int i = 0; i <= KILN_BLK_COUNT && len < (int)sizeof out->tensors; i++) {
        if (!(f->which & (1u << i)))
            continue;
        const char *name = i == KILN_BLK_COUNT ? "output.weight" : kiln_block_tensors[i].suffix;
        len += snprintf(out->tensors + len, sizeof out->tensors - (size_t)len, "%s%s%s (%s)", len ? ", " : "",
                        i == KILN_BLK_COUNT ? "" : "blk.*.", name, kiln_type_name(f->type[i]));
    }
    memset(&m->fallback, 0, sizeof m->fallback);
}

// Cache positions [pos0, pos0 + n) of every kv head, as [head_dim, heads, n] (the k/v layout).
static struct kiln_tensor cache_write_view(const struct kiln_tensor *cache, int64_t pos0, int64_t n) {
    struct kiln_tensor v = *cache;
    v.offset += (size_t)pos0 * cache->nb[1];
    v.ne[1] = cache->ne[2];
    v.ne[2] = n;
    v.nb[1] = cache->nb[2];
    v.nb[2] = cache->nb[1];
    return v;
}


enum kiln_status kiln_graph_qkv(struct kiln_model *m, struct kiln_stream *s, const struct layer *L, int64_t n) {
    const struct kiln_model_info *c = &m->info;
    struct kiln_tensor x = kiln_graph_cols(&m->x, n), cur = kiln_graph_cols(&m->cur, n);
    struct kiln_tensor q = kiln_graph_cols(&m->q, n), k = kiln_graph_cols(&m->k, n), v = kiln_graph_cols(&m->v, n);
    KILN_TRY(kiln_rmsnorm(s, &cur, &x, &L->w[KILN_BLK_ATTN_NORM], c->rms_eps));
    KILN_TRY(kiln_graph_matmul(m, s, &q, &L->w[KILN_BLK_Q], &cur, KILN_BLK_Q));
    KILN_TRY(kiln_graph_matmul(m, s, &k, &L->w[KILN_BLK_K], &cur, KILN_BLK_K));
    return kiln_graph_matmul(m, s, &v, &L->w[KILN_BLK_V], &cur, KILN_BLK_V);
}

enum kiln_status kiln_graph_attend(struct kiln_model *m, struct kiln_stream *s, const struct layer *L, int64_t n,
                                   int64_t pos0, enum kiln_rope_mode mode) {
    const struct kiln_model_info *c = &m->info;
    struct kiln_tensor x = kiln_graph_cols(&m->x, n), cur = kiln_graph_cols(&m->cur, n);
    struct kiln_tensor q = kiln_graph_cols(&m->q, n), k = kiln_graph_cols(&m->k, n), v = kiln_graph_cols(&m->v, n);
    struct kiln_tensor attn = kiln_graph_cols(&m->attn, n), pos = m->pos;
    pos.ne[0] = n;
    struct kiln_rope_params rope = { .mode = mode, .n_dims = (int32_t)c->rope_dims, .theta_base = c->rope_base,
                                     .has_freq_factors = c->has_rope_freqs };
    if (c->has_rope_freqs)
        memcpy(rope.freq_factors, c->rope_freqs, sizeof rope.freq_factors);
    const struct kiln_tensor qh = kiln_graph_heads(&q, c->head_dim, c->n_head, n);
    const struct kiln_tensor kh = kiln_graph_heads(&k, c->head_dim, c->n_head_kv, n);
    KILN_TRY(kiln_rope(s, &qh, &qh, &pos, &rope));
    KILN_TRY(kiln_rope(s, &kh, &kh, &pos, &rope));
    const struct kiln_tensor vh = kiln_graph_heads(&v, c->head_dim, c->n_head_kv, n);
    const struct kiln_tensor kdst = cache_write_view(&L->k_cache, pos0, n), vdst = cache_write_view(&L->v_cache, pos0, n);
    KILN_TRY(kiln_copy(s, &kdst, &kh));
    KILN_TRY(kiln_copy(s, &vdst, &vh));
    struct kiln_tensor kc = L->k_cache, vc = L->v_cache;
    kc.ne[1] = vc.ne[1] = pos0 + n;
    const struct kiln_tensor qa = attn_view(&q, c->head_dim, c->n_head, n), oa = attn_view(&attn, c->head_dim, c->n_head, n);
    const struct kiln_attention_params ap = { .scale = 1.0f / sqrtf((float)c->head_dim), .pos0 = (int32_t)pos0, .causal = true };
    KILN_TRY(kiln_attention(s, &oa, &qa, &kc, &vc, &ap, NULL));
    KILN_TRY(kiln_graph_matmul(m, s, &cur, &L->w[KILN_BLK_O], &attn, KILN_BLK_O));
    return kiln_add(s, &x, &x, &cur);
}

enum kiln_status kiln_graph_ffn(struct kiln_model *m, struct kiln_stream *s, const struct layer *L, int64_t n) {
    const struct kiln_model_info *c = &m->info;
    struct kiln_tensor x = kiln_graph_cols(&m->x, n), cur = kiln_graph_cols(&m->cur, n);
    struct kiln_tensor g = kiln_graph_cols(&m->ffn_g, n), u = kiln_graph_cols(&m->ffn_u, n);
    KILN_TRY(kiln_rmsnorm(s, &cur, &x, &L->w[KILN_BLK_FFN_NORM], c->rms_eps));
    KILN_TRY(kiln_graph_matmul(m, s, &g, &L->w[KILN_BLK_GATE], &cur, KILN_BLK_GATE));
    KILN_TRY(kiln_graph_matmul(m, s, &u, &L->w[KILN_BLK_UP], &cur, KILN_BLK_UP));
    KILN_TRY(kiln_swiglu(s, &g, &g, &u));
    KILN_TRY(kiln_graph_matmul(m, s, &cur, &L->w[KILN_BLK_DOWN], &g, KILN_BLK_DOWN));
    return kiln_add(s, &x, &x, &cur);
}
