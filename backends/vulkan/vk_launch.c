// Ops to Vulkan dispatches: binds each tensor (aligned descriptor offset + the view's byte
// offset in push constants), fills the kernel's push constants from shapes and byte strides,
// picks the specialized pipeline, and records the dispatch. Tensors larger than
// maxStorageBufferRange (lavapipe: 128 MiB; an f16 token-embedding table is 250 MiB) are split
// into windows of rows, one dispatch per window: matmul over W's rows, dequant/copy over rows,
// get_rows over table rows. The push-constant structs mirror the kernels' PC blocks.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/split_k.h"
#include "backends/vulkan/vk_internal.h"

enum kiln_status kiln_vk_bind_tensor(struct kiln_vk_device *vd, const struct kiln_tensor *t,
                                     size_t start, size_t span, bool write,
                                     struct kiln_vk_binding *out, uint32_t *base) {
    const struct kiln_vk_alloc *a = t->buffer->handle;
    const VkDeviceSize abs = a->offset + t->offset + start;
    const VkDeviceSize align = vd->offset_align ? vd->offset_align : 1;
    const VkDeviceSize bound = abs / align * align;
    VkDeviceSize range = (abs + span - bound + 3) & ~(VkDeviceSize)3;
    if (bound + range > a->block->size)
        range = a->block->size - bound;
    if (range > vd->max_range)
        return kiln_fail(KILN_E_UNSUPPORTED, "vulkan: a %.1f MiB view is larger than maxStorageBufferRange "
                         "(%.0f MiB) and this op cannot split it", (double)span / 1048576.0,
                         (double)vd->max_range / 1048576.0);
    *out = (struct kiln_vk_binding){ a->block->buffer, bound, range ? range : 4, write };
    *base = (uint32_t)(abs - bound);
    return KILN_OK;
}

static enum kiln_status bind(struct kiln_vk_device *vd, const struct kiln_tensor *t, bool write,
                             struct kiln_vk_binding *out, uint32_t *base) {
    return kiln_vk_bind_tensor(vd, t, 0, kiln_tensor_span(t), write, out, base);
}

static uint32_t u32(size_t x) { return (uint32_t)x; }

// Rows of a view (row stride nb1, a row's own bytes row_bytes) that one binding can hold: the
// window size of the ops that split views larger than maxStorageBufferRange.
static int64_t rows_per_window(const struct kiln_vk_device *vd, size_t nb1, size_t row_bytes) {
    const int64_t rows = (int64_t)((vd->max_range - 512) / (nb1 ? nb1 : row_bytes));
    return rows < 1 ? 1 : rows;
}

// Binds rows [r0, r0 + rows) of t (2-D view; rows of row_bytes at stride nb[1]).
static enum kiln_status bind_rows(struct kiln_vk_device *vd, const struct kiln_tensor *t, int64_t r0, int64_t rows,
                                  size_t row_bytes, struct kiln_vk_binding *out, uint32_t *base) {
    return kiln_vk_bind_tensor(vd, t, (size_t)r0 * t->nb[1], (size_t)(rows - 1) * t->nb[1] + row_bytes, false, out,
                               base);
}
static uint32_t div_up(uint64_t a, uint64_t b) { return (uint32_t)((a + b - 1) / b); }

static enum kiln_status pipeline(struct kiln_stream *s, enum kiln_vk_shader sh, uint32_t type,
                                 uint32_t dst_type, VkPipeline *out) {
    return kiln_vk_pipeline_get(kiln_vk_dev(s->device), sh, type, dst_type, out);
}

// ---- matmul ----
struct matmul_pc {
    uint32_t w_base, w_nb1, x_base, x_nb1, x_nb2, x_nb3, y_base, y_nb1, y_nb2, y_nb3, m, n, k, ne2;
};

