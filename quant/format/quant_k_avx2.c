// Q4_K and Q5_K quantization with AVX2, byte-identical to quant_ref_k.c.
//
// Why this is exact: the reference searches each of a super-block's 8 sub-blocks of 32
// independently (make_qkx2, spec §6.15). Here the 8 searches run side by side, one per lane:
// every lane performs the reference's float operations in the reference's order (sums still go
// element by element), with branches turned into lane masks. AVX add/sub/mul/div/sqrt are the
// same IEEE operations as the scalar ones, and this file is compiled with -mavx2 but without
// FMA and with -ffp-contract=off, so nothing is fused. tests/test_quant_vectors.c compares
// the bytes with the reference on hostile and ordinary data.
//
// Versions: v1 (this): the sub-block search vectorised; scale packing and requant stay scalar.
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_ref.h"
#include "quant/format/quant_k_internal.h"

// nearest_int on 8 lanes: the same 1.5 * 2^23 trick as kiln_nearest_int.
static inline __m256i nearest_int8(__m256 v) {
    const __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.0f)));
    return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}

static inline __m256i clamp8(__m256i v, int lo, int hi) {
    return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}

static inline __m256 absps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// make_qkx2 for 8 sub-blocks at once (n = 32, use_mad = false). xt[i], wt[i]: element i of the
// 8 sub-blocks. Outputs per lane: scale, the_min; L[i] codes per lane.
static void make_qkx2_x8(const __m256 *xt, const __m256 *wt, int nmax, float rmin, int nstep,
                         __m256 *scale_out, __m256 *the_min_out, __m256i *L) {
    enum { N = 32 };
    __m256 min = xt[0], max = xt[0], sum_w = wt[0], sum_x = _mm256_mul_ps(sum_w, xt[0]);
    for (int i = 1; i < N; ++i) {
        min = _mm256_min_ps(xt[i], min);  // x < min ? x : min, as the reference
        max = _mm256_max_ps(xt[i], max);
        sum_w = _mm256_add_ps(sum_w, wt[i]);
        sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(wt[i], xt[i]));
    }
    const __m256 zero = _mm256_setzero_ps();
    min = _mm256_blendv_ps(min, zero, _mm256_cmp_ps(min, zero, _CMP_GT_OQ));
    const __m256 flat = _mm256_cmp_ps(max, min, _CMP_EQ_OQ);  // these lanes return 0, codes 0
    const __m256 fnmax = _mm256_set1_ps((float)nmax);
    __m256 iscale = _mm256_div_ps(fnmax, _mm256_sub_ps(max, min));
    __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);
    __m256 best = zero;
    for (int i = 0; i < N; ++i) {
        L[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(xt[i], min))), 0, nmax);
        const __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, _mm256_cvtepi32_ps(L[i])), min), xt[i]);
        best = _mm256_add_ps(best, _mm256_mul_ps(wt[i], _mm256_mul_ps(diff, diff)));
    }
    __m256i Laux[N];
    for (int is = 0; is <= nstep; ++is) {
        const float num = rmin + 0.1f * is + nmax;  // (rmin + rdelta*is) + nmax, in float
        iscale = _mm256_div_ps(_mm256_set1_ps(num), _mm256_sub_ps(max, min));
        __m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < N; ++i) {
            Laux[i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(xt[i], min))), 0, nmax);
            const __m256 l = _mm256_cvtepi32_ps(Laux[i]);
            const __m256 wl = _mm256_mul_ps(wt[i], l);
            sum_l = _mm256_add_ps(sum_l, wl);
            sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, l));
            sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, xt[i]));
        }
        const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
        __m256 this_scale = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
        __m256 this_min = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
        const __m256 pos = _mm256_cmp_ps(this_min, zero, _CMP_GT_OQ);
        this_min = _mm256_blendv_ps(this_min, zero, pos);
        this_scale = _mm256_blendv_ps(this_scale, _mm256_div_ps(sum_xl, sum_l2), pos);
        __m256 cur = zero;
        for (int i = 0; i < N; ++i) {
            const __m256 diff = _mm256_sub_ps(
                _mm256_add_ps(_mm256_mul_ps(this_scale, _mm256_cvtepi32_ps(Laux[i])), this_min), xt[i]);
            cur = _mm256_add_ps(cur, _mm256_mul_ps(wt[i], _mm256_mul_ps(diff, diff)));
        }
        const __m256 take = _mm256_andnot_ps(flat, _mm256_and_ps(_mm256_cmp_ps(D, zero, _CMP_GT_OQ),
                                                                 _mm256_cmp_ps(cur, best, _CMP_LT_OQ)));
        const __m256i takei = _mm256_castps_si256(take);
        for (int i = 0; i < N; ++i)
            L[i] = _mm256_blendv_epi8(L[i], Laux[i], takei);
        best = _mm256_blendv_ps(best, cur, take);
        scale = _mm256_blendv_ps(scale, this_scale, take);
        min = _mm256_blendv_ps(min, this_min, take);
    }
    const __m256i flati = _mm256_castps_si256(flat);
    for (int i = 0; i < N; ++i)
        L[i] = _mm256_andnot_si256(flati, L[i]);
    *scale_out = _mm256_blendv_ps(scale, zero, flat);
    *the_min_out = _mm256_xor_ps(min, _mm256_set1_ps(-0.0f));  // -min, sign flipped as C's unary minus
}

