// IQ4_NL and IQ4_XS quantization with AVX2 (with or without an importance matrix),
// byte-identical to quant_ref_iq4.c (ggml's quantize_row_iq4_nl_impl, ntry = 7).
//
// Why this is exact: the reference's cost is the scale search, 16 trial scales per block of 32,
// each mapping 32 elements to their nearest level and summing w*q*x and w*q*q element by
// element. Here the searches of 8 blocks run side by side, one block per lane (IQ4_XS: the 8
// blocks of a super-block; IQ4_NL: 8 consecutive blocks), each lane doing the reference's float
// operations in its order, branches as lane masks. The nearest level is computed without the
// binary search but to the same answer: lo = how many of levels 1..15 are <= x, then the
// reference's tie rule (x - v[lo] < v[lo+1] - x ? lo : lo + 1), 15 at or above the top level
// and for NaN (where the reference's search runs to the top). Re-choosing the codes for the
// final scale is per element, so it runs 8 elements at a time. Built with -mavx2, no FMA,
// -ffp-contract=off (sqrt, div, mul, add are the IEEE operations the scalar code does);
// tests/test_quant_vectors.c compares the bytes with the reference and with ggml's vectors.
//
// Versions: v1 (this): the block searches and the final code choice vectorised; sigma2, the
// 6-bit block scales and the packing stay scalar.
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_k_internal.h"
#include "quant/format/quant_ref.h"

enum { BS = 32, NTRY = 7 };

struct levels {
    __m256 lo8, hi8;  // the 16 levels as floats, in two halves for permutevar
};

static inline struct levels load_levels(void) {
    float v[16];
    for (int i = 0; i < 16; i++)
        v[i] = kiln_iq4_values[i];
    return (struct levels){ _mm256_loadu_ps(v), _mm256_loadu_ps(v + 8) };
}

static inline __m256 level_of(const struct levels *t, __m256i idx) {
    const __m256 a = _mm256_permutevar8x32_ps(t->lo8, idx), b = _mm256_permutevar8x32_ps(t->hi8, idx);
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(7))));
}

// ggml's best_index_int8 on 8 lanes (see the opening comment).
static inline __m256i nearest_level8(const struct levels *t, __m256 x) {
    __m256i cnt = _mm256_setzero_si256();
    for (int k = 1; k < 16; k++)
        cnt = _mm256_sub_epi32(cnt, _mm256_castps_si256(_mm256_cmp_ps(_mm256_set1_ps((float)kiln_iq4_values[k]), x,
                                                                      _CMP_LE_OQ)));
    const __m256i fifteen = _mm256_set1_epi32(15);
    const __m256i hi = _mm256_min_epi32(_mm256_add_epi32(cnt, _mm256_set1_epi32(1)), fifteen);
    const __m256 below = _mm256_cmp_ps(_mm256_sub_ps(x, level_of(t, cnt)), _mm256_sub_ps(level_of(t, hi), x),
                                       _CMP_LT_OQ);
    __m256i r = _mm256_blendv_epi8(hi, cnt, _mm256_castps_si256(below));
    const __m256 top = _mm256_or_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(cnt, fifteen)),
                                    _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    return _mm256_blendv_epi8(r, fifteen, _mm256_castps_si256(top));
}

// The scale search of 8 blocks: xt[j], wt[j] = element j / its weight of each lane's block.
// Returns each block's scale (0 where its amax is below the epsilon).
static __m256 search8(const struct levels *t, const __m256 *xt, const __m256 *wt) {
    const __m256 sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps();
    __m256 amax = zero, max = zero;
    for (int j = 0; j < BS; j++) {  // the first element of the largest |x|
        const __m256 ax = _mm256_andnot_ps(sign, xt[j]);
        const __m256 gt = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);
        amax = _mm256_blendv_ps(amax, ax, gt);
        max = _mm256_blendv_ps(max, xt[j], gt);
    }
    const __m256 tiny = _mm256_cmp_ps(amax, _mm256_set1_ps(KILN_GROUP_MAX_EPS), _CMP_LT_OQ);
    const __m256 v0 = _mm256_set1_ps((float)kiln_iq4_values[0]);
    __m256 d = _mm256_div_ps(_mm256_xor_ps(max, sign), v0);  // -max / values[0]
    __m256 id = _mm256_div_ps(_mm256_set1_ps(1.0f), d);
    __m256 sumqx = zero, sumq2 = zero;
    for (int j = 0; j < BS; j++) {
        const __m256 q = level_of(t, nearest_level8(t, _mm256_mul_ps(id, xt[j])));
        const __m256 wq = _mm256_mul_ps(wt[j], q);
        sumqx = _mm256_add_ps(sumqx, _mm256_mul_ps(wq, xt[j]));
        sumq2 = _mm256_add_ps(sumq2, _mm256_mul_ps(wq, q));
    }
    d = _mm256_and_ps(_mm256_div_ps(sumqx, sumq2), _mm256_cmp_ps(sumq2, zero, _CMP_GT_OQ));
    __m256 best = _mm256_mul_ps(d, sumqx);
    for (int itry = -NTRY; itry <= NTRY; ++itry) {
        id = _mm256_div_ps(_mm256_set1_ps((float)(itry + kiln_iq4_values[0])), max);
        sumqx = sumq2 = zero;
        for (int j = 0; j < BS; j++) {
            const __m256 q = level_of(t, nearest_level8(t, _mm256_mul_ps(id, xt[j])));
            const __m256 wq = _mm256_mul_ps(wt[j], q);
            sumqx = _mm256_add_ps(sumqx, _mm256_mul_ps(wq, xt[j]));
            sumq2 = _mm256_add_ps(sumq2, _mm256_mul_ps(wq, q));
        }
        const __m256 take = _mm256_and_ps(_mm256_cmp_ps(sumq2, zero, _CMP_GT_OQ),
                                          _mm256_cmp_ps(_mm256_mul_ps(sumqx, sumqx), _mm256_mul_ps(best, sumq2),
                                                        _CMP_GT_OQ));
        d = _mm256_blendv_ps(d, _mm256_div_ps(sumqx, sumq2), take);
        best = _mm256_blendv_ps(best, _mm256_mul_ps(d, sumqx), take);
    }
    return _mm256_andnot_ps(tiny, d);
}

