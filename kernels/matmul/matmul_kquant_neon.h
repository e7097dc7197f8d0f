// matmul for the K-quants (q2_K, q3_K, q4_K, q5_K, q6_K) on NEON, written once for the two files that instantiate
// it (matmul_kquant_neon.c: baseline Armv8-A; matmul_kquant_neon_dotprod.c: SDOT). Included by
// those two only.
//
// y[n][m] = x[n][k] . W[m][k]^T with W in K-quant rows (quant/format/blocks.h, spec §3) and x quantized
// to Q8_K rows in the workspace first (kiln_matmul_xq8k_prepare, matmul_ref.c: ggml's
// quantize_row_q8_K, so the rows declare KILN_ROUND_X_Q8_K). Per super-block, ggml's
// vec_dot_q*_K_q8_K arithmetic: the int8 dot of each 16 codes with 16 x codes (kq_dot16, which
// the includer defines: SDOT, or vmull_s8 + vpadalq), times the sub-block scale as an integer,
// the mins (q4_K, q5_K) from x's bsums, one float multiply per block. Codes stay in int8 range:
// q2_K 0..3, q3_K -4..3 (the "- 4" applied to the codes), q4_K 0..15, q5_K 0..31, q6_K 0..63
// with the "- 32" applied to the codes.
// Threads split the W rows; each row is dotted with every x row while it is in L1 (all n: decode
// and prefill alike).
//
// The includer defines kq_dot16(acc, a, b) -> acc + 4 lanes of dot products of 4 int8 pairs each,
// and KQ_NAME(type), the kernel names.
#include "kernels/common/simd_neon.h"
#include "kernels/matmul/matmul.h"
#include "quant/format/blocks.h"

// The eight 6-bit scales and mins of a q4_K/q5_K block (spec §3.4, get_scale_min_k4).
static inline void kq_scales_mins(const uint8_t *q, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = q[j] & 63;
        mn[j] = q[j + 4] & 63;
        sc[j + 4] = (uint8_t)((q[j + 8] & 0xF) | ((q[j] >> 6) << 4));
        mn[j + 4] = (uint8_t)((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
    }
}

// Sum over the 32 elements of x codes xq with the codes c0 (elements 0..15) and c1 (16..31).
static inline int32_t kq_dot32(int8x16_t c0, int8x16_t c1, const int8_t *xq) {
    int32x4_t s = kq_dot16(vdupq_n_s32(0), c0, vld1q_s8(xq));
    s = kq_dot16(s, c1, vld1q_s8(xq + 16));
    return vaddvq_s32(s);
}

static float kq_q45_block(const uint8_t *blk, bool five, const struct kiln_block_q8_K *x) {
    const struct kiln_block_q4_K *w4 = (const void *)blk;
    const struct kiln_block_q5_K *w5 = (const void *)blk;
    const uint8_t *qs = five ? w5->qs : w4->qs;
    uint8_t sc[8], mn[8];
    kq_scales_mins(five ? w5->scales : w4->scales, sc, mn);
    int32_t msum = 0;
    for (int j = 0; j < 8; j++)
        msum += mn[j] * (x->bsums[2 * j] + x->bsums[2 * j + 1]);
    const uint8x16_t low4 = vdupq_n_u8(0x0F), sixteen = vdupq_n_u8(16);
    const uint8x16_t h0 = five ? vld1q_u8(w5->qh) : vdupq_n_u8(0), h1 = five ? vld1q_u8(w5->qh + 16) : vdupq_n_u8(0);
    int32_t isum = 0;
    for (int j = 0; j < 4; j++) {  // 64 elements: sub-blocks 2j (low nibbles) and 2j+1 (high)
        const uint8x16_t q0 = vld1q_u8(qs + 32 * j), q1 = vld1q_u8(qs + 32 * j + 16);
        uint8x16_t l0 = vandq_u8(q0, low4), l1 = vandq_u8(q1, low4);
        uint8x16_t u0 = vshrq_n_u8(q0, 4), u1 = vshrq_n_u8(q1, 4);
        if (five) {  // element l of sub-block s: bit s of qh[l], added as 16
            const uint8x16_t bl = vdupq_n_u8((uint8_t)(1 << (2 * j))), bh = vdupq_n_u8((uint8_t)(2 << (2 * j)));
            l0 = vorrq_u8(l0, vandq_u8(vtstq_u8(h0, bl), sixteen));
            l1 = vorrq_u8(l1, vandq_u8(vtstq_u8(h1, bl), sixteen));
            u0 = vorrq_u8(u0, vandq_u8(vtstq_u8(h0, bh), sixteen));
            u1 = vorrq_u8(u1, vandq_u8(vtstq_u8(h1, bh), sixteen));
        }
        const int8_t *xq = x->qs + 64 * j;
        isum += sc[2 * j] * kq_dot32(vreinterpretq_s8_u8(l0), vreinterpretq_s8_u8(l1), xq);
        isum += sc[2 * j + 1] * kq_dot32(vreinterpretq_s8_u8(u0), vreinterpretq_s8_u8(u1), xq + 32);
    }
    const float d = kiln_f16_to_f32_neon(five ? w5->d : w4->d), dmin = kiln_f16_to_f32_neon(five ? w5->dmin : w4->dmin);
    return d * x->d * (float)isum - dmin * x->d * (float)msum;
}

// q6_K (spec §3.6): two halves of 128; in each, byte l of ql/qh (l < 32) gives elements l, l+32,
// l+64, l+96 with the scales of their 16-element groups.
static float kq_q6_block(const uint8_t *blk, const struct kiln_block_q8_K *x) {
    const struct kiln_block_q6_K *w = (const void *)blk;
    const uint8x16_t low4 = vdupq_n_u8(0x0F), three = vdupq_n_u8(3);
    const int8x16_t m32 = vdupq_n_s8(32);
    int32_t isum = 0;
    for (int half = 0; half < 2; half++) {
        const uint8_t *ql = w->ql + 64 * half, *qh = w->qh + 32 * half;
        const int8_t *sc = w->scales + 8 * half;
        const int8_t *xq = x->qs + 128 * half;
        for (int p = 0; p < 2; p++) {  // bytes l = 16p .. 16p+15
            const uint8x16_t a = vld1q_u8(ql + 16 * p), b = vld1q_u8(ql + 32 + 16 * p), h = vld1q_u8(qh + 16 * p);
            const uint8x16_t c[4] = {
                vorrq_u8(vandq_u8(a, low4), vshlq_n_u8(vandq_u8(h, three), 4)),
                vorrq_u8(vandq_u8(b, low4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 2), three), 4)),
                vorrq_u8(vshrq_n_u8(a, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 4), three), 4)),
                vorrq_u8(vshrq_n_u8(b, 4), vshlq_n_u8(vshrq_n_u8(h, 6), 4)),
            };
            for (int r = 0; r < 4; r++) {  // elements 32 r + 16 p .. +15: scale 2 r + p
                const int8x16_t codes = vsubq_s8(vreinterpretq_s8_u8(c[r]), m32);
                const int32x4_t s = kq_dot16(vdupq_n_s32(0), codes, vld1q_s8(xq + 32 * r + 16 * p));
                isum += sc[2 * r + p] * vaddvq_s32(s);
            }
        }
    }
    return kiln_f16_to_f32_neon(w->d) * x->d * (float)isum;
}

