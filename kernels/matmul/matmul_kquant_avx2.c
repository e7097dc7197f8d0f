// matmul GEMV (n < 16) for K-quant weights, AVX2: y[n][m] = x[n][k] . W[m][k]^T with W in q2_K,
// q3_K, q4_K, q5_K or q6_K rows (quant/blocks.h, spec §3), x f32. Layouts as matmul.h.
//
// x is first quantized to Q8_K rows in the workspace (`prepare`: kiln's reference Q8_K
// quantizer, ggml's quantize_row_q8_K: codes rne(x * -127/max) per 256, d = 1/iscale kept in
// f32, bsums = sums of 16 codes), so each super-block's dot is integer arithmetic, as ggml's
// vec_dot_q*_K_q8_K:
//   q4_K: per 32-element sub-block, maddubs(nibbles 0..15, x codes) -> madd by its 6-bit scale;
//         the mins enter once per super-block as sum_j m_j * (bsums of sub-block j), so
//         y = d_w d_x sum(sc q x) - dmin_w d_x sum(m bsum).
//   q5_K: the same with each code's 5th bit from qh, added as 16 before the maddubs.
//   q2_K: 2-bit codes with 4-bit scales and mins per 16 elements; q3_K: 2 bits plus a high bit
//         (codes 0..7), 6-bit signed scales, the "- 4" once as 4 * sum(sc bsum).
//   q6_K: codes 0..63 as maddubs's unsigned operand, per 16 elements its int8 scale, and the
//         "- 32" once per super-block as 32 * sum(sc bsum).
// Tiles of RM = 4 W rows share every x load; threads split the W rows (memory-bound decode:
// each weight byte read once per token).
// The table rows declare KILN_ROUND_X_Q8_K, and `kiln ops` holds them to the reference run on
// x rounded exactly this way (bench/opcheck_rounding.c).
//
// Versions: v1 q4_K/q6_K, one row's block at a time with scalar scale unpacking (q4_K 2.0 GB/s
// at m=4096 k=14336 on a busy host); v2 (this) q4_K/q5_K scales by masks and pshufb, x shared
// by the tile (q4_K 5.7 GB/s in the same conditions). Before v1, K-quant weights took the dequantize-to-f32 fallback, which
// dequantized all of W per decode token with the scalar reference.
// Test: `kiln ops --op matmul --type q4_K,q6_K`; bench: `kiln bench ops --op matmul --type q4_K`.
#include <string.h>

#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "kernels/common/kquant_x86.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant_ref.h"

enum { RM = 4 };

static size_t xq_row_bytes(const struct kiln_op *op) {
    return kiln_row_size(KILN_TYPE_Q8_K, op->src[1].ne[0]);
}

size_t kiln_matmul_xq8k_workspace(const struct kiln_op *op, int nth) {
    (void)nth;
    return (size_t)op->src[1].ne[1] * xq_row_bytes(op);
}

void kiln_matmul_xq8k_prepare(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *x = &op->src[1];
    int64_t lo, hi;
    kiln_split(x->ne[1], ith, nth, &lo, &hi);
    for (int64_t j = lo; j < hi; j++)
        kiln_quantize_q8_K_ref(KILN_ROW(x, j, 0, 0), (char *)ws + (size_t)j * xq_row_bytes(op), x->ne[0]);
}

static inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

// The eight 6-bit scales (int16 lanes 0..7) and mins (lanes 8..15) of a q4_K block (spec §3.4,
// get_scale_min_k4), unpacked with 32-bit masks as ggml does.
static inline __m256i q4_k_scales_mins(const uint8_t *q) {
    uint32_t u[4];
    memcpy(u, q, 12);
    const uint32_t m1 = 0x3f3f3f3f, m2 = 0x0f0f0f0f, m3 = 0x03030303;
    u[3] = ((u[2] >> 4) & m2) | (((u[1] >> 6) & m3) << 4);
    const uint32_t mins_lo = u[1] & m1;
    u[1] = (u[2] & m2) | (((u[0] >> 6) & m3) << 4);
    u[2] = mins_lo;
    u[0] &= m1;
    return _mm256_cvtepu8_epi16(_mm_set_epi32((int)u[3], (int)u[2], (int)u[1], (int)u[0]));
}

// Broadcast of int16 lane i to all 16 lanes of both halves (a pshufb control).
static inline __m256i lane16(int i) {
    return _mm256_set1_epi16((short)((2 * i) | ((2 * i + 1) << 8)));
}

