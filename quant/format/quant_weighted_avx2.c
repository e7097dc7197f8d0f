// The importance-weighted (imatrix) Q2_K, Q3_K, Q4_K, Q5_K, Q4_1 and Q5_1 quantizers with AVX2,
// byte-identical to quant_weighted.c (ggml's quantize_row_<type>_impl).
//
// Why this is exact: what costs is make_qkx3_quants, a search of 37 trial scales per block,
// run on each block independently. Here 8 blocks run side by side, one per lane, each lane
// doing the reference's float operations in its order (sums element by element), branches as
// lane masks; min_ps/max_ps are the reference's `x < min ? x : min`; the nearest-int is the
// 1.5 * 2^23 trick. The weights and everything after the searches (make_qp_quants, the
// requantization, packing) are the reference's own functions (kiln_q2_K_weights ...
// kiln_q45_K_weighted_finish), so only the search is a second implementation. Built with
// -mavx2, no FMA, -ffp-contract=off; tests/test_quant_vectors.c compares the bytes with the
// reference on ordinary and hostile data and with ggml's imatrix vectors.
//
// Q3_K's sub-block search is make_qx_quants (kiln_make_qx_x8_avx2, quant_q6_avx2.c).
//
// Versions: v1 (this): make_qkx3_quants for 8 blocks of 16 or 32.
#include <immintrin.h>
#include <stdbool.h>
#include <math.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_avx2_lanes.h"
#include "quant/format/quant_k_internal.h"

// make_qkx2_quants / make_qkx3_quants for the 8 blocks x + n * lane (n = 16 or 32) with weights
// w (laid out as x): the first fit, then nstep + 1 trial scales (rmin + rdelta * is + nmax) /
// (max - min), each refit by weighted least squares and kept when its weighted error (|diff|
// with mad, diff^2 otherwise) is lower. Outputs scale[8], the_min[8] (= -min), codes
// L[n * lane + i]. (qkx2's `max == min` and qkx3's `max <= min` select the same blocks: max >= min
// unless a NaN, which fails both.) Used by Q4_K/Q5_K (quant_k_avx2.c), Q2_K (quant_q2_avx2.c)
// and the weighted quantizers here.
void kiln_make_qkx_x8_avx2(const float *x, const float *wts, int n, int nmax, float rmin, float rdelta, int nstep,
                           bool mad, float *scale_out, float *the_min_out, uint8_t *Lout) {
    enum { NM = 32 };
    const __m256 sign = _mm256_set1_ps(-0.0f);
    n = n < 1 ? 1 : n > NM ? NM : n;  // 16 or 32 here; the bound keeps the arrays in range
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(n));
    __m256 xt[NM], wt[NM];
    xt[0] = _mm256_i32gather_ps(x, idx, 4);
    wt[0] = _mm256_i32gather_ps(wts, idx, 4);
    for (int i = 1; i < n; i++) {
        xt[i] = _mm256_i32gather_ps(x + i, idx, 4);
        wt[i] = _mm256_i32gather_ps(wts + i, idx, 4);
    }
    __m256 min = xt[0], max = xt[0], sum_w = wt[0], sum_x = _mm256_mul_ps(sum_w, xt[0]);
    for (int i = 1; i < n; ++i) {
        min = _mm256_min_ps(xt[i], min);
        max = _mm256_max_ps(xt[i], max);
        sum_w = _mm256_add_ps(sum_w, wt[i]);
        sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(wt[i], xt[i]));
    }
    const __m256 zero = _mm256_setzero_ps();
    min = _mm256_blendv_ps(min, zero, _mm256_cmp_ps(min, zero, _CMP_GT_OQ));
    const __m256 flat = _mm256_cmp_ps(max, min, _CMP_LE_OQ);  // max <= min: scale 0, codes 0
    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)nmax), _mm256_sub_ps(max, min));
    __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);
    __m256 best = zero;
    __m256i L[NM], Laux[NM];
    for (int i = 0; i < n; ++i) {
        L[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(xt[i], min))), 0, nmax);
        const __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, _mm256_cvtepi32_ps(L[i])), min), xt[i]);
        best = _mm256_add_ps(best, _mm256_mul_ps(wt[i], mad ? _mm256_andnot_ps(sign, diff) : _mm256_mul_ps(diff, diff)));
    }
    for (int is = 0; is <= nstep; ++is) {
        const float num = rmin + rdelta * is + nmax;  // (rmin + rdelta*is) + nmax, in float
        iscale = _mm256_div_ps(_mm256_set1_ps(num), _mm256_sub_ps(max, min));
        __m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < n; ++i) {
            Laux[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(xt[i], min))), 0, nmax);
            const __m256 l = _mm256_cvtepi32_ps(Laux[i]);
            const __m256 wl = _mm256_mul_ps(wt[i], l);
            sum_l = _mm256_add_ps(sum_l, wl);
            sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, l));
            sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, xt[i]));
        }
        const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
        const __m256 dpos = _mm256_andnot_ps(flat, _mm256_cmp_ps(D, zero, _CMP_GT_OQ));
        if (_mm256_movemask_ps(dpos) == 0)
            continue;
        __m256 this_scale = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
        __m256 this_min = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
        const __m256 pos = _mm256_cmp_ps(this_min, zero, _CMP_GT_OQ);
        this_min = _mm256_blendv_ps(this_min, zero, pos);
        this_scale = _mm256_blendv_ps(this_scale, _mm256_div_ps(sum_xl, sum_l2), pos);
        __m256 err = zero;
        for (int i = 0; i < n; ++i) {
            const __m256 diff = _mm256_sub_ps(
                _mm256_add_ps(_mm256_mul_ps(this_scale, _mm256_cvtepi32_ps(Laux[i])), this_min), xt[i]);
            err = _mm256_add_ps(err, _mm256_mul_ps(wt[i], mad ? _mm256_andnot_ps(sign, diff) : _mm256_mul_ps(diff, diff)));
        }
        const __m256 take = _mm256_and_ps(dpos, _mm256_cmp_ps(err, best, _CMP_LT_OQ));
        const __m256i takei = _mm256_castps_si256(take);
        for (int i = 0; i < n; ++i)
            L[i] = _mm256_blendv_epi8(L[i], Laux[i], takei);
        best = _mm256_blendv_ps(best, err, take);
        scale = _mm256_blendv_ps(scale, this_scale, take);
        min = _mm256_blendv_ps(min, this_min, take);
    }
    const __m256i flati = _mm256_castps_si256(flat);
    _mm256_storeu_ps(scale_out, _mm256_blendv_ps(scale, zero, flat));
    _mm256_storeu_ps(the_min_out, _mm256_xor_ps(min, _mm256_set1_ps(-0.0f)));  // -min, as C's unary minus
    for (int i = 0; i < n; ++i) {
        int32_t v[8];
        _mm256_storeu_si256((__m256i *)v, _mm256_andnot_si256(flati, L[i]));
        for (int lane = 0; lane < 8; lane++)
            Lout[n * lane + i] = (uint8_t)v[lane];
    }
}

