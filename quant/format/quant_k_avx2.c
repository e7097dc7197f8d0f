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

static inline __m256 absps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// The sub-block searches of one Q4_K/Q5_K super-block: scales[8], mins[8], L[256].
static void search_x8(const float *x, int nmax, float rmin, int nstep, float *scales, float *mins, uint8_t *L) {
    __m256 xt[32];
    const __m256i idx = _mm256_setr_epi32(0, 32, 64, 96, 128, 160, 192, 224);
    for (int i = 0; i < 32; ++i)
        xt[i] = _mm256_i32gather_ps(x + i, idx, 4);
    __m256 sum_x2 = _mm256_setzero_ps();
    for (int i = 0; i < 32; ++i)
        sum_x2 = _mm256_add_ps(sum_x2, _mm256_mul_ps(xt[i], xt[i]));
    const __m256 av_x = _mm256_sqrt_ps(_mm256_div_ps(sum_x2, _mm256_set1_ps(32.0f)));
    float w[KILN_QK_K];  // weights av_x + |x|, laid out as x
    for (int i = 0; i < 32; ++i) {
        float lanes[8];
        _mm256_storeu_ps(lanes, _mm256_add_ps(av_x, absps(xt[i])));
        for (int j = 0; j < 8; ++j)
            w[32 * j + i] = lanes[j];
    }
    kiln_make_qkx_x8_avx2(x, w, 32, nmax, rmin, 0.1f, nstep, false, scales, mins, L);
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
