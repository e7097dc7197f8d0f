// matmul for the K-quants (q2_K, q3_K, q4_K, q5_K, q6_K), AVX-512 (F+BW+VL+VNNI), GEMV (n < 16) and GEMM
// (n >= 16), integer dot products: matmul_kquant_tile_avx2.c (layouts, x quantized to Q8_K, the
// driver, NC/RB/KB and why) with the block arithmetic in 512-bit registers: the 64 codes of two
// sub-blocks (q4_K/q5_K: the low and high nibbles of 32 bytes; q6_K: two 32-element runs;
// q2_K/q3_K: two 32-element groups of four 16-element sub-blocks) fill
// one zmm and meet 64 contiguous bytes of x, so each column takes half the maddubs/madd of the
// AVX2 tile, with the sub-block scales placed per 256-bit (or 128-bit) lane by one vpermw.
// maddubs + madd is kept over vpdpbusd: the scales multiply the pair sums in madd for free,
// while vpdpbusd would need a separate 32-bit multiply per sub-block.
// The integer block sums are exact, as in the AVX2 tile; the float lanes they are converted in
// differ (16, not 8), so results agree with the AVX2 rows to rounding, not bit for bit.
// Versions: v1 (this). Not yet measured on an AVX-512 machine; checked under SIMDe
// (simd_avx512.h). 32 zmm registers would allow NC > 4 without spills: to sweep there.
// Test: `kiln ops --op matmul --type q2_K,q3_K,q4_K,q5_K,q6_K --kernel avx512`.
#include <string.h>

#include "kernels/common/kquant_x86.h"
#include "kernels/common/simd_avx512.h"
#include "kernels/common/simd_x86.h"
#include "kernels/matmul/matmul.h"
#include "quant/blocks.h"

enum { NC = 4, RB = 16, KB = 16 };

// The eight 6-bit scales (int16 lanes 0..7) and mins (lanes 8..15) of a q4_K/q5_K block (spec
// §3.4, get_scale_min_k4), unpacked with 32-bit masks as ggml does.
static inline __m256i scales_mins(const uint8_t *q) {
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

// The 8 sums of x's 32-element sub-blocks (Q8_K keeps sums of 16), as int16.
static inline __m128i xsums32(const struct kiln_block_q8_K *x) {
    const __m256i bs = _mm256_loadu_si256((const __m256i *)x->bsums);
    return _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
}

// int16 lanes: value v0 in the low 256 bits, v1 in the high 256 bits, picked from the 16 int16
// lanes of t (vpermw).
static inline __m512i pick16_pair(__m256i t, int v0, int v1) {
    const __m512i idx = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)v0)),
                                           _mm256_set1_epi16((short)v1), 1);
    return _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(t));
}

// int16 lanes: v0 + L in 128-bit lane L (L = 0..3), picked from the 16 int16 lanes of t.
static inline __m512i pick16_quad(__m256i t, int v0) {
    const __m512i idx = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_setr_m128i(_mm_set1_epi16((short)v0), _mm_set1_epi16((short)(v0 + 1)))),
        _mm256_setr_m128i(_mm_set1_epi16((short)(v0 + 2)), _mm_set1_epi16((short)(v0 + 3))), 1);
    return _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(t));
}

