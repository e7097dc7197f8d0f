// The checker must be able to fail. A fake device (the CPU's memory and streams, its own kernel
// table) carries deliberately broken kernels, one or more per op and per ceiling class; each
// must fail kiln_check_run for the right reason, and the correct kernels on the same device
// must pass. The "diluted" faults are ones a single NMSE over the whole output would have let
// through: for those the test also asserts that the global NMSE stayed under its ceiling, so
// only the localized checks (worst row, column, element) can have caught them.
#include <math.h>
#include <string.h>

#include "backends/backend_impl.h"
#include "backends/cpu/cpu_kernel.h"
#include "bench/check/opcheck.h"
#include "tests/fake_device.h"
#include "kernels/attention/attention.h"
#include "kernels/dequant/dequant.h"
#include "kernels/matmul/matmul.h"
#include "kernels/model_ops/model_ops.h"
#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "tests/check.h"

static void run_ref(const struct kiln_cpu_kernel *impl, const struct kiln_op *op) {
    const size_t ws_size = impl->workspace ? impl->workspace(op, 1) : 0;
    void *ws = ws_size ? malloc(ws_size) : NULL;
    if (impl->prepare)
        impl->prepare(op, ws, 0, 1);
    impl->compute(op, ws, 0, 1);
    free(ws);
}

static float *y_at(const struct kiln_tensor *y, int64_t i, int64_t j) {
    return (float *)KILN_ROW(y, j, 0, 0) + i;
}

// ---- matmul, f32 weights (the exact class, ceiling 1e-10) ----

enum mm_fault { MM_GOOD, MM_PAST_END, MM_INTO_GAP, MM_UNWRITTEN, MM_ONE_ELEMENT, MM_ONE_ROW, MM_TAIL, MM_NOISY };

static void mm_faulty(const struct kiln_op *op, enum mm_fault f) {
    const struct kiln_tensor *y = &op->dst;
    const int64_t m = y->ne[0], n = y->ne[1];
    float before;
    memcpy(&before, y_at(y, 0, 0), sizeof before);  // whatever the checker left there
    run_ref(&kiln_matmul_ref, op);
    switch (f) {
    case MM_GOOD: break;
    case MM_PAST_END: y_at(y, m, n - 1)[0] = 1.0f; break;   // one float after the view
    case MM_INTO_GAP: y_at(y, m, 0)[0] = 1.0f; break;       // into the padding after row 0
    case MM_UNWRITTEN: memcpy(y_at(y, 0, 0), &before, sizeof before); break;  // never stored
    case MM_ONE_ELEMENT: {                       // one output off by 1e-3 of the outputs' rms
        double sum2 = 0.0;
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < m; i++)
                sum2 += (double)*y_at(y, i, j) * *y_at(y, i, j);
        *y_at(y, m / 2, n / 2) += (float)(1e-3 * sqrt(sum2 / (double)(m * n)));
        break;
    }
    case MM_ONE_ROW:                                         // one token's outputs, 1e-4 off
        for (int64_t i = 0; i < m; i++)
            *y_at(y, i, n / 2) *= 1.0f + 1e-4f;
        break;
    case MM_TAIL:                                            // the last output of every row
        for (int64_t j = 0; j < n; j++)
            *y_at(y, m - 1, j) *= 1.0f + 1e-4f;
        break;
    case MM_NOISY:                                           // 0.1% on one element per row
        for (int64_t j = 0; j < n; j++)
            *y_at(y, j % m, j) *= 1.001f;
        break;
    }
}

// ---- matmul, Q8_0 weights with x quantized to Q8_0 (declared KILN_ROUND_X_Q8_0_INV127) ----

enum xq_method { XQ_GOOD, XQ_TRUNCATE, XQ_SEVEN_BIT, XQ_ROW_SCALE, XQ_NONE, XQ_NO_ZERO_GUARD, XQ_F16_D,
                 XQ_TAIL_ZERO, XQ_F32_GOOD };

