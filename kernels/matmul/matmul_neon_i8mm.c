// matmul GEMM (n >= 16), NEON + i8mm (Armv8.6-A SMMLA; compiled with
// -march=armv8.2-a+dotprod+i8mm, selected only where getauxval reports I8MM: Neoverse V1/N2/V2,
// Graviton3+, Apple M2+), for q8_0 and q4_0 W against Q8_0 x (the NEON prepare step,
// matmul_neon.c: the rows declare KILN_ROUND_X_Q8_0_INVD). y[n][m] = x[n][k] . W[m][k]^T,
// layouts as matmul.h.
//
// SMMLA multiplies a 2 x 8 int8 matrix by the transpose of another into a 2 x 2 int32 tile:
// 32 multiply-adds per instruction, twice SDOT's 16, but only when two W rows meet two x
// columns. So this kernel takes W rows in pairs and x columns in pairs: per 32-element block,
// four SMMLA give the pair's 2 x 2 integer dots [r0.c0, r0.c1, r1.c0, r1.c1], scaled in one
// float multiply-add by [d_r0 d_c0, d_r0 d_c1, d_r1 d_c0, d_r1 d_c1]. An odd last row or column
// is paired with itself and its duplicate results dropped. Threads split the row pairs; each
// pair's blocks stay in L1 while every column pair passes.
// Versions: v1 (this). Speed cannot be measured under qemu (CI runs it there: correctness only).
// Test: `kiln ops --op matmul --type q8_0,q4_0 --kernel i8mm`.
#include <arm_neon.h>

#include "kernels/common/simd_neon.h"
#include "kernels/matmul/matmul_neon.h"
#include "quant/format/blocks.h"

// A block's 32 codes as two int8x16 (elements 0..15, 16..31).
static inline void block_codes(bool q4, const void *row, int64_t b, int8x16_t *c0, int8x16_t *c1, float *d) {
    if (q4) {
        const struct kiln_block_q4_0 *w = (const struct kiln_block_q4_0 *)row + b;
        kiln_unpack_q4_0_neon(w->qs, c0, c1);
        *d = kiln_f16_to_f32_neon(w->d);
    } else {
        const struct kiln_block_q8_0 *w = (const struct kiln_block_q8_0 *)row + b;
        *c0 = vld1q_s8(w->qs);
        *c1 = vld1q_s8(w->qs + 16);
        *d = kiln_f16_to_f32_neon(w->d);
    }
}

// Rows (a0, a1) x columns (x0, x1) over nb blocks: out = [a0.x0, a0.x1, a1.x0, a1.x1].
static inline __attribute__((always_inline)) float32x4_t pair_dots(bool q4, const void *a0, const void *a1,
                                                                   const struct kiln_block_q8_0 *x0,
                                                                   const struct kiln_block_q8_0 *x1, int64_t nb) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t w0[2], w1[2];
        float d0, d1;
        block_codes(q4, a0, b, &w0[0], &w0[1], &d0);
        block_codes(q4, a1, b, &w1[0], &w1[1], &d1);
        const int8x16_t v0[2] = { vld1q_s8(x0[b].qs), vld1q_s8(x0[b].qs + 16) };
        const int8x16_t v1[2] = { vld1q_s8(x1[b].qs), vld1q_s8(x1[b].qs + 16) };
        int32x4_t s = vdupq_n_s32(0);
        #pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {  // 8 elements per SMMLA: two per 16-byte half
            s = vmmlaq_s32(s, vcombine_s8(vget_low_s8(w0[h]), vget_low_s8(w1[h])),
                           vcombine_s8(vget_low_s8(v0[h]), vget_low_s8(v1[h])));
            s = vmmlaq_s32(s, vcombine_s8(vget_high_s8(w0[h]), vget_high_s8(w1[h])),
                           vcombine_s8(vget_high_s8(v0[h]), vget_high_s8(v1[h])));
        }
        const float e0 = kiln_f16_to_f32_neon(x0[b].d), e1 = kiln_f16_to_f32_neon(x1[b].d);
        const float32x4_t scale = { d0 * e0, d0 * e1, d1 * e0, d1 * e1 };
        acc = vfmaq_f32(acc, vcvtq_f32_s32(s), scale);
    }
    return acc;
}

static inline __attribute__((always_inline)) void gemm(bool q4, const struct kiln_op *op, const void *ws, int ith,
                                                       int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1], nb = k / KILN_QK8_0;
    const size_t xrow = kiln_row_size(KILN_TYPE_Q8_0, k);
    int64_t lo, hi;
    kiln_split((m + 1) / 2, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t i0 = 2 * t, i1 = i0 + 1 < m ? i0 + 1 : i0;
        const void *a0 = KILN_ROW(w, i0, 0, 0), *a1 = KILN_ROW(w, i1, 0, 0);
        for (int64_t j0 = 0; j0 < n; j0 += 2) {
            const int64_t j1 = j0 + 1 < n ? j0 + 1 : j0;
            const struct kiln_block_q8_0 *x0 = (const void *)((const char *)ws + (size_t)j0 * xrow);
            const struct kiln_block_q8_0 *x1 = (const void *)((const char *)ws + (size_t)j1 * xrow);
            float r[4];
            vst1q_f32(r, pair_dots(q4, a0, a1, x0, x1, nb));
            float *y0 = KILN_ROW(y, j0, 0, 0), *y1 = KILN_ROW(y, j1, 0, 0);
            y0[i0] = r[0];
            if (j1 != j0)
                y1[i0] = r[1];
            if (i1 != i0) {
                y0[i1] = r[2];
                if (j1 != j0)
                    y1[i1] = r[3];
            }
        }
    }
}

static void q8_0_gemm(const struct kiln_op *op, void *ws, int ith, int nth) { gemm(false, op, ws, ith, nth); }
static void q4_0_gemm(const struct kiln_op *op, void *ws, int ith, int nth) { gemm(true, op, ws, ith, nth); }

const struct kiln_cpu_kernel kiln_matmul_q8_0_neon_i8mm_gemm = {
    .workspace = kiln_matmul_neon_q8_workspace, .prepare = kiln_matmul_neon_q8_prepare, .compute = q8_0_gemm };
const struct kiln_cpu_kernel kiln_matmul_q4_0_neon_i8mm_gemm = {
    .workspace = kiln_matmul_neon_q8_workspace, .prepare = kiln_matmul_neon_q8_prepare, .compute = q4_0_gemm };
