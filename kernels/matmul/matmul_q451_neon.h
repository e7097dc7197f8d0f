// matmul for q4_1, q5_0 and q5_1 weights on NEON, written once for the two files that instantiate
// it (matmul_q451_neon.c: baseline Armv8-A; matmul_q451_neon_dotprod.c: SDOT). Included by those
// two only.
//
// y[n][m] = x[n][k] . W[m][k]^T with W in q4_1/q5_0/q5_1 rows (quant/format/blocks.h, spec §2) and x
// quantized to Q8_0 rows first by the NEON prepare step (matmul_neon.c: d = amax/127 as f16,
// codes rne(x / d); the rows declare KILN_ROUND_X_Q8_0_INVD). Per 32-element block, with codes
// q as int8 (q4_1 0..15; q5_1 0..31; q5_0 -16..15, its "- 16" applied to the codes) and s the
// sum of x's codes:
//   q4_1, q5_1:  d_w d_x sum(q qx) + m_w d_x s
//   q5_0:        d_w d_x sum(q qx)
// Threads split the W rows (kiln_matmul_neon_drive: every n, each row dotted with every x row
// while it is in L1).
// The includer defines q451_dot16(acc, a, b) -> acc + 4 lanes of dot products of 4 int8 pairs
// each, and Q451_NAME(type), the kernel names.
// Versions: v1 (this; before it these types ran the reference matmul on Arm, since the fallback
// needs a SIMD f32 matmul NEON does not have). Test: `kiln ops --op matmul --type q4_1,q5_0,q5_1`
// (CI: qemu-aarch64). Speed cannot be measured under qemu.
#include <string.h>

#include "kernels/common/simd_neon.h"
#include "kernels/matmul/matmul_neon.h"
#include "quant/format/blocks.h"

// The codes' 5th bits (element i: bit i of qh) as 16 in two vectors of 16 elements.
static inline void q451_fifth_bits(const uint8_t qh[4], uint8x16_t *lo, uint8x16_t *hi) {
    static const uint8_t bit[16] = { 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128 };
    const uint8x16_t mask = vld1q_u8(bit), sixteen = vdupq_n_u8(16);
    *lo = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1])), mask), sixteen);
    *hi = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3])), mask), sixteen);
}

enum q451_kind { Q451_Q4_1, Q451_Q5_0, Q451_Q5_1 };

static inline __attribute__((always_inline)) float q451_row(enum q451_kind kind, const void *w, const void *x,
                                                           int64_t k) {
    const struct kiln_block_q8_0 *xb = x;
    const size_t bsz = kind == Q451_Q4_1 ? sizeof(struct kiln_block_q4_1)
                       : kind == Q451_Q5_0 ? sizeof(struct kiln_block_q5_0)
                                           : sizeof(struct kiln_block_q5_1);
    const uint8x16_t low4 = vdupq_n_u8(0x0F);
    float32x4_t acc = vdupq_n_f32(0.0f);
    float macc = 0.0f;
    for (int64_t b = 0; b < k / 32; b++) {
        const char *blk = (const char *)w + (size_t)b * bsz;
        const uint8_t *qs;
        float d, m = 0.0f;
        uint8x16_t h0 = vdupq_n_u8(0), h1 = vdupq_n_u8(0);
        if (kind == Q451_Q4_1) {
            const struct kiln_block_q4_1 *wb = (const void *)blk;
            qs = wb->qs;
            d = kiln_f16_to_f32_neon(wb->d);
            m = kiln_f16_to_f32_neon(wb->m);
        } else if (kind == Q451_Q5_0) {
            const struct kiln_block_q5_0 *wb = (const void *)blk;
            qs = wb->qs;
            d = kiln_f16_to_f32_neon(wb->d);
            q451_fifth_bits(wb->qh, &h0, &h1);
        } else {
            const struct kiln_block_q5_1 *wb = (const void *)blk;
            qs = wb->qs;
            d = kiln_f16_to_f32_neon(wb->d);
            m = kiln_f16_to_f32_neon(wb->m);
            q451_fifth_bits(wb->qh, &h0, &h1);
        }
        const uint8x16_t packed = vld1q_u8(qs);
        int8x16_t c0 = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(packed, low4), h0));
        int8x16_t c1 = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(packed, 4), h1));
        if (kind == Q451_Q5_0) {
            c0 = vsubq_s8(c0, vdupq_n_s8(16));
            c1 = vsubq_s8(c1, vdupq_n_s8(16));
        }
        const int8x16_t x0 = vld1q_s8(xb[b].qs), x1 = vld1q_s8(xb[b].qs + 16);
        const int32x4_t s = q451_dot16(q451_dot16(vdupq_n_s32(0), c0, x0), c1, x1);
        const float dx = kiln_f16_to_f32_neon(xb[b].d);
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), d * dx);
        if (kind != Q451_Q5_0)
            macc += m * dx * (float)(vaddlvq_s8(x0) + vaddlvq_s8(x1));
    }
    return vaddvq_f32(acc) + macc;
}

static float q451_q4_1(const void *w, const void *x, int64_t k) { return q451_row(Q451_Q4_1, w, x, k); }
static float q451_q5_0(const void *w, const void *x, int64_t k) { return q451_row(Q451_Q5_0, w, x, k); }
static float q451_q5_1(const void *w, const void *x, int64_t k) { return q451_row(Q451_Q5_1, w, x, k); }

static void q451_q4_1_compute(const struct kiln_op *op, void *ws, int ith, int nth) { kiln_matmul_neon_drive(op, ws, q451_q4_1, ith, nth); }
static void q451_q5_0_compute(const struct kiln_op *op, void *ws, int ith, int nth) { kiln_matmul_neon_drive(op, ws, q451_q5_0, ith, nth); }
static void q451_q5_1_compute(const struct kiln_op *op, void *ws, int ith, int nth) { kiln_matmul_neon_drive(op, ws, q451_q5_1, ith, nth); }

const struct kiln_cpu_kernel Q451_NAME(q4_1) = { .workspace = kiln_matmul_neon_q8_workspace,
                                                 .prepare = kiln_matmul_neon_q8_prepare, .compute = q451_q4_1_compute };
const struct kiln_cpu_kernel Q451_NAME(q5_0) = { .workspace = kiln_matmul_neon_q8_workspace,
                                                 .prepare = kiln_matmul_neon_q8_prepare, .compute = q451_q5_0_compute };
const struct kiln_cpu_kernel Q451_NAME(q5_1) = { .workspace = kiln_matmul_neon_q8_workspace,
                                                 .prepare = kiln_matmul_neon_q8_prepare, .compute = q451_q5_1_compute };