static enum kiln_status launch_matmul(struct kiln_stream *s, const struct kiln_kernel *kernel,
                                      const struct kiln_op *op) {
    struct kiln_vk_device *vd = kiln_vk_dev(s->device);
    const struct kiln_tensor *y = &op->dst, *w = &op->src[0], *x = &op->src[1];
    const bool gemv = kernel->variant && strcmp(kernel->variant, "gemv") == 0;
    // 16/8-bit loads where the device has them, for the types that path reads narrowly; its
    // 16-bit views need W rows at even byte offsets.
    const struct kiln_vk_alloc *wa = w->buffer->handle;
    const bool narrow = gemv && vd->narrow_loads && (wa->offset + w->offset) % 2 == 0 && w->nb[1] % 2 == 0 &&
                        (w->type == KILN_TYPE_F16 || w->type == KILN_TYPE_Q4_0 || w->type == KILN_TYPE_Q8_0);
    VkPipeline p;
    KILN_TRY(pipeline(s, narrow ? KILN_VK_MATMUL_GEMV16 : gemv ? KILN_VK_MATMUL_GEMV : KILN_VK_MATMUL_GEMM,
                      w->type, 0, &p));
    struct kiln_vk_binding bx, by;
    struct matmul_pc pc = { .w_nb1 = u32(w->nb[1]), .x_nb1 = u32(x->nb[1]), .x_nb2 = u32(x->nb[2]),
                            .x_nb3 = u32(x->nb[3]), .y_nb1 = u32(y->nb[1]), .y_nb2 = u32(y->nb[2]),
                            .y_nb3 = u32(y->nb[3]), .n = u32(x->ne[1]), .k = u32(w->ne[0]),
                            .ne2 = u32(x->ne[2]) };
    KILN_TRY(bind(vd, x, false, &bx, &pc.x_base));
    KILN_TRY(bind(vd, y, true, &by, &pc.y_base));
    const uint32_t y_base0 = pc.y_base, z = u32(x->ne[2] * x->ne[3]);
    // W in windows of whole rows that fit one binding
    const size_t row_bytes = kiln_row_size(w->type, w->ne[0]);
    const int64_t rows_per = rows_per_window(vd, w->nb[1], row_bytes);
    for (int64_t m0 = 0; m0 < w->ne[1]; m0 += rows_per) {
        const int64_t m = w->ne[1] - m0 < rows_per ? w->ne[1] - m0 : rows_per;
        struct kiln_vk_binding bw;
        KILN_TRY(bind_rows(vd, w, m0, m, row_bytes, &bw, &pc.w_base));
        pc.m = u32(m);
        pc.y_base = y_base0 + u32(4 * m0);
        const struct kiln_vk_binding *b[KILN_VK_BINDINGS] = { &bw, &bx, NULL, &by };
        const uint32_t groups = gemv ? pc.m : div_up(pc.m, 64) * div_up(pc.n, 64);
        KILN_TRY(kiln_vk_dispatch(s, p, b, &pc, sizeof pc, groups, z));
    }
    return KILN_OK;
}

// ---- attention ----
struct attention_pc {
    uint32_t q_base, q_nb1, q_nb2, k_base, k_nb1, k_nb2, v_base, v_nb1, v_nb2, o_base, o_nb1, o_nb2;
    uint32_t D, n_q, n_kv, H, H_kv, pos0, causal;
    float scale;
    uint32_t chunk;
};

struct combine_pc {
    uint32_t p_base, o_base, o_nb1, o_nb2, D, n_q, H, splits;
};