// y = W . x with x quantized per `method`, accumulated in double: a kernel whose arithmetic is
// exact except for its activation quantizer.
static void xq_matmul(const struct kiln_op *op, enum xq_method method) {
    const struct kiln_tensor *w = &op->src[0], *x = &op->src[1], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    float *xq = malloc((size_t)k * sizeof(float)), *wr = malloc((size_t)k * sizeof(float));
    for (int64_t j = 0; j < n; j++) {
        const float *xr = KILN_ROW(x, j, 0, 0);
        float row_amax = 0.0f;
        for (int64_t l = 0; l < k; l++)
            row_amax = fmaxf(row_amax, fabsf(xr[l]));
        for (int64_t b = 0; b < k; b += 32) {
            float amax = 0.0f;
            for (int l = 0; l < 32; l++)
                amax = fmaxf(amax, fabsf(xr[b + l]));
            if (method == XQ_ROW_SCALE)
                amax = row_amax;
            const float levels = method == XQ_SEVEN_BIT ? 63.0f : 127.0f;
            // XQ_NO_ZERO_GUARD: 127/0 = inf, and 0 * inf = NaN on an all-zero block.
            // XQ_F32_GOOD / XQ_F16_D: the CUDA dp4a formula (1/d, d kept in f32), done right or
            // with d rounded to f16 as the CPU rows store it.
            const float id = method == XQ_F32_GOOD || method == XQ_F16_D
                                 ? (amax != 0.0f ? 1.0f / (amax / 127.0f) : 0.0f)
                                 : (amax != 0.0f || method == XQ_NO_ZERO_GUARD ? levels / amax : 0.0f);
            const float d = method == XQ_F32_GOOD ? amax / 127.0f : kiln_f16_to_f32(kiln_f32_to_f16(amax / levels));
            for (int l = 0; l < 32; l++) {
                const float v = xr[b + l] * id;
                xq[b + l] = method == XQ_NONE ? xr[b + l] : (method == XQ_TRUNCATE ? truncf(v) : rintf(v)) * d;
            }
        }
        for (int64_t i = 0; i < m; i++) {
            kiln_type_traits(w->type)->to_float(KILN_ROW(w, i, 0, 0), wr, k);
            double acc = 0.0;
            for (int64_t l = 0; l < k; l++)
                acc += (double)wr[l] * xq[l];
            *y_at(y, i, j) = (float)acc;
        }
        if (method == XQ_TAIL_ZERO)
            *y_at(y, m - 1, j) = 0.0f;  // the last output: a tail loop that never ran
    }
    free(xq);
    free(wr);
}

// ---- matmul with W and x rounded (declared KILN_ROUND_WX_F16, the tensor-core class) ----

static float to_bf16(float v) { return kiln_bf16_to_f32(kiln_f32_to_bf16(v)); }
static float to_f16(float v) { return kiln_f16_to_f32(kiln_f32_to_f16(v)); }

static void wx_matmul(const struct kiln_op *op, float (*round)(float)) {
    const struct kiln_tensor *w = &op->src[0], *x = &op->src[1], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    float *wr = malloc((size_t)k * sizeof(float));
    for (int64_t i = 0; i < m; i++) {
        kiln_type_traits(w->type)->to_float(KILN_ROW(w, i, 0, 0), wr, k);
        for (int64_t j = 0; j < n; j++) {
            const float *xr = KILN_ROW(x, j, 0, 0);
            double acc = 0.0;
            for (int64_t l = 0; l < k; l++)
                acc += (double)round(wr[l]) * round(xr[l]);
            *y_at(y, i, j) = (float)acc;
        }
    }
    free(wr);
}

// ---- layout faults: a kernel that assumes contiguous rows, or an aligned output ----

static void mm_ignores_row_stride(const struct kiln_op *op) {  // x and y rows taken as packed
    struct kiln_op packed = *op;
    packed.src[1].nb[1] = kiln_row_size(op->src[1].type, op->src[1].ne[0]);
    packed.dst.nb[1] = kiln_row_size(op->dst.type, op->dst.ne[0]);
    run_ref(&kiln_matmul_ref, &packed);
}

static void mm_aligns_output(const struct kiln_op *op) {  // writes from the 16-byte-aligned address
    struct kiln_op aligned = *op;
    const uintptr_t base = (uintptr_t)kiln_buffer_host_ptr(op->dst.buffer);
    aligned.dst.offset = (size_t)(((base + op->dst.offset) & ~(uintptr_t)15) - base);
    run_ref(&kiln_matmul_ref, &aligned);
}