// One q4_K super-block of one row against one Q8_K block (x: its 8 code vectors, and the 8
// sums of its 32-element sub-blocks): adds d_w d_x sum(sc q x) to *acc and
// dmin_w d_x sum(m bsum) to *accm.
static inline __attribute__((always_inline)) void q4_k_block(const struct kiln_block_q4_K *w,
                                                              const __m256i xv[8], __m128i xsums,
                                                              float dx, __m256 *acc, __m128 *accm) {
    const __m256i sm = q4_k_scales_mins(w->scales);
    const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), xsums);
    *accm = _mm_fmadd_ps(_mm_set1_ps(kiln_f16_to_f32(w->dmin) * dx), _mm_cvtepi32_ps(prod), *accm);
    const __m128i sc128 = _mm256_castsi256_si128(sm);
    const __m256i scales = _mm256_setr_m128i(sc128, sc128);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256i sum = _mm256_setzero_si256();
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {  // 64 elements: sub-blocks 2j (low nibbles) and 2j+1 (high)
        const __m256i q = _mm256_loadu_si256((const __m256i *)(w->qs + 32 * j));
        const __m256i pl = _mm256_maddubs_epi16(_mm256_and_si256(q, low4), xv[2 * j]);
        const __m256i ph = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), xv[2 * j + 1]);
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pl, _mm256_shuffle_epi8(scales, lane16(2 * j))));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(ph, _mm256_shuffle_epi8(scales, lane16(2 * j + 1))));
    }
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(kiln_f16_to_f32(w->d) * dx), _mm256_cvtepi32_ps(sum), *acc);
}

// q5_K: as q4_K, with each code's 5th bit from qh (element l of sub-block s: bit s of qh[l % 32])
// added as 16 (codes 0..31: maddubs pairs stay under 2 * 31 * 127).
static inline __attribute__((always_inline)) void q5_k_block(const struct kiln_block_q5_K *w,
                                                              const __m256i xv[8], __m128i xsums,
                                                              float dx, __m256 *acc, __m128 *accm) {
    const __m256i sm = q4_k_scales_mins(w->scales);
    const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), xsums);
    *accm = _mm_fmadd_ps(_mm_set1_ps(kiln_f16_to_f32(w->dmin) * dx), _mm_cvtepi32_ps(prod), *accm);
    const __m128i sc128 = _mm256_castsi256_si128(sm);
    const __m256i scales = _mm256_setr_m128i(sc128, sc128);
    const __m256i low4 = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16);
    const __m256i h = _mm256_loadu_si256((const __m256i *)w->qh);
    __m256i sum = _mm256_setzero_si256();
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(w->qs + 32 * j));
        const __m256i bl = _mm256_set1_epi8((char)(1 << (2 * j))), bh = _mm256_set1_epi8((char)(2 << (2 * j)));
        const __m256i hl = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bl), bl), sixteen);
        const __m256i hh = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bh), bh), sixteen);
        const __m256i ql = _mm256_or_si256(_mm256_and_si256(q, low4), hl);
        const __m256i qhi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), hh);
        const __m256i pl = _mm256_maddubs_epi16(ql, xv[2 * j]);
        const __m256i ph = _mm256_maddubs_epi16(qhi, xv[2 * j + 1]);
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pl, _mm256_shuffle_epi8(scales, lane16(2 * j))));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(ph, _mm256_shuffle_epi8(scales, lane16(2 * j + 1))));
    }
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(kiln_f16_to_f32(w->d) * dx), _mm256_cvtepi32_ps(sum), *acc);
}

// q4_K and q5_K rows: RM rows share each Q8_K block's x vectors and sub-block sums.
static void gemv_q45_k(const struct kiln_op *op, const void *ws, bool five, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1], nb = k / KILN_QK_K;
    int64_t lo, hi;
    kiln_split((m + RM - 1) / RM, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t i0 = t * RM;
        const char *rows[RM];
        for (int r = 0; r < RM; r++)
            rows[r] = KILN_ROW(w, i0 + r < m ? i0 + r : m - 1, 0, 0);
        const size_t bsz = five ? sizeof(struct kiln_block_q5_K) : sizeof(struct kiln_block_q4_K);
        for (int64_t j = 0; j < n; j++) {
            const struct kiln_block_q8_K *xb = (const void *)((const char *)ws + (size_t)j * xq_row_bytes(op));
            __m256 acc[RM];
            __m128 accm[RM];
            for (int r = 0; r < RM; r++) {
                acc[r] = _mm256_setzero_ps();
                accm[r] = _mm_setzero_ps();
            }
            for (int64_t b = 0; b < nb; b++) {
                __m256i xv[8];
                for (int v = 0; v < 8; v++)
                    xv[v] = _mm256_loadu_si256((const __m256i *)(xb[b].qs + 32 * v));
                const __m256i bs = _mm256_loadu_si256((const __m256i *)xb[b].bsums);
                const __m128i xsums = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
                #pragma GCC unroll 4
                for (int r = 0; r < RM; r++) {
                    const char *blk = rows[r] + (size_t)b * bsz;
                    _mm_prefetch(blk + 4 * bsz, _MM_HINT_T0);
                    _mm_prefetch(blk + 4 * bsz + 64, _MM_HINT_T0);
                    if (five) {
                        _mm_prefetch(blk + 4 * bsz + 128, _MM_HINT_T0);
                        q5_k_block((const void *)blk, xv, xsums, xb[b].d, &acc[r], &accm[r]);
                    } else {
                        q4_k_block((const void *)blk, xv, xsums, xb[b].d, &acc[r], &accm[r]);
                    }
                }
            }
            float *yr = KILN_ROW(y, j, 0, 0);
            for (int r = 0; r < RM && i0 + r < m; r++) {
                __m128 mm = _mm_add_ps(accm[r], _mm_movehl_ps(accm[r], accm[r]));
                mm = _mm_add_ss(mm, _mm_movehdup_ps(mm));
                yr[i0 + r] = kiln_hsum256(acc[r]) - _mm_cvtss_f32(mm);
            }
        }
    }
}