// q2_K (q3 = false) and q3_K (spec §3.2-3.3): element e = 128 h + 32 g + l has its code in bits
// 2g..2g+1 of qs[32 h + l] and, for q3_K, 4 more where bit 4h + g of hmask[l] is set (codes
// 0..7 stand for -4..3); each 16 elements share a scale: q2_K 4-bit scales and mins (low and
// high nibble of scales[]), q3_K 6-bit signed scales (kq_q3_scales).
static inline void kq_q3_scales(const uint8_t *s, int sc[16]) {
    for (int j = 0; j < 16; j++) {
        const int low = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
        const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (low | high << 4) - 32;
    }
}

static float kq_q23_block(const uint8_t *blk, bool q3, const struct kiln_block_q8_K *x) {
    const struct kiln_block_q2_K *w2 = (const void *)blk;
    const struct kiln_block_q3_K *w3 = (const void *)blk;
    int sc[16];
    int32_t msum = 0;
    if (q3) {
        kq_q3_scales(w3->scales, sc);
    } else {
        for (int j = 0; j < 16; j++) {
            sc[j] = w2->scales[j] & 15;
            msum += (w2->scales[j] >> 4) * x->bsums[j];
        }
    }
    const uint8_t *qs = q3 ? w3->qs : w2->qs;
    const uint8x16_t three = vdupq_n_u8(3);
    const uint8x16_t hm0 = q3 ? vld1q_u8(w3->hmask) : vdupq_n_u8(0), hm1 = q3 ? vld1q_u8(w3->hmask + 16) : vdupq_n_u8(0);
    int32_t isum = 0;
    for (int h = 0; h < 2; h++) {
        const uint8x16_t q0 = vld1q_u8(qs + 32 * h), q1 = vld1q_u8(qs + 32 * h + 16);
        for (int g = 0; g < 4; g++) {
            const int8x16_t sh = vdupq_n_s8((int8_t)(-2 * g));  // right shift by 2g
            int8x16_t c0 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q0, sh), three));
            int8x16_t c1 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q1, sh), three));
            if (q3) {  // (low | 4 hbit) - 4 = low - 4 (1 - hbit)
                const uint8x16_t bit = vdupq_n_u8((uint8_t)(1 << (4 * h + g)));
                const int8x16_t four = vdupq_n_s8(4);
                c0 = vsubq_s8(c0, vbicq_s8(four, vreinterpretq_s8_u8(vtstq_u8(hm0, bit))));
                c1 = vsubq_s8(c1, vbicq_s8(four, vreinterpretq_s8_u8(vtstq_u8(hm1, bit))));
            }
            const int8_t *xq = x->qs + 128 * h + 32 * g;
            isum += sc[8 * h + 2 * g] * vaddvq_s32(kq_dot16(vdupq_n_s32(0), c0, vld1q_s8(xq)));
            isum += sc[8 * h + 2 * g + 1] * vaddvq_s32(kq_dot16(vdupq_n_s32(0), c1, vld1q_s8(xq + 16)));
        }
    }
    const float d = kiln_f16_to_f32_neon(q3 ? w3->d : w2->d);
    if (q3)
        return d * x->d * (float)isum;
    return d * x->d * (float)isum - kiln_f16_to_f32_neon(w2->dmin) * x->d * (float)msum;
}