static void dequant_q8_0_clamps(const struct kiln_op *op) {  // codes clamped to [-127, 127]
    for (int64_t r = 0; r < kiln_tensor_nrows(&op->dst); r++) {
        const struct kiln_block_q8_0 *b = kiln_tensor_row(&op->src[0], r);
        float *y = kiln_tensor_row(&op->dst, r);
        for (int64_t blk = 0; blk < op->dst.ne[0] / 32; blk++)
            for (int l = 0; l < 32; l++)
                y[blk * 32 + l] = (float)(b[blk].qs[l] < -127 ? -127 : b[blk].qs[l]) * kiln_f16_to_f32(b[blk].d);
    }
}

// ---- attention (f32 K/V) ----

// Float attention as a naive kernel would write it: softmax without subtracting the max
// (exp overflows on large scores), or with probabilities stored as f16; with round_q, q rounded
// that way first (the tensor-core class, declared KILN_ROUND_Q_F16).
static void attention_float(const struct kiln_op *op, bool subtract_max, bool f16_probs, float (*round_q)(float)) {
    const struct kiln_tensor *q = &op->src[0], *kt = &op->src[1], *v = &op->src[2], *o = &op->dst;
    const int64_t d = q->ne[0], group = q->ne[2] / kt->ne[2];
    float *p = malloc((size_t)kt->ne[1] * sizeof(float)), *qr = malloc((size_t)d * sizeof(float));
    for (int64_t h = 0; h < q->ne[2]; h++) {
        for (int64_t i = 0; i < q->ne[1]; i++) {
            const float *src = KILN_ROW(q, i, h, 0);
            for (int64_t l = 0; l < d; l++)
                qr[l] = round_q ? round_q(src[l]) : src[l];
            const int64_t visible = kiln_attention_visible(op, i);
            float max = -INFINITY, sum = 0.0f;
            for (int64_t j = 0; j < visible; j++) {
                const float *kr = KILN_ROW(kt, j, h / group, 0);
                float s = 0.0f;
                for (int64_t l = 0; l < d; l++)
                    s += qr[l] * kr[l];
                p[j] = s * op->params.attention.scale;
                max = fmaxf(max, p[j]);
            }
            for (int64_t j = 0; j < visible; j++) {
                p[j] = expf(subtract_max ? p[j] - max : p[j]);
                if (f16_probs)
                    p[j] = kiln_f16_to_f32(kiln_f32_to_f16(p[j]));
                sum += p[j];
            }
            float *out = KILN_ROW(o, i, h, 0);
            for (int64_t l = 0; l < d; l++) {
                float acc = 0.0f;
                for (int64_t j = 0; j < visible; j++)
                    acc += p[j] * ((const float *)KILN_ROW(v, j, h / group, 0))[l];
                out[l] = acc / sum;
            }
        }
    }
    free(p);
    free(qr);
}

// ---- the model ops ----

static void rmsnorm_n_minus_1(const struct kiln_op *op) {  // the mean over n - 1 elements
    const struct kiln_tensor *x = &op->src[0];
    const int64_t n = x->ne[0];
    for (int64_t r = 0; r < kiln_tensor_nrows(x); r++) {
        const float *xr = kiln_tensor_row(x, r);
        float *yr = kiln_tensor_row(&op->dst, r);
        const float *w = kiln_tensor_row(&op->src[1], 0);
        double sum = 0.0;
        for (int64_t l = 0; l < n; l++)
            sum += (double)xr[l] * xr[l];
        const double scale = 1.0 / sqrt(sum / (double)(n - 1) + op->params.rmsnorm.eps);
        for (int64_t l = 0; l < n; l++)
            yr[l] = (float)(xr[l] * scale * w[l]);
    }
}