// The 2-bit code layout of q2_K and q3_K (spec §3.2-3.3): element e's code is bits 2g..2g+1 of
// qs[32 h + l] (h = e / 128, g = e % 128 / 32, l = e % 32); q3_K adds bit e / 32 of
// hmask[e % 32] as 4. Integer sum over the block of sc[e / 16] * code * x.
static inline __attribute__((always_inline)) __m256i q23_k_sum(const uint8_t *qs, const uint8_t *hmask,
                                                                const int16_t sc[16], const int8_t *xq) {
    const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    const __m256i hm = hmask ? _mm256_loadu_si256((const __m256i *)hmask) : _mm256_setzero_si256();
    __m256i sum = _mm256_setzero_si256();
    #pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
        #pragma GCC unroll 4
        for (int g = 0; g < 4; g++) {
            __m256i c = _mm256_and_si256(_mm256_srli_epi16(q, 2 * g), three);
            if (hmask) {
                const __m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + g)));
                c = _mm256_or_si256(c, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit), four));
            }
            const __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + 128 * h + 32 * g));
            const __m256i p = _mm256_maddubs_epi16(c, xv);
            const __m256i sv = _mm256_setr_m128i(_mm_set1_epi16(sc[8 * h + 2 * g]), _mm_set1_epi16(sc[8 * h + 2 * g + 1]));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, sv));
        }
    }
    return sum;
}

static inline float q2_k_block(const struct kiln_block_q2_K *w, const struct kiln_block_q8_K *x) {
    int16_t sc[16];
    int32_t msum = 0;
    for (int g = 0; g < 16; g++) {
        sc[g] = w->scales[g] & 15;
        msum += (w->scales[g] >> 4) * x->bsums[g];
    }
    const int32_t isum = hsum_i32(q23_k_sum(w->qs, NULL, sc, x->qs));
    return kiln_f16_to_f32(w->d) * x->d * (float)isum - kiln_f16_to_f32(w->dmin) * x->d * (float)msum;
}

// q3_K's sixteen 6-bit scale codes, minus 32 (spec §6.11).
static inline int q3_scale(const uint8_t *s, int j) {
    const int low = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
    const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | high << 4) - 32;
}

// code - 4 for a clear high bit = (low + 4 hbit) - 4: the "- 4" enters once as 4 sum(sc bsum).
static inline float q3_k_block(const struct kiln_block_q3_K *w, const struct kiln_block_q8_K *x) {
    int16_t sc[16];
    int32_t bias = 0;
    for (int g = 0; g < 16; g++) {
        sc[g] = (int16_t)q3_scale(w->scales, g);
        bias += sc[g] * x->bsums[g];
    }
    const int32_t isum = hsum_i32(q23_k_sum(w->qs, w->hmask, sc, x->qs));
    return kiln_f16_to_f32(w->d) * x->d * (float)(isum - 4 * bias);
}

