// Q2_K quantization with AVX2, byte-identical to kiln_quantize_q2_K_ref (quant_ref_k.c).
//
// Why this is exact: the reference searches each of a super-block's 16 sub-blocks of 16 on its
// own (make_qkx2_quants with nmax 3, weights |x|, mean absolute error, 16 trial scales; spec
// §6.15). Here 8 searches run side by side, one sub-block per lane: each lane does the
// reference's float operations in its order (sums element by element), branches as lane
// masks; min_ps/max_ps are the reference's `x < min ? x : min` compares; the nearest-int is the
// same 1.5 * 2^23 trick. The final requantization ((x + dm) / d per element) runs 8 elements
// at a time. Built with -mavx2, no FMA, -ffp-contract=off; tests/test_quant_vectors.c compares
// the bytes with the reference's on ordinary and hostile data.
//
// Versions: v1 (this): the sub-block search and the requantization vectorised; the 4-bit
// scale/min quantization and the packing stay scalar.
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_k_internal.h"

enum { N = 16, NMAX = 3, NSTEP = 15 };

static inline __m256i nearest_int8(__m256 v) {
    const __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.0f)));
    return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}

static inline __m256i clamp8(__m256i v, int lo, int hi) {
    return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}

static inline __m256 absps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// make_qkx2_quants(16, 3, x, |x|, L, &the_min, Laux, -0.5, 0.1, 15, use_mad = 1) for the 8
// sub-blocks x + 16 * lane: scale[8], the_min[8], codes into L[16 * lane + i].
static void make_qkx2_mad_x8(const float *x, float *scale_out, float *the_min_out, uint8_t *Lout) {
    const __m256i idx = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
    __m256 xt[N], wt[N];
    for (int i = 0; i < N; i++) {
        xt[i] = _mm256_i32gather_ps(x + i, idx, 4);
        wt[i] = absps(xt[i]);
    }
    __m256 min = xt[0], max = xt[0], sum_w = wt[0], sum_x = _mm256_mul_ps(sum_w, xt[0]);
    for (int i = 1; i < N; ++i) {
        min = _mm256_min_ps(xt[i], min);
        max = _mm256_max_ps(xt[i], max);
        sum_w = _mm256_add_ps(sum_w, wt[i]);
        sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(wt[i], xt[i]));
    }
    const __m256 zero = _mm256_setzero_ps();
    min = _mm256_blendv_ps(min, zero, _mm256_cmp_ps(min, zero, _CMP_GT_OQ));
    const __m256 flat = _mm256_cmp_ps(max, min, _CMP_EQ_OQ);  // scale 0, codes 0
    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)NMAX), _mm256_sub_ps(max, min));
    __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);
    __m256 best = zero;
    __m256i L[N], Laux[N];
    for (int i = 0; i < N; ++i) {
        L[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(xt[i], min))), 0, NMAX);
        const __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, _mm256_cvtepi32_ps(L[i])), min), xt[i]);
        best = _mm256_add_ps(best, _mm256_mul_ps(wt[i], absps(diff)));
    }
    for (int is = 0; is <= NSTEP; ++is) {
        const float num = -0.5f + 0.1f * is + NMAX;  // (rmin + rdelta*is) + nmax, in float
        iscale = _mm256_div_ps(_mm256_set1_ps(num), _mm256_sub_ps(max, min));
        __m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < N; ++i) {
            Laux[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(xt[i], min))), 0, NMAX);
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
        __m256 cur = zero;
        for (int i = 0; i < N; ++i) {
            const __m256 diff = _mm256_sub_ps(
                _mm256_add_ps(_mm256_mul_ps(this_scale, _mm256_cvtepi32_ps(Laux[i])), this_min), xt[i]);
            cur = _mm256_add_ps(cur, _mm256_mul_ps(wt[i], absps(diff)));
        }
        const __m256 take = _mm256_and_ps(dpos, _mm256_cmp_ps(cur, best, _CMP_LT_OQ));
        const __m256i takei = _mm256_castps_si256(take);
        for (int i = 0; i < N; ++i)
            L[i] = _mm256_blendv_epi8(L[i], Laux[i], takei);
        best = _mm256_blendv_ps(best, cur, take);
        scale = _mm256_blendv_ps(scale, this_scale, take);
        min = _mm256_blendv_ps(min, this_min, take);
    }
    const __m256i flati = _mm256_castps_si256(flat);
    _mm256_storeu_ps(scale_out, _mm256_blendv_ps(scale, zero, flat));
    _mm256_storeu_ps(the_min_out, _mm256_xor_ps(min, _mm256_set1_ps(-0.0f)));  // -min, as C's unary minus
    for (int i = 0; i < N; ++i) {
        int32_t v[8];
        _mm256_storeu_si256((__m256i *)v, _mm256_andnot_si256(flati, L[i]));
        for (int lane = 0; lane < 8; lane++)
            Lout[16 * lane + i] = (uint8_t)v[lane];
    }
}

void kiln_quantize_q2_K_avx2(const float *x, void *out, int64_t k) {
    struct kiln_block_q2_K *y = out;
    uint8_t L[KILN_QK_K];
    float mins[KILN_QK_K / 16], scales[KILN_QK_K / 16];
    const float q4scale = 15.f;
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        make_qkx2_mad_x8(x, scales, mins, L);
        make_qkx2_mad_x8(x + 128, scales + 8, mins + 8, L + 128);
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            const float iscale = q4scale / max_scale;
            for (int j = 0; j < KILN_QK_K / 16; ++j)
                y[i].scales[j] = (uint8_t)kiln_nearest_int(iscale * scales[j]);
            y[i].d = kiln_f32_to_f16(max_scale / q4scale);
        } else {
            memset(y[i].scales, 0, sizeof y[i].scales);
            y[i].d = kiln_f32_to_f16(0.f);
        }
        if (max_min > 0) {
            const float iscale = q4scale / max_min;
            for (int j = 0; j < KILN_QK_K / 16; ++j)
                y[i].scales[j] |= (uint8_t)((unsigned)kiln_nearest_int(iscale * mins[j]) << 4);  // NaN: no UB
            y[i].dmin = kiln_f32_to_f16(max_min / q4scale);
        } else {
            y[i].dmin = kiln_f32_to_f16(0.f);
        }
        const float dd = kiln_f16_to_f32(y[i].d), dmin = kiln_f16_to_f32(y[i].dmin);
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            const float d = dd * (y[i].scales[j] & 0xF);
            if (!d)
                continue;  // the sub-block keeps its search codes, as the reference
            const float dm = dmin * (y[i].scales[j] >> 4);
            const __m256 vd = _mm256_set1_ps(d), vdm = _mm256_set1_ps(dm);
            for (int h = 0; h < 16; h += 8) {
                const __m256 v = _mm256_div_ps(_mm256_add_ps(_mm256_loadu_ps(x + 16 * j + h), vdm), vd);
                int32_t q[8];
                _mm256_storeu_si256((__m256i *)q, clamp8(nearest_int8(v), 0, 3));
                for (int e = 0; e < 8; e++)
                    L[16 * j + h + e] = (uint8_t)q[e];
            }
        }
        kiln_pack_2bit(L, y[i].qs);
    }
}
