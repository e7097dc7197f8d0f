// matmul, NEON (baseline Armv8-A): y[n][m] = x[n][k] . W[m][k]^T for W in f32, f16, bf16, q8_0, q4_0.
//
// Layouts: as matmul.h. f16 W: each 4 halves widened with vcvt, FMA against f32 x in two
// accumulators. q8_0/q4_0 W: x quantized to Q8_0 rows first (d = amax/127, codes rounded half
// to even with vcvtnq, as ggml's NEON quantizer), then per block vmull_s8 products summed with
// vpadalq into int32 and scaled by d_w * d_x. matmul_neon_dotprod.c replaces that block dot with
// SDOT where the CPU has it. Threads split the W rows (kiln_matmul_neon_drive).
//
// f32 and bf16 W (bf16 widened by a shift, exact) likewise against f32 x.
// Versions: v1 (this; f32 and bf16 added later: before, they ran the reference on Arm).
// Test: `kiln ops --op matmul` (CI: under qemu-aarch64).
#include <string.h>

#include "kernels/common/simd_neon.h"
#include "kernels/matmul/matmul_neon.h"
#include "quant/format/blocks.h"

static size_t xq_row_bytes(const struct kiln_op *op) {
    return kiln_row_size(KILN_TYPE_Q8_0, op->src[1].ne[0]);
}

size_t kiln_matmul_neon_q8_workspace(const struct kiln_op *op, int nth) {
    (void)nth;
    return (size_t)op->src[1].ne[1] * xq_row_bytes(op);
}

static void quantize_row_q8_0_neon(const float *x, struct kiln_block_q8_0 *y, int64_t k) {
    for (int64_t b = 0; b < k / KILN_QK8_0; b++, x += KILN_QK8_0) {
        float32x4_t v[8];
        float32x4_t amax = vdupq_n_f32(0.0f);
        for (int i = 0; i < 8; i++) {
            v[i] = vld1q_f32(x + 4 * i);
            amax = vmaxq_f32(amax, vabsq_f32(v[i]));
        }
        const float max = vmaxvq_f32(amax);
        const float d = max / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        int16x4_t q16[8];
        for (int i = 0; i < 8; i++)
            q16[i] = vqmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(v[i], id)));
        for (int h = 0; h < 2; h++) {  // elements 16h .. 16h+15
            const int8x8_t first = vqmovn_s16(vcombine_s16(q16[4 * h], q16[4 * h + 1]));
            const int8x8_t second = vqmovn_s16(vcombine_s16(q16[4 * h + 2], q16[4 * h + 3]));
            vst1q_s8(y[b].qs + 16 * h, vcombine_s8(first, second));
        }
    }
}

void kiln_matmul_neon_q8_prepare(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *x = &op->src[1];
    int64_t lo, hi;
    kiln_split(x->ne[1], ith, nth, &lo, &hi);
    for (int64_t j = lo; j < hi; j++)
        quantize_row_q8_0_neon(KILN_ROW(x, j, 0, 0), (void *)((char *)ws + (size_t)j * xq_row_bytes(op)),
                               x->ne[0]);
}

void kiln_matmul_neon_drive(const struct kiln_op *op, const void *xq, kiln_neon_row_dot dot,
                            int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *x = &op->src[1], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    int64_t lo, hi;
    kiln_split(m, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        const void *wr = KILN_ROW(w, i, 0, 0);
        for (int64_t j = 0; j < n; j++) {
            const void *xr = xq ? (const char *)xq + (size_t)j * xq_row_bytes(op) : KILN_ROW(x, j, 0, 0);
            ((float *)KILN_ROW(y, j, 0, 0))[i] = dot(wr, xr, k);
        }
    }
}

static float dot_f32(const void *w, const void *x, int64_t k) {
    const float *wf = w, *xf = x;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    int64_t l = 0;
    for (; l + 8 <= k; l += 8) {
        acc0 = vfmaq_f32(acc0, vld1q_f32(wf + l), vld1q_f32(xf + l));
        acc1 = vfmaq_f32(acc1, vld1q_f32(wf + l + 4), vld1q_f32(xf + l + 4));
    }
    float s = vaddvq_f32(vaddq_f32(acc0, acc1));
    for (; l < k; l++)
        s += wf[l] * xf[l];
    return s;
}