// One q6_K super-block against one Q8_K block (spec §3.6: two halves of 128; in each, 32-byte
// runs l of ql/qh give elements l, l+32, l+64, l+96 with scales is, is+2, is+4, is+6).
static inline __attribute__((always_inline)) float q6_k_block(const struct kiln_block_q6_K *w,
                                                               const struct kiln_block_q8_K *x) {
    __m256i acc = _mm256_setzero_si256();
    int32_t bias = 0;  // sum of sc * bsum: the "- 32" of every code, applied once
    for (int g = 0; g < 16; g++)
        bias += w->scales[g] * x->bsums[g];
    for (int half = 0; half < 2; half++) {
        const uint8_t *ql = w->ql + 64 * half, *qh = w->qh + 32 * half;
        const int8_t *sc = w->scales + 8 * half;
        const int8_t *xq = x->qs + 128 * half;
        __m256i q[4];  // codes 0..63 of the four 32-element runs
        kiln_q6_k_codes(ql, qh, q);
        for (int r = 0; r < 4; r++) {
            const __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + 32 * r));
            const __m256i p = _mm256_maddubs_epi16(q[r], xv);
            // elements 0..15 of the run take scale 2r, 16..31 scale 2r+1 (low / high lane)
            const __m256i s = _mm256_setr_m128i(_mm_set1_epi16(sc[2 * r]), _mm_set1_epi16(sc[2 * r + 1]));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
        }
    }
    return kiln_f16_to_f32(w->d) * x->d * (float)(hsum_i32(acc) - 32 * bias);
}

enum kq { KQ_Q2_K, KQ_Q3_K, KQ_Q6_K };

// q2_K, q3_K and q6_K rows: one block of one row at a time.
static void gemv_q236_k(const struct kiln_op *op, const void *ws, enum kq kind, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1], nb = k / KILN_QK_K;
    int64_t lo, hi;
    kiln_split((m + RM - 1) / RM, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t i0 = t * RM;
        const void *rows[RM];
        for (int r = 0; r < RM; r++)
            rows[r] = KILN_ROW(w, i0 + r < m ? i0 + r : m - 1, 0, 0);
        for (int64_t j = 0; j < n; j++) {
            const struct kiln_block_q8_K *xb = (const void *)((const char *)ws + (size_t)j * xq_row_bytes(op));
            float out[RM] = { 0 };
            for (int64_t b = 0; b < nb; b++) {
                for (int r = 0; r < RM; r++) {
                    const size_t bsz = kind == KQ_Q6_K   ? sizeof(struct kiln_block_q6_K)
                                       : kind == KQ_Q3_K ? sizeof(struct kiln_block_q3_K)
                                                         : sizeof(struct kiln_block_q2_K);
                    const char *blk = (const char *)rows[r] + (size_t)b * bsz;
                    _mm_prefetch(blk + 4 * bsz, _MM_HINT_T0);
                    _mm_prefetch(blk + 4 * bsz + 64, _MM_HINT_T0);
                    _mm_prefetch(blk + 4 * bsz + 128, _MM_HINT_T0);
                    out[r] += kind == KQ_Q6_K   ? q6_k_block((const void *)blk, xb + b)
                              : kind == KQ_Q3_K ? q3_k_block((const void *)blk, xb + b)
                                                : q2_k_block((const void *)blk, xb + b);
                }
            }
            float *yr = KILN_ROW(y, j, 0, 0);
            for (int r = 0; r < RM && i0 + r < m; r++)
                yr[i0 + r] = out[r];
        }
    }
}

static void q4_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { gemv_q45_k(op, ws, false, ith, nth); }
static void q5_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { gemv_q45_k(op, ws, true, ith, nth); }
static void q6_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { gemv_q236_k(op, ws, KQ_Q6_K, ith, nth); }
static void q3_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { gemv_q236_k(op, ws, KQ_Q3_K, ith, nth); }
static void q2_k_gemv(const struct kiln_op *op, void *ws, int ith, int nth) { gemv_q236_k(op, ws, KQ_Q2_K, ith, nth); }

const struct kiln_cpu_kernel kiln_matmul_q2_K_avx2_gemv = {
    .workspace = kiln_matmul_xq8k_workspace, .prepare = kiln_matmul_xq8k_prepare, .compute = q2_k_gemv };
const struct kiln_cpu_kernel kiln_matmul_q3_K_avx2_gemv = {
    .workspace = kiln_matmul_xq8k_workspace, .prepare = kiln_matmul_xq8k_prepare, .compute = q3_k_gemv };
const struct kiln_cpu_kernel kiln_matmul_q4_K_avx2_gemv = {
    .workspace = kiln_matmul_xq8k_workspace, .prepare = kiln_matmul_xq8k_prepare, .compute = q4_k_gemv };
const struct kiln_cpu_kernel kiln_matmul_q5_K_avx2_gemv = {
    .workspace = kiln_matmul_xq8k_workspace, .prepare = kiln_matmul_xq8k_prepare, .compute = q5_k_gemv };
const struct kiln_cpu_kernel kiln_matmul_q6_K_avx2_gemv = {
    .workspace = kiln_matmul_xq8k_workspace, .prepare = kiln_matmul_xq8k_prepare, .compute = q6_k_gemv };