// Element j of the 8 blocks at x (stride 32), and their weights (x^2, or qw * sqrt(sigma2 + x^2)
// with the lane's sigma2).
static void load_blocks(const float *x, const float *qw, __m256 sigma2, __m256 *xt, __m256 *wt) {
    const __m256i idx = _mm256_setr_epi32(0, 32, 64, 96, 128, 160, 192, 224);
    for (int j = 0; j < BS; j++) {
        xt[j] = _mm256_i32gather_ps(x + j, idx, 4);
        const __m256 x2 = _mm256_mul_ps(xt[j], xt[j]);
        wt[j] = qw ? _mm256_mul_ps(_mm256_i32gather_ps(qw + j, idx, 4), _mm256_sqrt_ps(_mm256_add_ps(sigma2, x2))) : x2;
    }
}

// Codes of one block of 32 for the inverse scale `id`, packed as the reference packs them.
static void codes32(const struct levels *t, const float *x, float id, uint8_t *q4) {
    const __m256 vid = _mm256_set1_ps(id);
    int32_t L[BS];
    for (int j = 0; j < BS; j += 8)
        _mm256_storeu_si256((__m256i *)(L + j), nearest_level8(t, _mm256_mul_ps(vid, _mm256_loadu_ps(x + j))));
    for (int j = 0; j < 16; ++j)
        q4[j] = (uint8_t)(L[j] | (L[16 + j] << 4));
}

static float sigma2_of(const float *x, int n) {
    float s = 0;
    for (int j = 0; j < n; ++j)
        s += x[j] * x[j];
    return s * (2.f / n);
}

void kiln_quantize_iq4_xs_avx2(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_iq4_xs *y = out;
    const struct levels t = load_levels();
    __m256 xt[BS], wt[BS];
    for (int64_t i = 0; i < n / KILN_QK_K; i++, x += KILN_QK_K) {
        const float *q = qw ? qw + i * KILN_QK_K : NULL;
        load_blocks(x, q, _mm256_set1_ps(q ? sigma2_of(x, KILN_QK_K) : 0.f), xt, wt);
        float scales[8];
        _mm256_storeu_ps(scales, search8(&t, xt, wt));
        float max_scale = 0, amax_scale = 0;
        for (int ib = 0; ib < 8; ++ib) {
            const float abs_d = fabsf(scales[ib]);
            if (abs_d > amax_scale) {
                amax_scale = abs_d;
                max_scale = scales[ib];
            }
        }
        y[i].scales_h = 0;
        const float d = -max_scale / 32;
        y[i].d = kiln_f32_to_f16(d);
        const float id = d ? 1 / d : 0.f;
        for (int ib = 0; ib < 8; ++ib) {
            int l = kiln_nearest_int(id * scales[ib]);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            const float dl = d * l;
            codes32(&t, x + ib * BS, dl ? 1 / dl : 0.f, y[i].qs + 16 * ib);
            l += 32;
            const uint8_t l_l = (uint8_t)(l & 0xf), l_h = (uint8_t)(l >> 4);
            if (ib % 2 == 0)
                y[i].scales_l[ib / 2] = l_l;
            else
                y[i].scales_l[ib / 2] |= (uint8_t)(l_l << 4);
            y[i].scales_h |= (uint16_t)(l_h << 2 * (ib % 8));
        }
    }
}

void kiln_quantize_iq4_nl_avx2(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_iq4_nl *y = out;
    const struct levels t = load_levels();
    const int64_t nb = n / KILN_QK4_NL, groups = nb / 8;
    __m256 xt[BS], wt[BS];
    for (int64_t g = 0; g < groups; g++) {
        const float *xg = x + g * 8 * BS, *q = qw ? qw + g * 8 * BS : NULL;
        float s2[8] = { 0 };
        for (int b = 0; q && b < 8; b++)
            s2[b] = sigma2_of(xg + b * BS, BS);
        load_blocks(xg, q, _mm256_loadu_ps(s2), xt, wt);
        float scales[8];
        _mm256_storeu_ps(scales, search8(&t, xt, wt));
        for (int b = 0; b < 8; b++) {
            struct kiln_block_iq4_nl *yb = &y[g * 8 + b];
            yb->d = kiln_f32_to_f16(scales[b]);
            codes32(&t, xg + b * BS, scales[b] ? 1 / scales[b] : 0, yb->qs);
        }
    }
    if (nb > groups * 8)  // the last blocks, fewer than a lane group: the reference
        kiln_quantize_iq4_nl_weighted(x + groups * 8 * BS, y + groups * 8, (nb - groups * 8) * BS,
                                      qw ? qw + groups * 8 * BS : NULL);
}

void kiln_quantize_iq4_xs_avx2_plain(const float *x, void *out, int64_t n) {
    kiln_quantize_iq4_xs_avx2(x, out, n, NULL);
}
void kiln_quantize_iq4_nl_avx2_plain(const float *x, void *out, int64_t n) {
    kiln_quantize_iq4_nl_avx2(x, out, n, NULL);
}