static void rope_f32_angle(const struct kiln_op *op) {  // theta formed in f32
    const struct kiln_tensor *x = &op->src[0];
    const struct kiln_rope_params *p = &op->params.rope;
    const int32_t *pos = kiln_tensor_row(&op->src[1], 0);
    const int64_t half = p->n_dims / 2;
    for (int64_t r = 0; r < kiln_tensor_nrows(x); r++) {
        const float *xr = kiln_tensor_row(x, r);
        float *yr = kiln_tensor_row(&op->dst, r);
        memcpy(yr, xr, (size_t)x->ne[0] * sizeof(float));
        for (int64_t i = 0; i < half; i++) {
            const float theta = (float)pos[r / x->ne[1]] * powf(p->theta_base, -2.0f * (float)i / (float)p->n_dims);
            const int64_t a = p->mode == KILN_ROPE_NEOX ? i : 2 * i, b = p->mode == KILN_ROPE_NEOX ? i + half : 2 * i + 1;
            const double c = cos((double)theta), s = sin((double)theta);
            yr[a] = (float)(xr[a] * c - xr[b] * s);
            yr[b] = (float)(xr[a] * s + xr[b] * c);
        }
    }
}

static void swiglu_one_element(const struct kiln_op *op) {
    run_ref(&kiln_swiglu_ref, op);
    float *row = kiln_tensor_row(&op->dst, 0);
    row[op->dst.ne[0] / 2] = row[op->dst.ne[0] / 2] * 1.001f + 1e-3f;
}

static void add_skips_tail(const struct kiln_op *op) {  // the last element of a row: a only
    run_ref(&kiln_add_ref, op);
    const int64_t n = op->dst.ne[0];
    for (int64_t r = 0; r < kiln_tensor_nrows(&op->dst); r++)
        ((float *)kiln_tensor_row(&op->dst, r))[n - 1] = ((const float *)kiln_tensor_row(&op->src[0], r))[n - 1];
}

static void get_rows_clamps(const struct kiln_op *op) {  // ids >= n_rows - 1 read row n_rows - 2
    const struct kiln_tensor *table = &op->src[0];
    const int32_t *ids = kiln_tensor_row(&op->src[1], 0);
    for (int64_t i = 0; i < op->dst.ne[1]; i++) {
        const int64_t id = ids[i] >= table->ne[1] - 1 ? table->ne[1] - 2 : ids[i];
        kiln_type_traits(table->type)->to_float(KILN_ROW(table, id, 0, 0), KILN_ROW(&op->dst, i, 0, 0), table->ne[0]);
    }
}

static void copy_truncates(const struct kiln_op *op) {  // f32 -> f16 by dropping mantissa bits
    for (int64_t r = 0; r < kiln_tensor_nrows(&op->dst); r++) {
        const float *src = kiln_tensor_row(&op->src[0], r);
        kiln_half *dst = kiln_tensor_row(&op->dst, r);
        for (int64_t l = 0; l < op->dst.ne[0]; l++) {
            uint32_t bits;
            memcpy(&bits, &src[l], 4);
            bits &= ~0x1FFFu;  // what survives, so the f16 conversion has nothing to round
            float t;
            memcpy(&t, &bits, 4);
            dst[l] = kiln_f32_to_f16(t);
        }
    }
}

static void dequant_q4_0_minus_7(const struct kiln_op *op) {  // codes - 7 instead of - 8
    for (int64_t r = 0; r < kiln_tensor_nrows(&op->dst); r++) {
        const struct kiln_block_q4_0 *b = kiln_tensor_row(&op->src[0], r);
        float *y = kiln_tensor_row(&op->dst, r);
        for (int64_t blk = 0; blk < op->dst.ne[0] / 32; blk++) {
            const float d = kiln_f16_to_f32(b[blk].d);
            for (int l = 0; l < 16; l++) {
                y[blk * 32 + l] = ((b[blk].qs[l] & 15) - 7) * d;
                y[blk * 32 + l + 16] = ((b[blk].qs[l] >> 4) - 7) * d;
            }
        }
    }
}

// ---- the fake device's table ----