static enum kiln_status launch_attention(struct kiln_stream *s, const struct kiln_op *op) {
    struct kiln_vk_device *vd = kiln_vk_dev(s->device);
    const struct kiln_tensor *o = &op->dst, *q = &op->src[0], *k = &op->src[1], *v = &op->src[2];
    const struct kiln_attention_params *ap = &op->params.attention;
    VkPipeline p;
    KILN_TRY(pipeline(s, KILN_VK_ATTENTION, k->type, 0, &p));
    struct attention_pc pc = { .q_nb1 = u32(q->nb[1]), .q_nb2 = u32(q->nb[2]), .k_nb1 = u32(k->nb[1]),
                               .k_nb2 = u32(k->nb[2]), .v_nb1 = u32(v->nb[1]), .v_nb2 = u32(v->nb[2]),
                               .o_nb1 = u32(o->nb[1]), .o_nb2 = u32(o->nb[2]), .D = u32(q->ne[0]),
                               .n_q = u32(q->ne[1]), .n_kv = u32(k->ne[1]), .H = u32(q->ne[2]),
                               .H_kv = u32(k->ne[2]), .pos0 = u32(ap->pos0), .causal = ap->causal,
                               .scale = ap->scale };
    struct kiln_vk_binding bq, bk, bv, bo;
    KILN_TRY(bind(vd, q, false, &bq, &pc.q_base));
    KILN_TRY(bind(vd, k, false, &bk, &pc.k_base));
    KILN_TRY(bind(vd, v, false, &bv, &pc.v_base));
    const uint32_t rows = pc.n_q * pc.H, splits = kiln_attention_splits(rows, pc.n_kv, 256, &pc.chunk);
    // attention.comp v4: a workgroup per (query, kv head, chunk of up to 4 of its query heads).
    const uint32_t group = pc.H / pc.H_kv, groups = pc.n_q * pc.H_kv * ((group + 3) / 4);
    if (splits == 1) {
        KILN_TRY(bind(vd, o, true, &bo, &pc.o_base));
        const struct kiln_vk_binding *b[KILN_VK_BINDINGS] = { &bq, &bk, &bv, &bo };
        return kiln_vk_dispatch(s, p, b, &pc, sizeof pc, groups, 1);
    }
    // pass 1: partials into the stream's scratch; pass 2: the combine into out
    struct kiln_buffer *scratch;
    KILN_TRY(kiln_stream_scratch(s, KILN_SCRATCH_KERNEL, (size_t)splits * rows * (pc.D + 2) * 4, &scratch));
    const struct kiln_tensor part = kiln_tensor_make(scratch, 0, KILN_TYPE_F32, (int64_t)(pc.D + 2), (int64_t)rows,
                                                     (int64_t)splits, 1);
    struct kiln_vk_binding bp_w, bp_r;
    KILN_TRY(bind(vd, &part, true, &bp_w, &pc.o_base));
    VkPipeline partial;
    KILN_TRY(pipeline(s, KILN_VK_ATTENTION, k->type, 1, &partial));
    const struct kiln_vk_binding *b1[KILN_VK_BINDINGS] = { &bq, &bk, &bv, &bp_w };
    KILN_TRY(kiln_vk_dispatch(s, partial, b1, &pc, sizeof pc, groups * splits, 1));
    struct combine_pc cpc = { .o_nb1 = u32(o->nb[1]), .o_nb2 = u32(o->nb[2]), .D = pc.D, .n_q = pc.n_q, .H = pc.H,
                              .splits = splits };
    KILN_TRY(bind(vd, &part, false, &bp_r, &cpc.p_base));
    KILN_TRY(bind(vd, o, true, &bo, &cpc.o_base));
    VkPipeline combine;
    KILN_TRY(pipeline(s, KILN_VK_ATTENTION_COMBINE, KILN_TYPE_F32, 0, &combine));
    const struct kiln_vk_binding *b2[KILN_VK_BINDINGS] = { &bp_r, NULL, NULL, &bo };
    return kiln_vk_dispatch(s, combine, b2, &cpc, sizeof cpc, rows, 1);
}

// ---- dequant and copy: element- or block-wise over a 4-D view, split over dim-1 rows ----
struct convert_pc {
    uint32_t s_base, s_nb1, s_nb2, s_nb3, d_base, d_nb1, d_nb2, d_nb3, ne0, ne1, ne2, ne3;
};

