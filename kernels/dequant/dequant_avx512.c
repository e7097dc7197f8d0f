// dequant, AVX-512 (F+BW+VL+VNNI; F16C): f16 -> f32; q8_0, q4_0 -> f32 or f16; q4_K, q5_K,
// q6_K -> f32. Layouts: dequant.h, quant/format/blocks.h, spec §2-3.
//
// dequant_avx2.c and dequant_kquant_avx2.c in 16-lane vectors: a q8_0/q4_0 block's 32 codes are
// two zmm of floats (one widening each), a K-quant sub-block of 32 codes two zmm. The products
// are the reference's in the same order (the K-quants: (D sc) q - (M m), two roundings, compiled
// with -ffp-contract=off as the AVX2 file is, since a fused multiply-add would round once), so
// every value has the reference's bits; f16 output rounds with vcvtps2ph (RNE, as the reference).
// Versions: v1 (this). Not yet measured on an AVX-512 machine; checked under SIMDe.
// Test: `kiln ops --op dequant --kernel avx512` (ceiling 0: bit-exact).
#include "kernels/common/kquant_x86.h"
#include "kernels/common/simd_avx512.h"
#include "kernels/common/simd_x86.h"
#include "kernels/dequant/dequant.h"
#include "quant/format/blocks.h"
#include "quant/format/fp16.h"

// 16 int32 -> 16 floats times d, to f32 or (rounded) f16.
static inline void store16(__m512i v, __m512 d, void *dst, bool to_f16) {
    const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), d);
    if (to_f16)
        _mm256_storeu_si256((__m256i *)dst, _mm512_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT));
    else
        _mm512_storeu_ps((float *)dst, f);
}

// 32 int8 codes times d.
static inline void store_block(__m256i codes, float d, void *dst, bool to_f16) {
    const __m512 dv = _mm512_set1_ps(d);
    const size_t half = to_f16 ? 16 * sizeof(uint16_t) : 16 * sizeof(float);
    store16(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(codes)), dv, dst, to_f16);
    store16(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(codes, 1)), dv, (char *)dst + half, to_f16);
}

static inline __attribute__((always_inline)) void dequant_rows(const struct kiln_op *op, int ith, int nth,
                                                               bool q4, bool to_f16) {
    const struct kiln_tensor *x = &op->src[0], *y = &op->dst;
    const int64_t nb = x->ne[0] / KILN_QK8_0;
    const size_t out_block = to_f16 ? 32 * sizeof(uint16_t) : 32 * sizeof(float);
    int64_t lo, hi;
    kiln_split(kiln_tensor_nrows(x), ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        char *out = kiln_tensor_row(y, r);
        if (q4) {
            const struct kiln_block_q4_0 *b = kiln_tensor_row(x, r);
            for (int64_t i = 0; i < nb; i++)
                store_block(kiln_unpack_q4_0(b[i].qs), _cvtsh_ss(b[i].d), out + i * out_block, to_f16);
        } else {
            const struct kiln_block_q8_0 *b = kiln_tensor_row(x, r);
            for (int64_t i = 0; i < nb; i++)
                store_block(_mm256_loadu_si256((const __m256i *)b[i].qs), _cvtsh_ss(b[i].d), out + i * out_block,
                            to_f16);
        }
    }
}

static void q8_0_f32(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; dequant_rows(op, ith, nth, false, false); }
static void q4_0_f32(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; dequant_rows(op, ith, nth, true, false); }
static void q8_0_f16(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; dequant_rows(op, ith, nth, false, true); }
static void q4_0_f16(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; dequant_rows(op, ith, nth, true, true); }

static void f16_f32(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    const int64_t k = op->src[0].ne[0];
    int64_t lo, hi;
    kiln_split(kiln_tensor_nrows(&op->src[0]), ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const uint16_t *h = kiln_tensor_row(&op->src[0], r);
        float *y = kiln_tensor_row(&op->dst, r);
        int64_t l = 0;
        for (; l + 16 <= k; l += 16)
            _mm512_storeu_ps(y + l, kiln_load_f16x16(h + l));
        for (; l < k; l++)
            y[l] = _cvtsh_ss(h[l]);
    }
}

// ---- K-quants ----

// 32 unsigned codes (bytes) -> y[0..32) = d * q - m (the reference's two roundings).
static inline void store32_dm(__m256i q, float d, float m, float *y) {
    const __m512 dv = _mm512_set1_ps(d), mv = _mm512_set1_ps(m);
    const __m512 v0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(q)));
    const __m512 v1 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(q, 1)));
    _mm512_storeu_ps(y, _mm512_sub_ps(_mm512_mul_ps(v0, dv), mv));
    _mm512_storeu_ps(y + 16, _mm512_sub_ps(_mm512_mul_ps(v1, dv), mv));
}