void kiln_quantize_q2_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q2_K *y = out;
    uint8_t L[KILN_QK_K];
    float mins[16], scales[16], sw[16], weight[KILN_QK_K];
    for (int64_t i = 0; i < n / KILN_QK_K; i++, x += KILN_QK_K) {
        kiln_q2_K_weights(x, qw + KILN_QK_K * i, weight, sw);
        kiln_make_qkx_x8_avx2(x, weight, 16, 3, -0.9f, 0.05f, 36, false, scales, mins, L);
        kiln_make_qkx_x8_avx2(x + 128, weight + 128, 16, 3, -0.9f, 0.05f, 36, false, scales + 8, mins + 8, L + 128);
        kiln_q2_K_weighted_finish(x, scales, mins, sw, &y[i], L);
    }
}

void kiln_quantize_q3_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q3_K *y = out;
    int8_t L[KILN_QK_K];
    float scales[16], weight[KILN_QK_K], sw[16];
    for (int64_t i = 0; i < n / KILN_QK_K; i++, x += KILN_QK_K) {
        kiln_q3_K_weights(x, qw + KILN_QK_K * i, weight, sw);
        kiln_make_qx_x8_avx2(x, weight, 16, 4, scales, L);
        kiln_make_qx_x8_avx2(x + 128, weight + 128, 16, 4, scales + 8, L + 128);
        kiln_q3_K_weighted_finish(x, scales, sw, &y[i], L);
    }
}

static void q45_K(const float *x, uint8_t *scales_out, kiln_half *d_out, kiln_half *dmin_out, uint8_t *L, int nmax,
                  const float *qw) {
    float weights[KILN_QK_K], sw[8], mins[8], scales[8];
    kiln_q45_K_weights(x, qw, weights, sw);
    kiln_make_qkx_x8_avx2(x, weights, 32, nmax, -0.9f, 0.05f, 36, false, scales, mins, L);
    kiln_q45_K_weighted_finish(x, scales, mins, sw, scales_out, d_out, dmin_out, L, nmax);
}

