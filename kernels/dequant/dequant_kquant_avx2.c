// dequant, AVX2: q4_K, q5_K, q6_K rows -> f32, bit-exact with the references (quant_ref_k.c).
//
// Layouts: quant/format/blocks.h, spec §3.4-3.6. Per 32 (q4_K/q5_K) or 16 (q6_K) elements one scale:
// the reference computes (D * sc) * q - (M * m) in f32 with two roundings after the first
// product, so this file does the same products in the same order (scalar D * sc and M * m, then
// a vector multiply and a vector subtract) and is compiled with -ffp-contract=off: a fused
// multiply-add would round once and differ in the last bit.
// Used by the DEQUANT rows (`kiln dequant`, the matmul fallback) and by the packed GEMM's panel
// conversion (matmul_gemm_avx2.c), where the scalar reference cost ~20% of a prefill GEMM.
//
// Versions: v1 (this). Test: `kiln ops --op dequant --type q4_K,q5_K,q6_K` (ceiling 0).
#include <string.h>

#include <immintrin.h>

#include "kernels/dequant/dequant.h"
#include "kernels/common/kquant_x86.h"
#include "quant/format/blocks.h"
#include "quant/format/fp16.h"

// 32 unsigned codes (bytes) -> y[0..32) = d * q - m.
static inline void store32(__m256i q, float d, float m, float *y) {
    const __m256 dv = _mm256_set1_ps(d), mv = _mm256_set1_ps(m);
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m128i part[4] = { lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8) };
    for (int i = 0; i < 4; i++) {
        const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(part[i]));
        _mm256_storeu_ps(y + 8 * i, _mm256_sub_ps(_mm256_mul_ps(v, dv), mv));
    }
}

static inline void scale_min(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

void kiln_dequantize_q4_K_avx2(const void *in, float *y, int64_t k) {
    const struct kiln_block_q4_K *x = in;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < k / KILN_QK_K; i++, y += KILN_QK_K) {
        const float D = _cvtsh_ss(x[i].d), M = _cvtsh_ss(x[i].dmin);
        for (int j = 0; j < 4; j++) {
            int sc0, m0, sc1, m1;
            scale_min(2 * j, x[i].scales, &sc0, &m0);
            scale_min(2 * j + 1, x[i].scales, &sc1, &m1);
            const __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * j));
            store32(_mm256_and_si256(q, low4), D * (float)sc0, M * (float)m0, y + 64 * j);
            store32(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), D * (float)sc1, M * (float)m1, y + 64 * j + 32);
        }
    }
}

void kiln_dequantize_q5_K_avx2(const void *in, float *y, int64_t k) {
    const struct kiln_block_q5_K *x = in;
    const __m256i low4 = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16);
    for (int64_t i = 0; i < k / KILN_QK_K; i++, y += KILN_QK_K) {
        const float D = _cvtsh_ss(x[i].d), M = _cvtsh_ss(x[i].dmin);
        const __m256i h = _mm256_loadu_si256((const __m256i *)x[i].qh);
        for (int j = 0; j < 4; j++) {
            int sc0, m0, sc1, m1;
            scale_min(2 * j, x[i].scales, &sc0, &m0);
            scale_min(2 * j + 1, x[i].scales, &sc1, &m1);
            const __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * j));
            const __m256i bl = _mm256_set1_epi8((char)(1 << (2 * j))), bh = _mm256_set1_epi8((char)(2 << (2 * j)));
            const __m256i hl = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bl), bl), sixteen);
            const __m256i hh = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bh), bh), sixteen);
            store32(_mm256_or_si256(_mm256_and_si256(q, low4), hl), D * (float)sc0, M * (float)m0, y + 64 * j);
            store32(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), hh), D * (float)sc1,
                    M * (float)m1, y + 64 * j + 32);
        }
    }
}

// 16 signed values (codes - 32, as int8) of a q6_K run times d * sc.
static inline void store16_q6(__m128i v, float dsc, float *y) {
    const __m256 dv = _mm256_set1_ps(dsc);
    _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)), dv));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8))), dv));
}

void kiln_dequantize_q6_K_avx2(const void *in, float *y, int64_t k) {
    const struct kiln_block_q6_K *x = in;
    const __m256i off = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < k / KILN_QK_K; i++, y += KILN_QK_K) {
        const float D = _cvtsh_ss(x[i].d);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = x[i].ql + 64 * half, *qh = x[i].qh + 32 * half;
            const int8_t *sc = x[i].scales + 8 * half;
            __m256i q[4];  // codes 0..63 of the four 32-element runs
            kiln_q6_k_codes(ql, qh, q);
            float *out = y + 128 * half;
            for (int r = 0; r < 4; r++) {  // run r: elements 32 r .. 32 r + 31, scales 2r, 2r+1
                const __m256i v = _mm256_sub_epi8(q[r], off);
                store16_q6(_mm256_castsi256_si128(v), D * (float)sc[2 * r], out + 32 * r);
                store16_q6(_mm256_extracti128_si256(v, 1), D * (float)sc[2 * r + 1], out + 32 * r + 16);
            }
        }
    }
}

static inline void rows(const struct kiln_op *op, int ith, int nth,
                        void (*fn)(const void *, float *, int64_t)) {
    int64_t lo, hi;
    kiln_split(kiln_tensor_nrows(&op->src[0]), ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++)
        fn(kiln_tensor_row(&op->src[0], r), kiln_tensor_row(&op->dst, r), op->src[0].ne[0]);
}

static void q4_k(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; rows(op, ith, nth, kiln_dequantize_q4_K_avx2); }
static void q5_k(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; rows(op, ith, nth, kiln_dequantize_q5_K_avx2); }
static void q6_k(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; rows(op, ith, nth, kiln_dequantize_q6_K_avx2); }

const struct kiln_cpu_kernel kiln_dequant_q4_K_f32_avx2 = { .compute = q4_k };
const struct kiln_cpu_kernel kiln_dequant_q5_K_f32_avx2 = { .compute = q5_k };
const struct kiln_cpu_kernel kiln_dequant_q6_K_f32_avx2 = { .compute = q6_k };