enum kq_kind { KQ_Q2_K, KQ_Q3_K, KQ_Q4_K, KQ_Q5_K, KQ_Q6_K };

static void kq_matmul(const struct kiln_op *op, const void *ws, enum kq_kind kind, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1], nb = k / KILN_QK_K;
    const size_t bsz = kiln_row_size(w->type, KILN_QK_K), xrow = kiln_row_size(KILN_TYPE_Q8_K, k);
    int64_t lo, hi;
    kiln_split(m, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        const uint8_t *row = (const uint8_t *)KILN_ROW(w, i, 0, 0);
        for (int64_t j = 0; j < n; j++) {
            const struct kiln_block_q8_K *xb = (const void *)((const char *)ws + (size_t)j * xrow);
            float sum = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *blk = row + (size_t)b * bsz;
                sum += kind == KQ_Q6_K                      ? kq_q6_block(blk, xb + b)
                       : kind == KQ_Q2_K || kind == KQ_Q3_K ? kq_q23_block(blk, kind == KQ_Q3_K, xb + b)
                                                            : kq_q45_block(blk, kind == KQ_Q5_K, xb + b);
            }
            ((float *)KILN_ROW(y, j, 0, 0))[i] = sum;
        }
    }
}

static void kq_q2_k(const struct kiln_op *op, void *ws, int ith, int nth) { kq_matmul(op, ws, KQ_Q2_K, ith, nth); }
static void kq_q3_k(const struct kiln_op *op, void *ws, int ith, int nth) { kq_matmul(op, ws, KQ_Q3_K, ith, nth); }
static void kq_q4_k(const struct kiln_op *op, void *ws, int ith, int nth) { kq_matmul(op, ws, KQ_Q4_K, ith, nth); }
static void kq_q5_k(const struct kiln_op *op, void *ws, int ith, int nth) { kq_matmul(op, ws, KQ_Q5_K, ith, nth); }
static void kq_q6_k(const struct kiln_op *op, void *ws, int ith, int nth) { kq_matmul(op, ws, KQ_Q6_K, ith, nth); }

const struct kiln_cpu_kernel KQ_NAME(q2_K) = { .workspace = kiln_matmul_xq8k_workspace,
                                               .prepare = kiln_matmul_xq8k_prepare, .compute = kq_q2_k };
const struct kiln_cpu_kernel KQ_NAME(q3_K) = { .workspace = kiln_matmul_xq8k_workspace,
                                               .prepare = kiln_matmul_xq8k_prepare, .compute = kq_q3_k };
const struct kiln_cpu_kernel KQ_NAME(q4_K) = { .workspace = kiln_matmul_xq8k_workspace,
                                               .prepare = kiln_matmul_xq8k_prepare, .compute = kq_q4_k };
const struct kiln_cpu_kernel KQ_NAME(q5_K) = { .workspace = kiln_matmul_xq8k_workspace,
                                               .prepare = kiln_matmul_xq8k_prepare, .compute = kq_q5_k };
const struct kiln_cpu_kernel KQ_NAME(q6_K) = { .workspace = kiln_matmul_xq8k_workspace,
                                               .prepare = kiln_matmul_xq8k_prepare, .compute = kq_q6_k };