void kiln_quantize_q4_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q4_K *y = out;
    uint8_t L[KILN_QK_K];
    for (int64_t i = 0; i < n / KILN_QK_K; i++, x += KILN_QK_K) {
        q45_K(x, y[i].scales, &y[i].d, &y[i].dmin, L, 15, qw + KILN_QK_K * i);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < KILN_QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; ++l)
                q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void kiln_quantize_q5_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q5_K *y = out;
    uint8_t L[KILN_QK_K];
    for (int64_t i = 0; i < n / KILN_QK_K; i++, x += KILN_QK_K) {
        q45_K(x, y[i].scales, &y[i].d, &y[i].dmin, L, 31, qw + KILN_QK_K * i);
        kiln_kquant_q5_pack(L, y[i].qh, y[i].qs);
    }
}

// ---- Q4_1 / Q5_1: make_qkx3_quants(32, 15 or 31) per block, weights qw * sqrt(sigma2 + x^2)
// with sigma2 the row's mean of x^2 (quant_weighted.c) ----

void kiln_block_weights_avx2(const float *x, const float *qw, float sigma2, float *w, int64_t n) {
    const __m256 s2 = _mm256_set1_ps(sigma2);
    for (int64_t j = 0; j < n; j += 8) {
        const __m256 xv = _mm256_loadu_ps(x + j);
        _mm256_storeu_ps(w + j, _mm256_mul_ps(_mm256_loadu_ps(qw + j),
                                              _mm256_sqrt_ps(_mm256_add_ps(s2, _mm256_mul_ps(xv, xv)))));
    }
}

static void put_q4_1(void *out, int64_t ib, float d, float min, const uint8_t *L) {
    struct kiln_block_q4_1 *y = &((struct kiln_block_q4_1 *)out)[ib];
    y->d = kiln_f32_to_f16(d);
    y->m = kiln_f32_to_f16(-min);
    for (int j = 0; j < 16; ++j)
        y->qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
}

static void put_q5_1(void *out, int64_t ib, float d, float min, const uint8_t *L) {
    struct kiln_block_q5_1 *y = &((struct kiln_block_q5_1 *)out)[ib];
    y->d = kiln_f32_to_f16(d);
    y->m = kiln_f32_to_f16(-min);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        y->qs[j] = (uint8_t)((L[j] & 0x0F) | ((L[j + 16] & 0x0F) << 4));
        qh |= ((L[j] & 0x10u) >> 4) << j;
        qh |= ((L[j + 16] & 0x10u) >> 4) << (j + 16);
    }
    memcpy(y->qh, &qh, 4);
}

static void q32_1_weighted(const float *x, int64_t n, const float *qw, int nmax, void *out,
                           void (*put)(void *, int64_t, float, float, const uint8_t *)) {
    const float sigma2 = kiln_row_sigma2(x, n);
    const int64_t nb = n / 32;
    float w[8 * 32], scales[8], mins[8];
    uint8_t L[8 * 32], Laux[32];
    int64_t ib = 0;
    for (; ib + 8 <= nb; ib += 8) {
        kiln_block_weights_avx2(x + 32 * ib, qw + 32 * ib, sigma2, w, 8 * 32);
        kiln_make_qkx_x8_avx2(x + 32 * ib, w, 32, nmax, -0.9f, 0.05f, 36, false, scales, mins, L);
        for (int b = 0; b < 8; b++)
            put(out, ib + b, scales[b], mins[b], L + 32 * b);
    }
    for (; ib < nb; ib++) {  // the last blocks, fewer than a lane group: the scalar search
        kiln_block_weights_avx2(x + 32 * ib, qw + 32 * ib, sigma2, w, 32);
        float min;
        const float d = kiln_make_qkx3_quants(32, nmax, x + 32 * ib, w, L, &min, Laux, -0.9f, 0.05f, 36);
        put(out, ib, d, min, L);
    }
}

void kiln_quantize_q4_1_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    q32_1_weighted(x, n, qw, 15, out, put_q4_1);
}

void kiln_quantize_q5_1_avx2_weighted(const float *x, void *out, int64_t n, const float *qw) {
    q32_1_weighted(x, n, qw, 31, out, put_q5_1);
}
