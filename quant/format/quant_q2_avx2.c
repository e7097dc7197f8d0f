// Q2_K quantization with AVX2, byte-identical to kiln_quantize_q2_K_ref (quant_ref_k.c).
//
// Why this is exact: the reference searches each of a super-block's 16 sub-blocks of 16 on its
// own (make_qkx2_quants with nmax 3, weights |x|, mean absolute error, 16 trial scales; spec
// §6.15). Here 8 searches run side by side, one sub-block per lane, in kiln_make_qkx_x8_avx2
// (quant_weighted_avx2.c, which says why each lane gives the reference's bits). The final requantization ((x + dm) / d per element) runs 8 elements
// at a time. Built with -mavx2, no FMA, -ffp-contract=off; tests/test_quant_vectors.c compares
// the bytes with the reference's on ordinary and hostile data.
//
// Versions: v1: the sub-block search and the requantization vectorised; the 4-bit scale/min
// quantization and the packing stay scalar. v2 (this): the search is the shared
// kiln_make_qkx_x8_avx2 (it was a copy of it).
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_avx2_lanes.h"
#include "quant/format/quant_k_internal.h"

enum { NMAX = 3, NSTEP = 15 };

static inline __m256 absps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

void kiln_quantize_q2_K_avx2(const float *x, void *out, int64_t k) {
    struct kiln_block_q2_K *y = out;
    uint8_t L[KILN_QK_K];
    float mins[KILN_QK_K / 16], scales[KILN_QK_K / 16];
    const float q4scale = 15.f;
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        float w[KILN_QK_K];  // make_qkx2_quants(16, 3, x, |x|, ..., -0.5, 0.1, 15, use_mad = 1)
        for (int j = 0; j < KILN_QK_K; j += 8)
            _mm256_storeu_ps(w + j, absps(_mm256_loadu_ps(x + j)));
        kiln_make_qkx_x8_avx2(x, w, 16, NMAX, -0.5f, 0.1f, NSTEP, true, scales, mins, L);
        kiln_make_qkx_x8_avx2(x + 128, w + 128, 16, NMAX, -0.5f, 0.1f, NSTEP, true, scales + 8, mins + 8, L + 128);
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