// bf16 is the top half of an f32: widened by a shift (exact), then as f32.
static float dot_bf16(const void *w, const void *x, int64_t k) {
    const uint16_t *wh = w;
    const float *xf = x;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    int64_t l = 0;
    for (; l + 8 <= k; l += 8) {
        const uint16x8_t h = vld1q_u16(wh + l);
        acc0 = vfmaq_f32(acc0, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)), vld1q_f32(xf + l));
        acc1 = vfmaq_f32(acc1, vreinterpretq_f32_u32(vshll_high_n_u16(h, 16)), vld1q_f32(xf + l + 4));
    }
    float s = vaddvq_f32(vaddq_f32(acc0, acc1));
    for (; l < k; l++) {
        const uint32_t bits = (uint32_t)wh[l] << 16;
        float v;
        memcpy(&v, &bits, sizeof v);
        s += v * xf[l];
    }
    return s;
}

static float dot_f16(const void *w, const void *x, int64_t k) {
    const uint16_t *wh = w;
    const float *xf = x;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    int64_t l = 0;
    for (; l + 8 <= k; l += 8) {
        acc0 = vfmaq_f32(acc0, kiln_load_f16x4(wh + l), vld1q_f32(xf + l));
        acc1 = vfmaq_f32(acc1, kiln_load_f16x4(wh + l + 4), vld1q_f32(xf + l + 4));
    }
    float s = vaddvq_f32(vaddq_f32(acc0, acc1));
    for (; l < k; l++)
        s += kiln_f16_to_f32_neon(wh[l]) * xf[l];
    return s;
}

// Sum of the products of 16 int8 pairs, widened: vmull then pairwise-add into int32.
static inline int32x4_t mul_acc16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_s8(vget_high_s8(a), vget_high_s8(b)));
}

static float dot_q8_0(const void *w, const void *x, int64_t k) {
    const struct kiln_block_q8_0 *wb = w, *xb = x;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < k / KILN_QK8_0; b++) {
        int32x4_t s = vdupq_n_s32(0);
        s = mul_acc16(s, vld1q_s8(wb[b].qs), vld1q_s8(xb[b].qs));
        s = mul_acc16(s, vld1q_s8(wb[b].qs + 16), vld1q_s8(xb[b].qs + 16));
        const float d = kiln_f16_to_f32_neon(wb[b].d) * kiln_f16_to_f32_neon(xb[b].d);
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), d);
    }
    return vaddvq_f32(acc);
}

static float dot_q4_0(const void *w, const void *x, int64_t k) {
    const struct kiln_block_q4_0 *wb = w;
    const struct kiln_block_q8_0 *xb = x;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < k / KILN_QK8_0; b++) {
        int8x16_t lo, hi;
        kiln_unpack_q4_0_neon(wb[b].qs, &lo, &hi);
        int32x4_t s = vdupq_n_s32(0);
        s = mul_acc16(s, lo, vld1q_s8(xb[b].qs));
        s = mul_acc16(s, hi, vld1q_s8(xb[b].qs + 16));
        const float d = kiln_f16_to_f32_neon(wb[b].d) * kiln_f16_to_f32_neon(xb[b].d);
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), d);
    }
    return vaddvq_f32(acc);
}

static void f32_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    kiln_matmul_neon_drive(op, NULL, dot_f32, ith, nth);
}
static void bf16_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    kiln_matmul_neon_drive(op, NULL, dot_bf16, ith, nth);
}
static void f16_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    kiln_matmul_neon_drive(op, NULL, dot_f16, ith, nth);
}
static void q8_0_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    kiln_matmul_neon_drive(op, ws, dot_q8_0, ith, nth);
}
static void q4_0_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    kiln_matmul_neon_drive(op, ws, dot_q4_0, ith, nth);
}

const struct kiln_cpu_kernel kiln_matmul_f32_neon = { .compute = f32_compute };
const struct kiln_cpu_kernel kiln_matmul_bf16_neon = { .compute = bf16_compute };
const struct kiln_cpu_kernel kiln_matmul_f16_neon = { .compute = f16_compute };
const struct kiln_cpu_kernel kiln_matmul_q8_0_neon = {
    .workspace = kiln_matmul_neon_q8_workspace, .prepare = kiln_matmul_neon_q8_prepare,
    .compute = q8_0_compute };
const struct kiln_cpu_kernel kiln_matmul_q4_0_neon = {
    .workspace = kiln_matmul_neon_q8_workspace, .prepare = kiln_matmul_neon_q8_prepare,
    .compute = q4_0_compute };