#define KERNEL(name, body)                                                                   \
    static void name##_compute(const struct kiln_op *op, void *ws, int ith, int nth) {       \
        (void)ws; (void)ith; (void)nth;                                                      \
        body;                                                                                \
    }                                                                                        \
    static const struct kiln_cpu_kernel name = { .compute = name##_compute };
KERNEL(k_mm_good, mm_faulty(op, MM_GOOD))
KERNEL(k_mm_past_end, mm_faulty(op, MM_PAST_END))
KERNEL(k_mm_into_gap, mm_faulty(op, MM_INTO_GAP))
KERNEL(k_mm_unwritten, mm_faulty(op, MM_UNWRITTEN))
KERNEL(k_mm_one_element, mm_faulty(op, MM_ONE_ELEMENT))
KERNEL(k_mm_one_row, mm_faulty(op, MM_ONE_ROW))
KERNEL(k_mm_tail, mm_faulty(op, MM_TAIL))
KERNEL(k_mm_noisy, mm_faulty(op, MM_NOISY))
KERNEL(k_xq_good, xq_matmul(op, XQ_GOOD))
KERNEL(k_xq_truncate, xq_matmul(op, XQ_TRUNCATE))
KERNEL(k_xq_seven_bit, xq_matmul(op, XQ_SEVEN_BIT))
KERNEL(k_xq_row_scale, xq_matmul(op, XQ_ROW_SCALE))
KERNEL(k_xq_none, xq_matmul(op, XQ_NONE))
KERNEL(k_xq_no_zero_guard, xq_matmul(op, XQ_NO_ZERO_GUARD))
KERNEL(k_xq_tail_zero, xq_matmul(op, XQ_TAIL_ZERO))
KERNEL(k_xq32_good, xq_matmul(op, XQ_F32_GOOD))
KERNEL(k_xq32_f16_d, xq_matmul(op, XQ_F16_D))
KERNEL(k_wx_f16, wx_matmul(op, to_f16))
KERNEL(k_wx_bf16, wx_matmul(op, to_bf16))
KERNEL(k_mm_row_stride, mm_ignores_row_stride(op))
KERNEL(k_mm_aligned, mm_aligns_output(op))
KERNEL(k_dequant_q8, dequant_q8_0_clamps(op))
KERNEL(k_at_good, attention_float(op, true, false, NULL))
KERNEL(k_at_no_max, attention_float(op, false, false, NULL))
KERNEL(k_at_f16_probs, attention_float(op, true, true, NULL))
KERNEL(k_at_q16_good, attention_float(op, true, false, to_f16))
KERNEL(k_at_q16_as_bf16, attention_float(op, true, false, to_bf16))
KERNEL(k_at_q16_f16_probs, attention_float(op, true, true, to_f16))
KERNEL(k_rmsnorm, rmsnorm_n_minus_1(op))
KERNEL(k_rope, rope_f32_angle(op))
KERNEL(k_swiglu, swiglu_one_element(op))
KERNEL(k_add, add_skips_tail(op))
KERNEL(k_get_rows, get_rows_clamps(op))
KERNEL(k_copy, copy_truncates(op))
KERNEL(k_dequant, dequant_q4_0_minus_7(op))

static enum kiln_input_rounding x_q8_inv127(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_X_Q8_0_INV127;
}

static enum kiln_input_rounding x_q8_f32d(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_X_Q8_0_INVD_F32;
}

static enum kiln_input_rounding wx_f16(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_WX_F16;
}

static enum kiln_input_rounding q_f16(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_Q_F16;
}

#define F32 KILN_TYPE_F32
#define ANY KILN_TYPE_ANY
#define ROW(op_, src_, src1_, dst_, impl_)                                                         \
    { .op = KILN_OP_##op_, .src_type = src_, .src1_type = src1_, .dst_type = dst_,                 \
      .tier = KILN_TIER_SIMD, .isa = #impl_, .impl = &impl_ }
#define XQROW(impl_)                                                                               \
    { .op = KILN_OP_MATMUL, .src_type = KILN_TYPE_Q8_0, .src1_type = F32, .dst_type = F32,         \
      .tier = KILN_TIER_SIMD, .isa = #impl_, .impl = &impl_, .rounding = x_q8_inv127 }
static const struct kiln_kernel table[] = {
    ROW(MATMUL, F32, F32, F32, k_mm_good), ROW(MATMUL, F32, F32, F32, k_mm_past_end),
    ROW(MATMUL, F32, F32, F32, k_mm_into_gap), ROW(MATMUL, F32, F32, F32, k_mm_unwritten),
    ROW(MATMUL, F32, F32, F32, k_mm_one_element), ROW(MATMUL, F32, F32, F32, k_mm_one_row),
    ROW(MATMUL, F32, F32, F32, k_mm_tail), ROW(MATMUL, F32, F32, F32, k_mm_noisy),
    XQROW(k_xq_good), XQROW(k_xq_truncate), XQROW(k_xq_seven_bit), XQROW(k_xq_row_scale),
    XQROW(k_xq_none), XQROW(k_xq_no_zero_guard), XQROW(k_xq_tail_zero),
    { .op = KILN_OP_MATMUL, .src_type = KILN_TYPE_Q8_0, .src1_type = F32, .dst_type = F32,
      .tier = KILN_TIER_SIMD, .isa = "k_xq32_good", .impl = &k_xq32_good, .rounding = x_q8_f32d },
    { .op = KILN_OP_MATMUL, .src_type = KILN_TYPE_Q8_0, .src1_type = F32, .dst_type = F32,
      .tier = KILN_TIER_SIMD, .isa = "k_xq32_f16_d", .impl = &k_xq32_f16_d, .rounding = x_q8_f32d },
    { .op = KILN_OP_MATMUL, .src_type = KILN_TYPE_Q4_0, .src1_type = F32, .dst_type = F32,
      .tier = KILN_TIER_SIMD, .isa = "k_wx_f16", .impl = &k_wx_f16, .rounding = wx_f16 },
    { .op = KILN_OP_MATMUL, .src_type = KILN_TYPE_Q4_0, .src1_type = F32, .dst_type = F32,
      .tier = KILN_TIER_SIMD, .isa = "k_wx_bf16", .impl = &k_wx_bf16, .rounding = wx_f16 },
    ROW(MATMUL, F32, F32, F32, k_mm_row_stride), ROW(MATMUL, F32, F32, F32, k_mm_aligned),
    ROW(DEQUANT, ANY, ANY, ANY, k_dequant_q8),
    ROW(ATTENTION, F32, F32, F32, k_at_good), ROW(ATTENTION, F32, F32, F32, k_at_no_max),
    ROW(ATTENTION, F32, F32, F32, k_at_f16_probs),
#define QROW(impl_)                                                                                \
    { .op = KILN_OP_ATTENTION, .src_type = F32, .src1_type = F32, .dst_type = F32,                 \
      .tier = KILN_TIER_SIMD, .isa = #impl_, .impl = &impl_, .rounding = q_f16 }
    QROW(k_at_q16_good), QROW(k_at_q16_as_bf16), QROW(k_at_q16_f16_probs),
    ROW(RMSNORM, F32, ANY, F32, k_rmsnorm), ROW(ROPE, F32, KILN_TYPE_I32, F32, k_rope),
    ROW(SWIGLU, F32, F32, F32, k_swiglu), ROW(ADD, F32, F32, F32, k_add),
    ROW(GET_ROWS, ANY, KILN_TYPE_I32, F32, k_get_rows), ROW(COPY, ANY, ANY, ANY, k_copy),
    ROW(DEQUANT, ANY, ANY, ANY, k_dequant),
};

static const struct kiln_kernel *row(const char *isa) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].isa, isa) == 0)
            return &table[i];
    abort();
}

