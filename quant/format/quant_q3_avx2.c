// Q3_K quantization with AVX2, byte-identical to kiln_quantize_q3_K_ref (quant_ref_k.c).
//
// Why this is exact: the reference quantizes each of a super-block's 16 sub-blocks of 16 on its
// own (make_q3_quants, nmax 4: a first rounding, then up to 5 passes that move one code at a
// time while the weighted fit improves, stopping after a pass that changed nothing). Here 8
// sub-blocks run side by side, one per lane, each lane doing the reference's float operations
// in its order (the passes go element by element within a lane, as the reference). Lanes that
// converged keep running passes until all have: a pass that changes nothing leaves the state
// as it was, so the next one changes nothing either. The requantization (x / d per element)
// runs 8 elements at a time. Built with -mavx2, no FMA, -ffp-contract=off;
// tests/test_quant_vectors.c compares the bytes with the reference's.
//
// Versions: v1 the sub-block quantization and the requantization vectorised; the 6-bit scales,
// hmask and packing stay scalar. v2 (this): the super-block's two halves of 8 sub-blocks run
// interleaved (make_q3_x16), hiding the passes' divide-and-add latency (2.49 -> 2.31 s for a
// bench-2l Q3_K_S, one thread); the hmask built with byte compares instead of a branch per code.
#include <immintrin.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_avx2_lanes.h"
#include "quant/format/quant_k_internal.h"

enum { N = 16, NMAX = 4 };