// One q4_K (five = false) or q5_K super-block of one W row against block b of nc x columns:
// acc[c] += d_w d_x sum(sc q x) - dmin_w d_x sum(m bsum). Per j, the 64 codes of sub-blocks 2j
// (low nibbles) and 2j+1 (high) fill one zmm, matching 64 contiguous bytes of x: one maddubs
// and one madd with [sc_2j x16 | sc_2j+1 x16] per column, where the AVX2 tile needs two of each.
// q5_K: each code's 5th bit (element l of sub-block s: bit s of qh[l % 32]) added as 16.
static inline __attribute__((always_inline)) void q45_k_block(const uint8_t *blk, bool five,
                                                               const struct kiln_block_q8_K *const *x,
                                                               int64_t b, int nc, __m512 *acc) {
    const struct kiln_block_q4_K *w4 = (const void *)blk;
    const struct kiln_block_q5_K *w5 = (const void *)blk;
    const uint8_t *qs = five ? w5->qs : w4->qs;
    const __m256i sm = scales_mins(five ? w5->scales : w4->scales);
    const __m128i mins = _mm256_extracti128_si256(sm, 1);
    const __m256i low4 = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16);
    const __m256i h = five ? _mm256_loadu_si256((const __m256i *)w5->qh) : _mm256_setzero_si256();
    __m512i sum[NC];
    for (int c = 0; c < nc; c++)
        sum[c] = _mm512_setzero_si512();
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {  // 64 elements: sub-blocks 2j (low nibbles) and 2j+1 (high)
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
        __m256i lo = _mm256_and_si256(q, low4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
        if (five) {
            const __m256i bl = _mm256_set1_epi8((char)(1 << (2 * j))), bh = _mm256_set1_epi8((char)(2 << (2 * j)));
            lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bl), bl), sixteen));
            hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bh), bh), sixteen));
        }
        const __m512i codes = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        const __m512i sc = pick16_pair(sm, 2 * j, 2 * j + 1);
        #pragma GCC unroll 4
        for (int c = 0; c < nc; c++) {
            const __m512i xv = _mm512_loadu_si512((const void *)(x[c][b].qs + 64 * j));
            sum[c] = _mm512_add_epi32(sum[c], _mm512_madd_epi16(_mm512_maddubs_epi16(codes, xv), sc));
        }
    }
    const float d = kiln_f16_scalar(five ? w5->d : w4->d), dmin = kiln_f16_scalar(five ? w5->dmin : w4->dmin);
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const float dx = x[c][b].d;
        const __m128i pm = _mm_madd_epi16(mins, xsums32(&x[c][b]));
        const __m512i pm512 = _mm512_inserti32x4(_mm512_setzero_si512(), pm, 0);
        acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(d * dx), _mm512_cvtepi32_ps(sum[c]), acc[c]);
        acc[c] = _mm512_fnmadd_ps(_mm512_set1_ps(dmin * dx), _mm512_cvtepi32_ps(pm512), acc[c]);
    }
}

// One q6_K super-block (spec §3.6; see matmul_kquant_tile_avx2.c) against block b of nc columns:
// acc[c] += d_w d_x (sum(sc q x) - 32 sum(sc bsum)). Runs r and r + 1 of a half (64 contiguous
// elements of x) share one zmm; its four 128-bit lanes take scales 2r .. 2r + 3 of the half.
static inline __attribute__((always_inline)) void q6_k_block(const uint8_t *blk, const struct kiln_block_q8_K *const *x,
                                                              int64_t b, int nc, __m512 *acc) {
    const struct kiln_block_q6_K *w = (const void *)blk;
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
    __m512i sum[NC];
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const __m256i bias = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)x[c][b].bsums));
        sum[c] = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(bias, 5)), 0);
    }
    #pragma GCC unroll 2
    for (int half = 0; half < 2; half++) {
        __m256i q[4];  // codes 0..63 of the four 32-element runs
        kiln_q6_k_codes(w->ql + 64 * half, w->qh + 32 * half, q);
        #pragma GCC unroll 2
        for (int r = 0; r < 4; r += 2) {
            const __m512i codes = _mm512_inserti64x4(_mm512_castsi256_si512(q[r]), q[r + 1], 1);
            const __m512i sc = pick16_quad(sc16, 8 * half + 2 * r);
            #pragma GCC unroll 4
            for (int c = 0; c < nc; c++) {
                const __m512i xv = _mm512_loadu_si512((const void *)(x[c][b].qs + 128 * half + 32 * r));
                sum[c] = _mm512_add_epi32(sum[c], _mm512_madd_epi16(_mm512_maddubs_epi16(codes, xv), sc));
            }
        }
    }
    const float d = kiln_f16_scalar(w->d);
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++)
        acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(d * x[c][b].d), _mm512_cvtepi32_ps(sum[c]), acc[c]);
}