static enum kiln_status launch_convert(struct kiln_stream *s, const struct kiln_op *op) {
    struct kiln_vk_device *vd = kiln_vk_dev(s->device);
    const struct kiln_tensor *d = &op->dst, *x = &op->src[0];
    const bool quant = d->type == KILN_TYPE_Q8_0 || d->type == KILN_TYPE_Q4_0;
    VkPipeline p;
    KILN_TRY(pipeline(s, quant ? KILN_VK_COPY_QUANT : KILN_VK_DEQUANT, x->type, d->type, &p));
    struct convert_pc pc = { .s_nb1 = u32(x->nb[1]), .s_nb2 = u32(x->nb[2]), .s_nb3 = u32(x->nb[3]),
                             .d_nb1 = u32(d->nb[1]), .d_nb2 = u32(d->nb[2]), .d_nb3 = u32(d->nb[3]),
                             .ne0 = u32(x->ne[0]), .ne2 = u32(x->ne[2]), .ne3 = u32(x->ne[3]) };
    // Windows of dim-1 rows when a view exceeds one binding (only for 2-D views).
    const size_t big = kiln_tensor_span(x) > kiln_tensor_span(d) ? kiln_tensor_span(x) : kiln_tensor_span(d);
    const size_t nb1 = x->nb[1] > d->nb[1] ? x->nb[1] : d->nb[1];
    const int64_t rows_per = big > vd->max_range && x->ne[2] * x->ne[3] == 1 && nb1
                                 ? rows_per_window(vd, nb1, nb1) : (x->ne[1] > 0 ? x->ne[1] : 1);
    for (int64_t r0 = 0; r0 < x->ne[1]; r0 += rows_per) {
        const int64_t rows = x->ne[1] - r0 < rows_per ? x->ne[1] - r0 : rows_per;
        struct kiln_tensor xs = *x, ds = *d;
        xs.ne[1] = ds.ne[1] = rows;
        xs.offset += (size_t)r0 * x->nb[1];
        ds.offset += (size_t)r0 * d->nb[1];
        struct kiln_vk_binding bs, bd;
        KILN_TRY(bind(vd, &xs, false, &bs, &pc.s_base));
        KILN_TRY(bind(vd, &ds, true, &bd, &pc.d_base));
        pc.ne1 = u32(rows);
        const struct kiln_vk_binding *b[KILN_VK_BINDINGS] = { &bs, NULL, NULL, &bd };
        const uint64_t items = (uint64_t)(quant ? pc.ne0 / 32 : pc.ne0) * pc.ne1 * pc.ne2 * pc.ne3;
        KILN_TRY(kiln_vk_dispatch(s, p, b, &pc, sizeof pc, div_up(items, kiln_vk_shaders[quant ? KILN_VK_COPY_QUANT : KILN_VK_DEQUANT].workgroup), 1));
    }
    return KILN_OK;
}

// ---- rmsnorm ----
struct rmsnorm_pc {
    uint32_t x_base, x_nb1, x_nb2, x_nb3, w_base, has_w, d_base, d_nb1, d_nb2, d_nb3, ne0, ne1, ne2, ne3;
    float eps;
};

static enum kiln_status launch_rmsnorm(struct kiln_stream *s, const struct kiln_op *op) {
    struct kiln_vk_device *vd = kiln_vk_dev(s->device);
    const struct kiln_tensor *d = &op->dst, *x = &op->src[0];
    VkPipeline p;
    KILN_TRY(pipeline(s, KILN_VK_RMSNORM, KILN_TYPE_F32, 0, &p));
    struct rmsnorm_pc pc = { .x_nb1 = u32(x->nb[1]), .x_nb2 = u32(x->nb[2]), .x_nb3 = u32(x->nb[3]),
                             .has_w = op->n_src == 2, .d_nb1 = u32(d->nb[1]), .d_nb2 = u32(d->nb[2]),
                             .d_nb3 = u32(d->nb[3]), .ne0 = u32(x->ne[0]), .ne1 = u32(x->ne[1]),
                             .ne2 = u32(x->ne[2]), .ne3 = u32(x->ne[3]), .eps = op->params.rmsnorm.eps };
    struct kiln_vk_binding bx, bw, bd;
    KILN_TRY(bind(vd, x, false, &bx, &pc.x_base));
    KILN_TRY(bind(vd, d, true, &bd, &pc.d_base));
    if (pc.has_w)
        KILN_TRY(bind(vd, &op->src[1], false, &bw, &pc.w_base));
    const struct kiln_vk_binding *b[KILN_VK_BINDINGS] = { &bx, pc.has_w ? &bw : NULL, NULL, &bd };
    return kiln_vk_dispatch(s, p, b, &pc, sizeof pc, pc.ne1 * pc.ne2 * pc.ne3, 1);
}

// ---- rope: the per-pair angle table (rope.comp says why fixed point) ----
struct rope_pc {
    uint32_t x_base, x_nb1, x_nb2, p_base, f_base, d_base, d_nb1, d_nb2, D, H, n, n_dims, neox;
};