// make_q3_quants(16, 4, x + 16 * lane, L + 16 * lane) for the 16 sub-blocks of a super-block, as
// two halves of 8 lanes (H = 2) whose steps are interleaved: within a lane each pass is one long
// dependency chain (sums updated element by element, a divide per element), so one half alone
// left the core waiting on latency; two independent halves side by side fill it. scale[16],
// codes (l + 4; 0 for a sub-block below the epsilon, as the reference's early return).
enum { H = 2 };
static void make_q3_x16(const float *x, float *scale_out, int8_t *Lout) {
    const __m256i idx = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
    const __m256 sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps();
    __m256 xt[H][N], w[H][N], wx[H][N];
    __m256 amax[H], max[H], tiny[H], sumlx[H], suml2[H];
    __m256i L[H][N];
    for (int h = 0; h < H; h++) {
        amax[h] = max[h] = zero;
        for (int i = 0; i < N; i++) {
            xt[h][i] = _mm256_i32gather_ps(x + 128 * h + i, idx, 4);
            const __m256 ax = _mm256_andnot_ps(sign, xt[h][i]);
            const __m256 gt = _mm256_cmp_ps(ax, amax[h], _CMP_GT_OQ);  // the first element of the largest |x|
            amax[h] = _mm256_blendv_ps(amax[h], ax, gt);
            max[h] = _mm256_blendv_ps(max[h], xt[h][i], gt);
            w[h][i] = _mm256_mul_ps(xt[h][i], xt[h][i]);
            wx[h][i] = _mm256_mul_ps(w[h][i], xt[h][i]);
        }
        tiny[h] = _mm256_cmp_ps(amax[h], _mm256_set1_ps(KILN_GROUP_MAX_EPS), _CMP_LT_OQ);
        const __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)-NMAX), max[h]);
        sumlx[h] = suml2[h] = zero;
        for (int i = 0; i < N; i++) {
            L[h][i] = clamp8(nearest_int8(_mm256_mul_ps(iscale, xt[h][i])), -NMAX, NMAX - 1);
            const __m256 l = _mm256_cvtepi32_ps(L[h][i]);
            sumlx[h] = _mm256_add_ps(sumlx[h], _mm256_mul_ps(wx[h][i], l));
            suml2[h] = _mm256_add_ps(suml2[h], _mm256_mul_ps(_mm256_mul_ps(w[h][i], l), l));
        }
    }
    // A half whose lanes all converged stops; a pass over converged lanes would change nothing.
    bool active[H] = { true, true };
    for (int itry = 0; itry < 5 && (active[0] || active[1]); ++itry) {
        __m256 changed[H] = { zero, zero };
        for (int i = 0; i < N; i++) {
            #pragma GCC unroll 2
            for (int h = 0; h < H; h++) {
                if (!active[h])
                    continue;
                const __m256 l = _mm256_cvtepi32_ps(L[h][i]);
                __m256 slx = _mm256_sub_ps(sumlx[h], _mm256_mul_ps(wx[h][i], l));
                const __m256 c1 = _mm256_cmp_ps(slx, zero, _CMP_GT_OQ);
                __m256 sl2 = _mm256_sub_ps(suml2[h], _mm256_mul_ps(_mm256_mul_ps(w[h][i], l), l));
                const __m256i new_l =
                    clamp8(nearest_int8(_mm256_div_ps(_mm256_mul_ps(xt[h][i], sl2), slx)), -NMAX, NMAX - 1);
                const __m256 c2 = _mm256_andnot_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(new_l, L[h][i])), c1);
                const __m256 nl = _mm256_cvtepi32_ps(new_l);
                slx = _mm256_add_ps(slx, _mm256_mul_ps(wx[h][i], nl));
                sl2 = _mm256_add_ps(sl2, _mm256_mul_ps(_mm256_mul_ps(w[h][i], nl), nl));
                const __m256 better = _mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(slx, slx), suml2[h]),
                                                    _mm256_mul_ps(_mm256_mul_ps(sumlx[h], sumlx[h]), sl2), _CMP_GT_OQ);
                const __m256 take = _mm256_and_ps(c2, _mm256_and_ps(_mm256_cmp_ps(sl2, zero, _CMP_GT_OQ), better));
                L[h][i] = _mm256_blendv_epi8(L[h][i], new_l, _mm256_castps_si256(take));
                sumlx[h] = _mm256_blendv_ps(sumlx[h], slx, take);
                suml2[h] = _mm256_blendv_ps(suml2[h], sl2, take);
                changed[h] = _mm256_or_ps(changed[h], take);
            }
        }
        for (int h = 0; h < H; h++)
            active[h] = active[h] && _mm256_movemask_ps(_mm256_andnot_ps(tiny[h], changed[h]));
    }
    for (int h = 0; h < H; h++) {
        _mm256_storeu_ps(scale_out + 8 * h, _mm256_andnot_ps(tiny[h], _mm256_div_ps(sumlx[h], suml2[h])));
        const __m256i tinyi = _mm256_castps_si256(tiny[h]), bias = _mm256_set1_epi32(NMAX);
        for (int i = 0; i < N; i++) {
            int32_t v[8];
            _mm256_storeu_si256((__m256i *)v, _mm256_andnot_si256(tinyi, _mm256_add_epi32(L[h][i], bias)));
            for (int lane = 0; lane < 8; lane++)
                Lout[128 * h + 16 * lane + i] = (int8_t)v[lane];
        }
    }
}

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void kiln_quantize_q3_K_avx2(const float *x, void *out, int64_t k) {
    struct kiln_block_q3_K *y = out;
    int8_t L[KILN_QK_K];
    float scales[KILN_QK_K / 16];
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        make_q3_x16(x, scales, L);
        float max_scale = 0, amax = 0;
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            const float scale = fabsf(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }
        memset(y[i].scales, 0, 12);
        if (max_scale) {
            const float iscale = -32.f / max_scale;
            for (int j = 0; j < KILN_QK_K / 16; ++j) {
                int8_t l = (int8_t)(uint8_t)kiln_nearest_int(iscale * scales[j]);
                l = (int8_t)(clampi(l, -32, 31) + 32);
                if (j < 8)
                    y[i].scales[j] = (uint8_t)(l & 0xF);
                else
                    y[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                l >>= 4;
                y[i].scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
            }
            y[i].d = kiln_f32_to_f16(1 / iscale);
        } else {
            y[i].d = kiln_f32_to_f16(0.f);
        }
        const float dd = kiln_f16_to_f32(y[i].d);
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            int8_t sc = (int8_t)(j < 8 ? y[i].scales[j] & 0xF : y[i].scales[j - 8] >> 4);
            sc = (int8_t)((sc | (((y[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
            const float d = dd * sc;
            if (!d)
                continue;  // the sub-block keeps its codes, as the reference
            const __m256 vd = _mm256_set1_ps(d);
            for (int h = 0; h < 16; h += 8) {
                const __m256i q = clamp8(nearest_int8(_mm256_div_ps(_mm256_loadu_ps(x + 16 * j + h), vd)), -4, 3);
                int32_t v[8];
                _mm256_storeu_si256((__m256i *)v, _mm256_add_epi32(q, _mm256_set1_epi32(4)));
                for (int e = 0; e < 8; e++)
                    L[16 * j + h + e] = (int8_t)v[e];
            }
        }
        // hmask bit b of byte m: code 32 b + m is above 3 (the reference's loop, whose branch on
        // each code mispredicted about half the time: the most expensive part of this function);
        // then the code drops its high bit (L - 4 for L in 4..7 is L & 3).
        __m256i hm = _mm256_setzero_si256();
        for (int b = 0; b < 8; b++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(L + 32 * b));
            const __m256i high = _mm256_cmpgt_epi8(v, _mm256_set1_epi8(3));
            hm = _mm256_or_si256(hm, _mm256_and_si256(high, _mm256_set1_epi8((char)(1 << b))));
            _mm256_storeu_si256((__m256i *)(L + 32 * b), _mm256_and_si256(v, _mm256_set1_epi8(3)));
        }
        _mm256_storeu_si256((__m256i *)y[i].hmask, hm);
        kiln_pack_2bit((const uint8_t *)L, y[i].qs);
    }
}