// get_scale_min_k4 (spec §3.4).
static inline void scale_min(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// q4_K (five = false) or q5_K rows.
static inline __attribute__((always_inline)) void dequant_q45_k(bool five, const void *in, float *y, int64_t k) {
        for (int64_t i = 0; i < k / KILN_QK_K; i++, y += KILN_QK_K) {
        const struct kiln_block_q4_K *b4 = (const struct kiln_block_q4_K *)in + i;
        const struct kiln_block_q5_K *b5 = (const struct kiln_block_q5_K *)in + i;
        const uint8_t *scales = five ? b5->scales : b4->scales, *qs = five ? b5->qs : b4->qs;
        const float D = _cvtsh_ss(five ? b5->d : b4->d), M = _cvtsh_ss(five ? b5->dmin : b4->dmin);
        const __m256i h = five ? _mm256_loadu_si256((const __m256i *)b5->qh) : _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) {
            int sc0, m0, sc1, m1;
            scale_min(2 * j, scales, &sc0, &m0);
            scale_min(2 * j + 1, scales, &sc1, &m1);
            const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
            __m256i lo, hi;
            kiln_q45_k_codes(q, h, five, j, &lo, &hi);
            store32_dm(lo, D * (float)sc0, M * (float)m0, y + 64 * j);
            store32_dm(hi, D * (float)sc1, M * (float)m1, y + 64 * j + 32);
        }
    }
}

static void dequant_q6_k(const void *in, float *y, int64_t k) {
    const struct kiln_block_q6_K *x = in;
    const __m256i off = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < k / KILN_QK_K; i++, y += KILN_QK_K) {
        const float D = _cvtsh_ss(x[i].d);
        for (int half = 0; half < 2; half++) {
            const int8_t *sc = x[i].scales + 8 * half;
            __m256i q[4];  // codes 0..63 of the four 32-element runs
            kiln_q6_k_codes(x[i].ql + 64 * half, x[i].qh + 32 * half, q);
            float *out = y + 128 * half;
            for (int r = 0; r < 4; r++) {  // run r: elements 32 r .. 32 r + 31, scales 2r, 2r+1
                const __m256i v = _mm256_sub_epi8(q[r], off);
                store16(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(v)), _mm512_set1_ps(D * (float)sc[2 * r]),
                        out + 32 * r, false);
                store16(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(v, 1)),
                        _mm512_set1_ps(D * (float)sc[2 * r + 1]), out + 32 * r + 16, false);
            }
        }
    }
}

static void dequant_q4_k(const void *in, float *y, int64_t k) { dequant_q45_k(false, in, y, k); }
static void dequant_q5_k(const void *in, float *y, int64_t k) { dequant_q45_k(true, in, y, k); }

static inline void rows(const struct kiln_op *op, int ith, int nth, void (*fn)(const void *, float *, int64_t)) {
    int64_t lo, hi;
    kiln_split(kiln_tensor_nrows(&op->src[0]), ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++)
        fn(kiln_tensor_row(&op->src[0], r), kiln_tensor_row(&op->dst, r), op->src[0].ne[0]);
}

static void q4_k(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; rows(op, ith, nth, dequant_q4_k); }
static void q5_k(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; rows(op, ith, nth, dequant_q5_k); }
static void q6_k(const struct kiln_op *op, void *ws, int ith, int nth) { (void)ws; rows(op, ith, nth, dequant_q6_k); }

const struct kiln_cpu_kernel kiln_dequant_f16_f32_avx512 = { .compute = f16_f32 };
const struct kiln_cpu_kernel kiln_dequant_q8_0_f32_avx512 = { .compute = q8_0_f32 };
const struct kiln_cpu_kernel kiln_dequant_q4_0_f32_avx512 = { .compute = q4_0_f32 };
const struct kiln_cpu_kernel kiln_dequant_q8_0_f16_avx512 = { .compute = q8_0_f16 };
const struct kiln_cpu_kernel kiln_dequant_q4_0_f16_avx512 = { .compute = q4_0_f16 };
const struct kiln_cpu_kernel kiln_dequant_q4_K_f32_avx512 = { .compute = q4_k };
const struct kiln_cpu_kernel kiln_dequant_q5_K_f32_avx512 = { .compute = q5_k };
const struct kiln_cpu_kernel kiln_dequant_q6_K_f32_avx512 = { .compute = q6_k };
