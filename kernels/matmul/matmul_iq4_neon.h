// matmul for IQ4_NL and IQ4_XS weights on NEON, written once for the two files that instantiate
// it (matmul_iq4_neon.c: baseline Armv8-A; matmul_iq4_neon_dotprod.c: SDOT). Included by those
// two only.
//
// y[n][m] = x[n][k] . W[m][k]^T with W in IQ4_NL or IQ4_XS rows (quant/format/blocks.h: codes
// index the 16 non-linear levels kiln_iq4_values), every n:
//   IQ4_NL: x in Q8_0 rows from the NEON prepare step (matmul_neon.c: KILN_ROUND_X_Q8_0_INVD);
//           per block of 32, d_w d_x sum(level(code) qx)
//   IQ4_XS: x in Q8_K rows (kiln_matmul_xq8k_prepare: KILN_ROUND_X_Q8_K); per super-block,
//           d_w d_x sum over its 8 blocks of (scale_b - 32) sum(level(code) qx), in int32
// The levels come from one vqtbl1q_s8 (TBL) of the 16-entry table per 16 codes; the int8 dots
// are exact, so the only rounding is the f32 accumulation.
// The includer defines iq4_dot16(acc, a, b) -> acc + 4 lanes of dot products of 4 int8 pairs
// each, and IQ4_NAME(type), the kernel names.
// Versions: v1 (this; before it these types ran the reference matmul on Arm). Test: `kiln ops
// --op matmul --type iq4_nl,iq4_xs` (CI: qemu-aarch64). Speed cannot be measured under qemu.
#include "kernels/common/simd_neon.h"
#include "kernels/matmul/matmul_neon.h"
#include "quant/format/blocks.h"

// sum over one block of 32 of level(code) * xq.
static inline int32x4_t iq4_block(int32x4_t acc, int8x16_t table, const uint8_t qs[16], const int8_t *xq) {
    const uint8x16_t packed = vld1q_u8(qs);
    const int8x16_t v0 = vqtbl1q_s8(table, vandq_u8(packed, vdupq_n_u8(0x0F)));
    const int8x16_t v1 = vqtbl1q_s8(table, vshrq_n_u8(packed, 4));
    return iq4_dot16(iq4_dot16(acc, v0, vld1q_s8(xq)), v1, vld1q_s8(xq + 16));
}

static float iq4_nl_row(const void *w, const void *x, int64_t k) {
    const struct kiln_block_iq4_nl *wb = w;
    const struct kiln_block_q8_0 *xb = x;
    const int8x16_t table = vld1q_s8(kiln_iq4_values);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < k / KILN_QK4_NL; b++) {
        const int32x4_t s = iq4_block(vdupq_n_s32(0), table, wb[b].qs, xb[b].qs);
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), kiln_f16_to_f32_neon(wb[b].d) * kiln_f16_to_f32_neon(xb[b].d));
    }
    return vaddvq_f32(acc);
}

static float iq4_xs_row(const struct kiln_block_iq4_xs *wb, const struct kiln_block_q8_K *xb, int64_t nb) {
    const int8x16_t table = vld1q_s8(kiln_iq4_values);
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int32x4_t isum = vdupq_n_s32(0);
        for (int ib = 0; ib < 8; ib++) {
            const int ls = ((wb[b].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((wb[b].scales_h >> 2 * ib) & 3) << 4);
            const int32x4_t s = iq4_block(vdupq_n_s32(0), table, wb[b].qs + 16 * ib, xb[b].qs + 32 * ib);
            isum = vmlaq_n_s32(isum, s, ls - 32);
        }
        sum += kiln_f16_to_f32_neon(wb[b].d) * xb[b].d * (float)vaddvq_s32(isum);
    }
    return sum;
}

static void iq4_nl_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    kiln_matmul_neon_drive(op, ws, iq4_nl_row, ith, nth);
}

static void iq4_xs_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1];
    const size_t xrow = kiln_row_size(KILN_TYPE_Q8_K, k);
    int64_t lo, hi;
    kiln_split(m, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++)
        for (int64_t j = 0; j < n; j++)
            ((float *)KILN_ROW(y, j, 0, 0))[i] =
                iq4_xs_row(KILN_ROW(w, i, 0, 0), (const void *)((const char *)ws + (size_t)j * xrow), k / KILN_QK_K);
}

const struct kiln_cpu_kernel IQ4_NAME(iq4_nl) = { .workspace = kiln_matmul_neon_q8_workspace,
                                                  .prepare = kiln_matmul_neon_q8_prepare, .compute = iq4_nl_compute };
const struct kiln_cpu_kernel IQ4_NAME(iq4_xs) = { .workspace = kiln_matmul_xq8k_workspace,
                                                  .prepare = kiln_matmul_xq8k_prepare, .compute = iq4_xs_compute };