static enum kiln_status fake_launch(struct kiln_stream *s, const struct kiln_kernel *k,
                                    const struct kiln_op *op) {
    (void)s;
    ((const struct kiln_cpu_kernel *)k->impl)->compute(op, NULL, 0, 1);
    return KILN_OK;
}

enum expect { PASSES, FAILS, FAILS_DILUTED };

// Runs one kernel on one case and checks the verdict; prints the failing line it produced.
static void expect(struct kiln_stream *s, const char *isa, struct kiln_check_case c, enum expect e,
                   const char *what) {
    struct kiln_check_result r;
    const enum kiln_status st = kiln_check_run(s, row(isa), &c, 7, &r);
    CHECK(st == KILN_OK && r.ran, "%s: the check ran (%s)", what, st == KILN_OK ? r.note : kiln_last_error());
    if (e == PASSES) {
        CHECK(r.pass, "%s passes: %s", what, r.note);
        return;
    }
    printf("  %-48s -> %s\n", what, r.note);
    CHECK(!r.pass && r.note[0], "%s is caught (nmse %g)", what, r.nmse);
    if (e == FAILS_DILUTED)
        CHECK(r.guards_ok && r.nmse <= r.ceiling,
              "%s: the whole-output NMSE (%g) is under its ceiling (%g), so only a localized "
              "check can catch it", what, r.nmse, r.ceiling);
}