// The sub-block searches of one Q4_K/Q5_K super-block: scales[8], mins[8], L[256].
static void search_x8(const float *x, int nmax, float rmin, int nstep, float *scales, float *mins, uint8_t *L) {
    __m256 xt[32], wt[32];
    const __m256i idx = _mm256_setr_epi32(0, 32, 64, 96, 128, 160, 192, 224);
    for (int i = 0; i < 32; ++i)
        xt[i] = _mm256_i32gather_ps(x + i, idx, 4);
    __m256 sum_x2 = _mm256_setzero_ps();
    for (int i = 0; i < 32; ++i)
        sum_x2 = _mm256_add_ps(sum_x2, _mm256_mul_ps(xt[i], xt[i]));
    const __m256 av_x = _mm256_sqrt_ps(_mm256_div_ps(sum_x2, _mm256_set1_ps(32.0f)));
    for (int i = 0; i < 32; ++i)
        wt[i] = _mm256_add_ps(av_x, absps(xt[i]));
    __m256 scale, the_min;
    __m256i Lv[32];
    make_qkx2_x8(xt, wt, nmax, rmin, nstep, &scale, &the_min, Lv);
    _mm256_storeu_ps(scales, scale);
    _mm256_storeu_ps(mins, the_min);
    for (int i = 0; i < 32; ++i) {
        int32_t lanes[8];
        _mm256_storeu_si256((__m256i *)lanes, Lv[i]);
        for (int j = 0; j < 8; ++j)
            L[32 * j + i] = (uint8_t)lanes[j];
    }
}

void kiln_quantize_q4_K_avx2(const float *x, void *out, int64_t k) {
    struct kiln_block_q4_K *y = out;
    uint8_t L[KILN_QK_K];
    float scales[8], mins[8];
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        search_x8(x, 15, -1.f, 20, scales, mins, L);
        kiln_kquant_q45_finish(x, scales, mins, &y[i].d, &y[i].dmin, y[i].scales, L, 15);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < KILN_QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; ++l)
                q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void kiln_quantize_q5_K_avx2(const float *x, void *out, int64_t k) {
    struct kiln_block_q5_K *y = out;
    uint8_t L[KILN_QK_K];
    float scales[8], mins[8];
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        search_x8(x, 31, -0.5f, 15, scales, mins, L);
        kiln_kquant_q45_finish(x, scales, mins, &y[i].d, &y[i].dmin, y[i].scales, L, 31);
        kiln_kquant_q5_pack(L, y[i].qh, y[i].qs);
    }
}
