// Q6_K quantization with AVX2, byte-identical to kiln_quantize_q6_K_ref (quant_ref_k.c).
//
// Why this is exact: the reference searches each of a super-block's 16 sub-blocks of 16
// independently (make_qx_quants with nmax 32 and x^2 weights, spec §6.15). Here 8 searches run
// side by side, one sub-block per lane: every lane performs the reference's float operations in
// its order (the sums still go element by element), branches become lane masks, and the
// nearest-int is the same 1.5 * 2^23 trick. AVX add/mul/div are the IEEE operations the scalar
// code does; the file is built with -mavx2, no FMA, -ffp-contract=off. The final requantization
// (x / d per element) runs 8 elements at a time, also exact. tests/test_quant_vectors.c compares
// the bytes with the reference's on ordinary and hostile data.
//
// Versions: v1: the sub-block search and the requantization vectorised; the scale search over
// the 16 sub-block scales and the bit packing stay scalar. v2 (this): the search takes any
// block size (16, 32) and weights, for Q6_K with an importance matrix and the weighted Q4_0 and
// Q5_0 (quant_weighted.c's make_qx_quants calls), byte-identical to those too.
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_avx2_lanes.h"
#include "quant/format/quant_k_internal.h"

// make_qx_quants(n, nmax, x, L, w) for the 8 blocks x + n * lane (n = 16 or 32; w: a weight
// per element laid out as x, or NULL for x^2): scale per lane into scale_out[8], codes
// (l + nmax; 0 for a block below the epsilon) into L[n * lane + i].
void kiln_make_qx_x8_avx2(const float *x, const float *wts, int n, int nmax, float *scale_out, int8_t *L) {
    enum { NM = 32 };
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(n));
    __m256 xt[NM], w[NM];
    for (int i = 0; i < n; i++) {
        xt[i] = _mm256_i32gather_ps(x + i, idx, 4);
        w[i] = wts ? _mm256_i32gather_ps(wts + i, idx, 4) : _mm256_mul_ps(xt[i], xt[i]);
    }
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 amax = _mm256_setzero_ps(), max = _mm256_setzero_ps();
    for (int i = 0; i < n; i++) {  // the first element of the largest |x| (ax > amax)
        const __m256 ax = _mm256_andnot_ps(sign, xt[i]);
        const __m256 gt = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);
        amax = _mm256_blendv_ps(amax, ax, gt);
        max = _mm256_blendv_ps(max, xt[i], gt);
    }
    const __m256 tiny = _mm256_cmp_ps(amax, _mm256_set1_ps(KILN_GROUP_MAX_EPS), _CMP_LT_OQ);
    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)-nmax), max);
    __m256i Lv[NM];
    __m256 sumlx = _mm256_setzero_ps(), suml2 = _mm256_setzero_ps();
    for (int i = 0; i < n; i++) {
        const __m256i l = clamp8(nearest_int8(_mm256_mul_ps(iscale, xt[i])), -nmax, nmax - 1);
        Lv[i] = l;
        const __m256 fl = _mm256_cvtepi32_ps(l);
        sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(w[i], xt[i]), fl));
        suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w[i], fl), fl));
    }
    const __m256 zero = _mm256_setzero_ps();
    __m256 scale = _mm256_blendv_ps(_mm256_div_ps(sumlx, suml2), zero, _mm256_cmp_ps(suml2, zero, _CMP_EQ_OQ));
    __m256 best = _mm256_mul_ps(scale, sumlx);
    for (int is = -9; is <= 9; ++is) {
        if (is == 0)
            continue;
        const float num = -((float)nmax + 0.1f * (float)is);
        iscale = _mm256_div_ps(_mm256_set1_ps(num), max);
        __m256i lt[NM];
        sumlx = suml2 = zero;
        for (int i = 0; i < n; i++) {
            lt[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, xt[i])), -nmax, nmax - 1);
            const __m256 fl = _mm256_cvtepi32_ps(lt[i]);
            sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(w[i], xt[i]), fl));
            suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w[i], fl), fl));
        }
        const __m256 take = _mm256_and_ps(_mm256_cmp_ps(suml2, zero, _CMP_GT_OQ),
                                          _mm256_cmp_ps(_mm256_mul_ps(sumlx, sumlx), _mm256_mul_ps(best, suml2),
                                                        _CMP_GT_OQ));
        if (_mm256_movemask_ps(take) == 0)
            continue;
        const __m256i takei = _mm256_castps_si256(take);
        for (int i = 0; i < n; i++)
            Lv[i] = _mm256_blendv_epi8(Lv[i], lt[i], takei);
        scale = _mm256_blendv_ps(scale, _mm256_div_ps(sumlx, suml2), take);
        best = _mm256_blendv_ps(best, _mm256_mul_ps(scale, sumlx), take);
    }
    // Lanes whose block is all (near) zero: scale 0, codes 0 (the reference's early return).
    scale = _mm256_blendv_ps(scale, zero, tiny);
    const __m256i tinyi = _mm256_castps_si256(tiny), bias = _mm256_set1_epi32(nmax);
    _mm256_storeu_ps(scale_out, scale);
    for (int i = 0; i < n; i++) {
        int32_t v[8];
        _mm256_storeu_si256((__m256i *)v, _mm256_andnot_si256(tinyi, _mm256_add_epi32(Lv[i], bias)));
        for (int lane = 0; lane < 8; lane++)
            L[n * lane + i] = (int8_t)v[lane];
    }
}