#define MM(m_, n_, k_, type_) { .op = KILN_OP_MATMUL, .m = m_, .n = n_, .k = k_, .src_type = type_, .dst_type = F32 }

int main(void) {
    if (kiln_init(&(struct kiln_init_options){ .backends = "cpu" }) != KILN_OK)
        return 1;
    struct kiln_device *fake = fake_device_from_cpu("fake");
    CHECK(fake != NULL, "no cpu device");
    fake_iface.launch = fake_launch;
    fake->kernels = table;
    fake->n_kernels = (int)(sizeof table / sizeof table[0]);
    CHECK(kiln_device_add(fake) == KILN_OK, "%s", kiln_last_error());
    struct kiln_stream *s;
    CHECK(kiln_stream_new(fake, &s) == KILN_OK, "%s", kiln_last_error());

    const struct kiln_check_case small = MM(9, 3, 40, F32);
    struct kiln_check_case strided = small;
    strided.strided = true;
    const struct kiln_check_case wide = MM(4097, 7, 96, F32), tall = MM(64, 130, 64, F32);
    expect(s, "k_mm_good", small, PASSES, "a correct f32 matmul");
    expect(s, "k_mm_good", strided, PASSES, "a correct f32 matmul, strided");
    expect(s, "k_mm_good", wide, PASSES, "a correct f32 matmul, 4097 x 7");
    expect(s, "k_mm_past_end", small, FAILS, "matmul writes one float past its view");
    expect(s, "k_mm_into_gap", strided, FAILS, "matmul writes into the gap between rows");
    expect(s, "k_mm_unwritten", small, FAILS, "matmul leaves one element unwritten");
    expect(s, "k_mm_one_element", wide, FAILS_DILUTED, "one element of 28679 off by 1e-3 rms");
    expect(s, "k_mm_one_row", tall, FAILS_DILUTED, "one row of 130 off by 1e-4");
    expect(s, "k_mm_tail", wide, FAILS_DILUTED, "the tail output (m-1) off by 1e-4");
    expect(s, "k_mm_noisy", small, FAILS, "0.1% error in one element per row");

    const struct kiln_check_case q8 = MM(64, 7, 256, KILN_TYPE_Q8_0);
    expect(s, "k_xq_good", q8, PASSES, "x quantized exactly as declared");
    expect(s, "k_xq_truncate", q8, FAILS, "x quantizer truncates instead of rounding");
    expect(s, "k_xq_seven_bit", q8, FAILS, "x quantizer with a 7-bit scale (amax/63)");
    expect(s, "k_xq_row_scale", q8, FAILS, "x quantizer with one scale per row");
    expect(s, "k_xq_none", q8, FAILS, "a row declaring x rounding that does not round");
    expect(s, "k_xq_no_zero_guard", q8, FAILS, "x quantizer dividing by amax = 0 (zero block)");
    expect(s, "k_xq_tail_zero", (struct kiln_check_case)MM(4097, 1, 96, KILN_TYPE_Q8_0), FAILS, "the last output left 0, m = 4097");
    expect(s, "k_xq32_good", q8, PASSES, "x quantized the CUDA dp4a way (f32 d)");
    expect(s, "k_xq32_f16_d", q8, FAILS, "dp4a class with d rounded to f16");
    const struct kiln_check_case q4 = MM(40, 33, 128, KILN_TYPE_Q4_0);
    expect(s, "k_wx_f16", q4, PASSES, "W and x rounded to f16 (tensor-core class)");
    expect(s, "k_wx_bf16", q4, FAILS, "W and x rounded to bf16 in the f16 class");

    struct kiln_check_case permuted = MM(33, 5, 64, F32);
    permuted.batch = 3;
    permuted.permuted = true;
    struct kiln_check_case unaligned = MM(40, 3, 96, F32);
    unaligned.offset = true;
    expect(s, "k_mm_good", permuted, PASSES, "a correct f32 matmul, batched and permuted");
    expect(s, "k_mm_good", unaligned, PASSES, "a correct f32 matmul, unaligned views");
    expect(s, "k_mm_row_stride", permuted, FAILS, "matmul assuming packed rows (permuted batch)");
    expect(s, "k_mm_aligned", unaligned, FAILS, "matmul writing from an aligned-down address");

    const struct kiln_check_case at = { .op = KILN_OP_ATTENTION, .d = 64, .n_q = 5, .n_kv = 33,
                                        .h = 2, .h_kv = 1, .causal = false, .src_type = F32 };
    struct kiln_check_case hot = at;
    hot.hot = true;
    expect(s, "k_at_good", at, PASSES, "f32 attention");
    expect(s, "k_at_good", hot, PASSES, "f32 attention, large scores");
    expect(s, "k_at_no_max", at, PASSES, "softmax without the max, ordinary scores");
    expect(s, "k_at_no_max", hot, FAILS, "softmax without the max, large scores");
    expect(s, "k_at_f16_probs", at, FAILS, "attention with f16 probabilities");
    // q rounded to f16 (declared): judged tightly against the reference on q~, loosely (by the
    // scores' worst movement) against the exact one; bf16 q or f16 probabilities are caught.
    expect(s, "k_at_q16_good", at, PASSES, "attention, q to f16");
    expect(s, "k_at_q16_good", hot, PASSES, "attention, q to f16, large scores");
    expect(s, "k_at_q16_as_bf16", at, FAILS, "attention declaring q to f16, rounding to bf16");
    expect(s, "k_at_q16_f16_probs", at, FAILS, "attention, q to f16, f16 probabilities");

    expect(s, "k_rmsnorm", (struct kiln_check_case){ .op = KILN_OP_RMSNORM, .k = 4096, .n = 3, .src_type = F32 },
           FAILS, "rmsnorm dividing by n - 1");
    expect(s, "k_rope", (struct kiln_check_case){ .op = KILN_OP_ROPE, .k = 128, .h = 4, .n = 3, .src_type = F32 },
           FAILS, "rope with its angle formed in f32");
    expect(s, "k_swiglu", (struct kiln_check_case){ .op = KILN_OP_SWIGLU, .k = 4097, .n = 2, .src_type = F32 },
           FAILS_DILUTED, "swiglu with one element of 8194 off by 1e-3");
    expect(s, "k_add", (struct kiln_check_case){ .op = KILN_OP_ADD, .k = 33, .n = 7, .src_type = F32 },
           FAILS, "add that skips the last element of a row");
    expect(s, "k_get_rows", (struct kiln_check_case){ .op = KILN_OP_GET_ROWS, .k = 64, .m = 100, .n = 5, .src_type = F32 },
           FAILS, "get_rows reading row m-2 for id m-1");
    expect(s, "k_copy", (struct kiln_check_case){ .op = KILN_OP_COPY, .k = 64, .n = 3, .src_type = F32, .dst_type = KILN_TYPE_F16 },
           FAILS, "copy f32 -> f16 truncating");
    expect(s, "k_dequant_q8", (struct kiln_check_case){ .op = KILN_OP_DEQUANT, .k = 256, .n = 4, .src_type = KILN_TYPE_Q8_0, .dst_type = F32 },
           FAILS, "Q8_0 dequant clamping the code -128");
    expect(s, "k_dequant", (struct kiln_check_case){ .op = KILN_OP_DEQUANT, .k = 4096, .n = 3, .src_type = KILN_TYPE_Q4_0, .dst_type = F32 },
           FAILS, "Q4_0 dequant with codes - 7");

    kiln_stream_free(s);
    kiln_shutdown();
    return test_finish("test_opcheck_faults");
}