// One q2_K (q3 = false) or q3_K super-block against block b of nc columns (arithmetic: the
// AVX2 tile's q23_k_block): groups g and g + 1 of a half (64 contiguous x codes) share one zmm,
// its 128-bit lanes taking the scales of the four 16-element sub-blocks.
static inline __attribute__((always_inline)) void q23_k_block(const uint8_t *blk, bool q3,
                                                               const struct kiln_block_q8_K *const *x,
                                                               int64_t b, int nc, __m512 *acc) {
    const struct kiln_block_q2_K *w2 = (const void *)blk;
    const struct kiln_block_q3_K *w3 = (const void *)blk;
    __m256i sc16, mins16 = _mm256_setzero_si256();
    if (q3) {
        sc16 = kiln_q3_k_scales16(w3->scales);
    } else {
        const __m128i raw = _mm_loadu_si128((const __m128i *)w2->scales);
        sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(raw, _mm_set1_epi8(15)));
        mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15)));
    }
    const uint8_t *qs = q3 ? w3->qs : w2->qs;
    const __m256i hm = q3 ? _mm256_loadu_si256((const __m256i *)w3->hmask) : _mm256_setzero_si256();
    __m512i sum[NC];
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        __m256i bias = _mm256_setzero_si256();
        if (q3)  // the "- 4" of every code: - 4 sum(sc bsum), once per block
            bias = _mm256_slli_epi32(_mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)x[c][b].bsums)), 2);
        sum[c] = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_sub_epi32(_mm256_setzero_si256(), bias), 0);
    }
    #pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
        #pragma GCC unroll 2
        for (int g = 0; g < 4; g += 2) {
            const __m512i codes = _mm512_inserti64x4(_mm512_castsi256_si512(kiln_q23_k_codes(q, hm, q3, h, g)),
                                                     kiln_q23_k_codes(q, hm, q3, h, g + 1), 1);
            const __m512i s = pick16_quad(sc16, 8 * h + 2 * g);
            #pragma GCC unroll 4
            for (int c = 0; c < nc; c++) {
                const __m512i xv = _mm512_loadu_si512((const void *)(x[c][b].qs + 128 * h + 32 * g));
                sum[c] = _mm512_add_epi32(sum[c], _mm512_madd_epi16(_mm512_maddubs_epi16(codes, xv), s));
            }
        }
    }
    const float d = kiln_f16_scalar(q3 ? w3->d : w2->d);
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const float dx = x[c][b].d;
        acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(d * dx), _mm512_cvtepi32_ps(sum[c]), acc[c]);
        if (!q3) {
            const __m256i pm = _mm256_madd_epi16(mins16, _mm256_loadu_si256((const __m256i *)x[c][b].bsums));
            acc[c] = _mm512_fnmadd_ps(_mm512_set1_ps(kiln_f16_scalar(w2->dmin) * dx),
                                      _mm512_cvtepi32_ps(_mm512_inserti64x4(_mm512_setzero_si512(), pm, 0)), acc[c]);
        }
    }
}

enum kq { KQ_Q2_K, KQ_Q3_K, KQ_Q4_K, KQ_Q5_K, KQ_Q6_K };

// Blocks [b0, b1) of one W row against nc columns (a constant after inlining into span_nc).
static inline __attribute__((always_inline)) void span(enum kq kind, const uint8_t *row, size_t bsz,
                                                        const struct kiln_block_q8_K *const *x, int64_t b0,
                                                        int64_t b1, int nc, float *out) {
    // Local accumulators (the caller's array stayed in memory across the loop: a store per block).
    __m512 acc[NC];
    for (int c = 0; c < nc; c++)
        acc[c] = _mm512_setzero_ps();
    for (int64_t b = b0; b < b1; b++) {
        const uint8_t *blk = row + (size_t)b * bsz;
        _mm_prefetch((const char *)blk + 4 * bsz, _MM_HINT_T0);
        _mm_prefetch((const char *)blk + 4 * bsz + 64, _MM_HINT_T0);
        _mm_prefetch((const char *)blk + 4 * bsz + 128, _MM_HINT_T0);
        if (kind == KQ_Q6_K)
            q6_k_block(blk, x, b, nc, acc);
        else if (kind == KQ_Q2_K || kind == KQ_Q3_K)
            q23_k_block(blk, kind == KQ_Q3_K, x, b, nc, acc);
        else
            q45_k_block(blk, kind == KQ_Q5_K, x, b, nc, acc);
    }
    for (int c = 0; c < nc; c++)
        out[c] = kiln_hsum512(acc[c]);
}

// The row's dots for columns x[0..nc) over blocks [b0, b1), in out[c].
static void span_nc(enum kq kind, const uint8_t *row, size_t bsz, const struct kiln_block_q8_K *const *x,
                    int64_t b0, int64_t b1, int nc, float out[NC]) {
#define SPAN(K, N)                                                                                 \
    case N:                                                                                        \
        span(K, row, bsz, x, b0, b1, (N) < NC ? (N) : NC, out); /* N > NC: never taken */         \
        break
#define SPANS(K)                                                                                   \
    switch (nc) {                                                                                  \
        SPAN(K, 1);                                                                                \
        SPAN(K, 2);                                                                                \
        SPAN(K, 3);                                                                                \
        SPAN(K, 4);                                                                                \
    }
    if (kind == KQ_Q2_K)
        SPANS(KQ_Q2_K)
    else if (kind == KQ_Q3_K)
        SPANS(KQ_Q3_K)
    else if (kind == KQ_Q4_K)
        SPANS(KQ_Q4_K)
    else if (kind == KQ_Q5_K)
        SPANS(KQ_Q5_K)
    else
        SPANS(KQ_Q6_K)
#undef SPANS
#undef SPAN
}