static enum kiln_status rope_table(struct kiln_stream *s, const struct kiln_rope_params *rp,
                                   struct kiln_buffer **out) {
    struct kiln_vk_device *vd = kiln_vk_dev(s->device);
    for (int i = 0; i < vd->n_rope_tables; i++) {
        if (vd->rope_tables[i].n_dims == rp->n_dims && vd->rope_tables[i].theta_base == rp->theta_base &&
            vd->rope_tables[i].has_freq_factors == rp->has_freq_factors &&
            (!rp->has_freq_factors || !memcmp(vd->rope_tables[i].freq_factors, rp->freq_factors,
                                              sizeof(float) * (size_t)(rp->n_dims / 2)))) {
            *out = vd->rope_tables[i].table;
            return KILN_OK;
        }
    }
    const int half = rp->n_dims / 2;
    uint32_t words[2 * 512];
    if (half > 512)
        return kiln_fail(KILN_E_UNSUPPORTED, "rope: n_dims %d above the Vulkan kernel's 1024", rp->n_dims);
    for (int i = 0; i < half; i++) {
        // turns per position: base^(-2i/n) / factor_i / 2pi, the reference's pow in double
        const double ff = rp->has_freq_factors ? rp->freq_factors[i] : 1.0;
        const double turns = pow((double)rp->theta_base, -2.0 * (double)i / rp->n_dims) / ff / (2.0 * M_PI);
        // frac(turns) * 2^64 in two exact steps (scaling by 2^32 and subtracting are exact)
        const double scaled = ldexp(turns - floor(turns), 32), hi = floor(scaled);
        words[2 * i] = (uint32_t)floor(ldexp(scaled - hi, 32));
        words[2 * i + 1] = (uint32_t)hi;
    }
    const int slot = vd->n_rope_tables < 8 ? vd->n_rope_tables++ : 7;
    if (vd->n_rope_tables == 8 && slot == 7 && vd->rope_tables[7].table) {
        KILN_TRY(kiln_stream_sync(s));  // the evicted table may still be read by recorded work
        kiln_buffer_free(vd->rope_tables[7].table);
        vd->rope_tables[7].table = NULL;
    }
    struct kiln_buffer *b;
    KILN_TRY(kiln_buffer_alloc(s->device, (size_t)half * 8, &b));
    enum kiln_status st = kiln_buffer_upload(s, b, 0, words, (size_t)half * 8);
    if (st != KILN_OK) {
        kiln_buffer_free(b);
        vd->n_rope_tables = slot;
        return st;
    }
    vd->rope_tables[slot].n_dims = rp->n_dims;
    vd->rope_tables[slot].theta_base = rp->theta_base;
    vd->rope_tables[slot].has_freq_factors = rp->has_freq_factors;
    memcpy(vd->rope_tables[slot].freq_factors, rp->freq_factors, sizeof rp->freq_factors);
    vd->rope_tables[slot].table = b;
    *out = b;
    return KILN_OK;
}

static enum kiln_status launch_rope(struct kiln_stream *s, const struct kiln_op *op) {
    struct kiln_vk_device *vd = kiln_vk_dev(s->device);
    const struct kiln_tensor *d = &op->dst, *x = &op->src[0], *pos = &op->src[1];
    const struct kiln_rope_params *rp = &op->params.rope;
    VkPipeline p;
    KILN_TRY(pipeline(s, KILN_VK_ROPE, KILN_TYPE_F32, 0, &p));
    struct kiln_buffer *table = NULL;
    if (rp->n_dims >= 2)
        KILN_TRY(rope_table(s, rp, &table));
    struct rope_pc pc = { .x_nb1 = u32(x->nb[1]), .x_nb2 = u32(x->nb[2]), .d_nb1 = u32(d->nb[1]),
                          .d_nb2 = u32(d->nb[2]), .D = u32(x->ne[0]), .H = u32(x->ne[1]),
                          .n = u32(x->ne[2]), .n_dims = u32(rp->n_dims), .neox = rp->mode == KILN_ROPE_NEOX };
    struct kiln_vk_binding bx, bp, bf, bd;
    KILN_TRY(bind(vd, x, false, &bx, &pc.x_base));
    KILN_TRY(bind(vd, pos, false, &bp, &pc.p_base));
    KILN_TRY(bind(vd, d, true, &bd, &pc.d_base));
    if (table) {
        const struct kiln_tensor tt = kiln_tensor_make(table, 0, KILN_TYPE_I32, rp->n_dims, 1, 1, 1);
        KILN_TRY(bind(vd, &tt, false, &bf, &pc.f_base));
    }
    const struct kiln_vk_binding *b[KILN_VK_BINDINGS] = { &bx, &bp, table ? &bf : NULL, &bd };
    return kiln_vk_dispatch(s, p, b, &pc, sizeof pc, div_up((uint64_t)(pc.D / 2) * pc.H * pc.n, 256), 1);
}