// Q6_K with weights x^2 (qw NULL) or an imatrix row (kiln_quantize_q6_K_weighted's qw).
static void quantize_q6_K(const float *x, void *out, int64_t k, const float *qw) {
    struct kiln_block_q6_K *y = out;
    int8_t L[KILN_QK_K];
    float scales[KILN_QK_K / 16];
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        const float *w = qw ? qw + i * KILN_QK_K : NULL;
        kiln_make_qx_x8_avx2(x, w, 16, 32, scales, L);
        kiln_make_qx_x8_avx2(x + 128, w ? w + 128 : NULL, 16, 32, scales + 8, L + 128);
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < KILN_QK_K / 16; ++ib) {
            const float abs_scale = fabsf(scales[ib]);
            if (abs_scale > max_abs_scale) {
                max_abs_scale = abs_scale;
                max_scale = scales[ib];
            }
        }
        if (max_abs_scale < KILN_GROUP_MAX_EPS) {
            memset(&y[i], 0, sizeof y[i]);
            y[i].d = kiln_f32_to_f16(0.f);
            continue;
        }
        const float iscale = -128.f / max_scale;
        y[i].d = kiln_f32_to_f16(1 / iscale);
        for (int ib = 0; ib < KILN_QK_K / 16; ++ib) {
            const int v = kiln_nearest_int(iscale * scales[ib]);
            y[i].scales[ib] = (int8_t)(uint8_t)(v < 127 ? v : 127);
        }
        const float dd = kiln_f16_to_f32(y[i].d);
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            const float d = dd * y[i].scales[j];
            if (!d)
                continue;  // the sub-block keeps its search codes, as the reference
            const __m256 vd = _mm256_set1_ps(d);
            for (int h = 0; h < 16; h += 8) {
                const __m256i q = clamp8(nearest_int8(_mm256_div_ps(_mm256_loadu_ps(x + 16 * j + h), vd)), -32, 31);
                int32_t v[8];
                _mm256_storeu_si256((__m256i *)v, _mm256_add_epi32(q, _mm256_set1_epi32(32)));
                for (int e = 0; e < 8; e++)
                    L[16 * j + h + e] = (int8_t)v[e];
            }
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < KILN_QK_K; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF;
                const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                  ((L[j + l + 96] >> 4) << 6));
            }
        }
    }
}

void kiln_quantize_q6_K_avx2(const float *x, void *out, int64_t k) { quantize_q6_K(x, out, k, NULL); }
void kiln_quantize_q6_K_avx2_weighted(const float *x, void *out, int64_t k, const float *qw) {
    quantize_q6_K(x, out, k, qw);
}

// ---- Q4_0 / Q5_0 with an importance matrix (quant_weighted.c): make_qx_quants(32, 8 or 16)
// with weights qw * sqrt(sigma2 + x^2), sigma2 the row's mean of x^2; 8 blocks per lane group ----

static void pack4(const int8_t *L, uint8_t *qs) {
    for (int j = 0; j < 16; ++j)
        qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
}

static void pack5(const int8_t *L, uint8_t qs[16], uint8_t qh_out[4]) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const uint8_t xi0 = (uint8_t)L[j], xi1 = (uint8_t)L[j + 16];
        qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
        qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
    }
    memcpy(qh_out, &qh, 4);
}

// d (f16) and codes of each block of 32 of the row, 8 blocks at a time, the last ones one by one.
static void q32_weighted(const float *x, int64_t n, const float *qw, int nmax, kiln_half *d_of, size_t d_stride,
                         void (*put)(void *y, int64_t ib, const int8_t *L), void *y) {
    const float sigma2 = kiln_row_sigma2(x, n);
    const int64_t nb = n / 32;
    float w[8 * 32], scales[8];
    int8_t L[8 * 32];
    int64_t ib = 0;
    for (; ib + 8 <= nb; ib += 8) {
        kiln_block_weights_avx2(x + 32 * ib, qw + 32 * ib, sigma2, w, 8 * 32);
        kiln_make_qx_x8_avx2(x + 32 * ib, w, 32, nmax, scales, L);
        for (int b = 0; b < 8; b++) {
            *(kiln_half *)((uint8_t *)d_of + (size_t)(ib + b) * d_stride) = kiln_f32_to_f16(scales[b]);
            put(y, ib + b, L + 32 * b);
        }
    }
    for (; ib < nb; ib++) {
        kiln_block_weights_avx2(x + 32 * ib, qw + 32 * ib, sigma2, w, 32);
        *(kiln_half *)((uint8_t *)d_of + (size_t)ib * d_stride) =
            kiln_f32_to_f16(kiln_make_qx_quants(32, nmax, x + 32 * ib, L, w));
        put(y, ib, L);
    }
}

static void put_q4_0(void *y, int64_t ib, const int8_t *L) { pack4(L, ((struct kiln_block_q4_0 *)y)[ib].qs); }
static void put_q5_0(void *y, int64_t ib, const int8_t *L) {
    struct kiln_block_q5_0 *b = &((struct kiln_block_q5_0 *)y)[ib];
    pack5(L, b->qs, b->qh);
}

void kiln_quantize_q4_0_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q4_0 *y = out;
    q32_weighted(x, n, qw, 8, &y[0].d, sizeof *y, put_q4_0, y);
}

void kiln_quantize_q5_0_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q5_0 *y = out;
    q32_weighted(x, n, qw, 16, &y[0].d, sizeof *y, put_q5_0, y);
}