static size_t xq_row_bytes(const struct kiln_op *op) { return kiln_row_size(KILN_TYPE_Q8_K, op->src[1].ne[0]); }

static void kquant_matmul(const struct kiln_op *op, const void *ws, enum kq kind, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = op->src[1].ne[1], nb = k / KILN_QK_K;
    const size_t bsz = kiln_row_size(w->type, KILN_QK_K);
    const bool gemm = n >= KILN_MATMUL_GEMM_MIN_N;
    const int64_t rb = gemm ? RB : 1, kb = gemm ? KB : nb;  // GEMV: one row, whole, at a time
    int64_t lo, hi;
    kiln_split((m + rb - 1) / rb, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t i0 = t * rb, i1 = i0 + rb < m ? i0 + rb : m;
        for (int64_t b0 = 0; b0 < nb; b0 += kb) {
            const int64_t b1 = b0 + kb < nb ? b0 + kb : nb;
            for (int64_t j0 = 0; j0 < n; j0 += NC) {
                const int nc = (int)(n - j0 < NC ? n - j0 : NC);
                const struct kiln_block_q8_K *x[NC];
                for (int c = 0; c < nc; c++)
                    x[c] = (const void *)((const char *)ws + (size_t)(j0 + c) * xq_row_bytes(op));
                for (int64_t i = i0; i < i1; i++) {
                    float out[NC];
                    span_nc(kind, (const uint8_t *)KILN_ROW(w, i, 0, 0), bsz, x, b0, b1, nc, out);
                    for (int c = 0; c < nc; c++) {
                        float *yi = (float *)KILN_ROW(y, j0 + c, 0, 0) + i;
                        *yi = b0 == 0 ? out[c] : *yi + out[c];
                    }
                }
            }
        }
    }
}

static void q2_k(const struct kiln_op *op, void *ws, int ith, int nth) { kquant_matmul(op, ws, KQ_Q2_K, ith, nth); }
static void q3_k(const struct kiln_op *op, void *ws, int ith, int nth) { kquant_matmul(op, ws, KQ_Q3_K, ith, nth); }
static void q4_k(const struct kiln_op *op, void *ws, int ith, int nth) { kquant_matmul(op, ws, KQ_Q4_K, ith, nth); }
static void q5_k(const struct kiln_op *op, void *ws, int ith, int nth) { kquant_matmul(op, ws, KQ_Q5_K, ith, nth); }
static void q6_k(const struct kiln_op *op, void *ws, int ith, int nth) { kquant_matmul(op, ws, KQ_Q6_K, ith, nth); }

// The same kernel serves both table rows of a type (the rows differ in `supports` only, so that
// `kiln ops` and the benchmarks name the GEMV and the GEMM apart).
#define KQ_KERNEL(name, fn)                                                                        \
    const struct kiln_cpu_kernel name = { .workspace = kiln_matmul_xq8k_workspace,                 \
                                          .prepare = kiln_matmul_xq8k_prepare, .compute = fn }
KQ_KERNEL(kiln_matmul_q2_K_avx512_gemv, q2_k);
KQ_KERNEL(kiln_matmul_q3_K_avx512_gemv, q3_k);
KQ_KERNEL(kiln_matmul_q4_K_avx512_gemv, q4_k);
KQ_KERNEL(kiln_matmul_q5_K_avx512_gemv, q5_k);
KQ_KERNEL(kiln_matmul_q6_K_avx512_gemv, q6_k);
KQ_KERNEL(kiln_matmul_q2_K_avx512_gemm, q2_k);
KQ_KERNEL(kiln_matmul_q3_K_avx512_gemm, q3_k);
KQ_KERNEL(kiln_matmul_q4_K_avx512_gemm, q4_k);
KQ_KERNEL(kiln_matmul_q5_K_avx512_gemm, q5_k);
KQ_KERNEL(kiln_matmul_q6_K_avx512_gemm, q6_k);