// ---- add and swiglu ----
struct binary_pc {
    uint32_t a_base, a_nb1, a_nb2, a_nb3, b_base, b_nb1, b_nb2, b_nb3, d_base, d_nb1, d_nb2, d_nb3;
    uint32_t ne0, ne1, ne2, ne3;
};

static enum kiln_status launch_binary(struct kiln_stream *s, const struct kiln_op *op, uint32_t which) {
    struct kiln_vk_device *vd = kiln_vk_dev(s->device);
    const struct kiln_tensor *d = &op->dst, *a = &op->src[0], *bt = &op->src[1];
    VkPipeline p;
    KILN_TRY(pipeline(s, KILN_VK_BINARY, KILN_TYPE_F32, which, &p));
    struct binary_pc pc = { .a_nb1 = u32(a->nb[1]), .a_nb2 = u32(a->nb[2]), .a_nb3 = u32(a->nb[3]),
                            .b_nb1 = u32(bt->nb[1]), .b_nb2 = u32(bt->nb[2]), .b_nb3 = u32(bt->nb[3]),
                            .d_nb1 = u32(d->nb[1]), .d_nb2 = u32(d->nb[2]), .d_nb3 = u32(d->nb[3]),
                            .ne0 = u32(d->ne[0]), .ne1 = u32(d->ne[1]), .ne2 = u32(d->ne[2]), .ne3 = u32(d->ne[3]) };
    struct kiln_vk_binding ba, bb, bd;
    KILN_TRY(bind(vd, a, false, &ba, &pc.a_base));
    KILN_TRY(bind(vd, bt, false, &bb, &pc.b_base));
    KILN_TRY(bind(vd, d, true, &bd, &pc.d_base));
    const struct kiln_vk_binding *b[KILN_VK_BINDINGS] = { &ba, &bb, NULL, &bd };
    return kiln_vk_dispatch(s, p, b, &pc, sizeof pc,
                            div_up((uint64_t)pc.ne0 * pc.ne1 * pc.ne2 * pc.ne3, 256), 1);
}

// ---- get_rows: windows of table rows ----
struct get_rows_pc {
    uint32_t t_base, t_nb1, ids_base, d_base, d_nb1, k, n, n_rows, row_lo, row_hi, status_word;
};

static enum kiln_status launch_get_rows(struct kiln_stream *s, const struct kiln_op *op) {
    struct kiln_vk_device *vd = kiln_vk_dev(s->device);
    const struct kiln_tensor *d = &op->dst, *t = &op->src[0], *ids = &op->src[1];
    VkPipeline p;
    KILN_TRY(pipeline(s, KILN_VK_GET_ROWS, t->type, 0, &p));
    struct get_rows_pc pc = { .t_nb1 = u32(t->nb[1]), .d_nb1 = u32(d->nb[1]), .k = u32(t->ne[0]),
                              .n = u32(ids->ne[0]), .n_rows = u32(t->ne[1]) };
    struct kiln_vk_binding bi, bd, bs;
    KILN_TRY(bind(vd, ids, false, &bi, &pc.ids_base));
    KILN_TRY(bind(vd, d, true, &bd, &pc.d_base));
    kiln_vk_status_binding(s, &bs);
    const size_t row_bytes = kiln_row_size(t->type, t->ne[0]);
    const int64_t rows_per = rows_per_window(vd, t->nb[1], row_bytes);
    for (int64_t r0 = 0; r0 < t->ne[1]; r0 += rows_per) {
        const int64_t rows = t->ne[1] - r0 < rows_per ? t->ne[1] - r0 : rows_per;
        struct kiln_vk_binding bt;
        KILN_TRY(bind_rows(vd, t, r0, rows, row_bytes, &bt, &pc.t_base));
        pc.row_lo = u32(r0);
        pc.row_hi = u32(r0 + rows);
        const struct kiln_vk_binding *b[KILN_VK_BINDINGS] = { &bt, &bi, &bs, &bd };
        KILN_TRY(kiln_vk_dispatch(s, p, b, &pc, sizeof pc, div_up((uint64_t)pc.k * pc.n, 256), 1));
    }
    return KILN_OK;
}

enum kiln_status kiln_vk_launch(struct kiln_stream *s, const struct kiln_kernel *kernel,
                                const struct kiln_op *op) {
    switch (op->kind) {
    case KILN_OP_MATMUL: return launch_matmul(s, kernel, op);
    case KILN_OP_ATTENTION: return launch_attention(s, op);
    case KILN_OP_DEQUANT:
    case KILN_OP_COPY: return launch_convert(s, op);
    case KILN_OP_RMSNORM: return launch_rmsnorm(s, op);
    case KILN_OP_ROPE: return launch_rope(s, op);
    case KILN_OP_ADD: return launch_binary(s, op, 0);
    case KILN_OP_SWIGLU: return launch_binary(s, op, 1);
    case KILN_OP_GET_ROWS: return launch_get_rows(s, op);
    default: return kiln_fail(KILN_E_UNSUPPORTED, "vulkan: no kernel for %s", kiln_op_name(op->kind));
    }
}

// ---- roofline probes ----
struct probe_pc {
    uint32_t n_vec4, iters;
    float seed;
};

enum kiln_status kiln_vk_probe(struct kiln_stream *s, enum kiln_probe_kind kind, struct kiln_buffer *a,
                               struct kiln_buffer *b, size_t bytes, double flops, double *flops_done) {
    if (kind == KILN_PROBE_INT8)
        return kiln_fail(KILN_E_UNSUPPORTED, "vulkan: no int8 roofline probe (integer dot products are an optional extension)");
    if (kind == KILN_PROBE_TENSOR)
        return kiln_fail(KILN_E_UNSUPPORTED, "vulkan: no matrix unit probe (no cooperative-matrix shaders yet)");
    struct kiln_vk_device *vd = kiln_vk_dev(s->device);
    const struct kiln_tensor tb = kiln_tensor_make(b, 0, KILN_TYPE_I32, 1024, 1, 1, 1);
    struct kiln_vk_binding bb;
    uint32_t base;
    KILN_TRY(bind(vd, &tb, true, &bb, &base));
    VkPipeline p;
    if (kind == KILN_PROBE_COPY) {
        const struct kiln_vk_alloc *aa = a->handle, *ab = b->handle;
        const struct kiln_vk_binding src = { aa->block->buffer, aa->offset, bytes, false };
        const struct kiln_vk_binding dst = { ab->block->buffer, ab->offset, bytes, true };
        return kiln_vk_copy(s, &src, &dst);
    }
    if (kind == KILN_PROBE_FMA) {
        KILN_TRY(pipeline(s, KILN_VK_PROBE, 0, 1, &p));
        const uint32_t groups = 2048, per_iter = 64 * 256;  // 64 FLOP per invocation per iteration
        const double iters = flops / ((double)groups * per_iter) + 1.0;
        struct probe_pc pc = { 0, (uint32_t)iters, 1.0f };
        *flops_done = (double)pc.iters * groups * per_iter;
        const struct kiln_vk_binding *bs[KILN_VK_BINDINGS] = { NULL, NULL, NULL, &bb };
        return kiln_vk_dispatch(s, p, bs, &pc, sizeof pc, groups, 1);
    }
    KILN_TRY(pipeline(s, KILN_VK_PROBE, 0, 0, &p));
    const size_t window = (size_t)(vd->max_range - 512) & ~(size_t)4095;
    for (size_t off = 0; off < bytes; off += window) {
        const size_t n = bytes - off < window ? bytes - off : window;
        const struct kiln_tensor ta = kiln_tensor_make(a, off, KILN_TYPE_I32, (int64_t)(n / 4), 1, 1, 1);
        struct kiln_vk_binding ba;
        uint32_t abase;
        KILN_TRY(bind(vd, &ta, false, &ba, &abase));
        struct probe_pc pc = { (uint32_t)(n / 16), 0, 0.0f };
        const struct kiln_vk_binding *bs[KILN_VK_BINDINGS] = { &ba, NULL, NULL, &bb };
        KILN_TRY(kiln_vk_dispatch(s, p, bs, &pc, sizeof pc, 1024, 1));
    }
    return KILN_OK;
}
