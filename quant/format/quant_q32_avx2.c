// Q8_0 and Q4_0 quantization with AVX2, byte-identical to quant_ref_q32.c.
//
// Why this is exact: per block of 32 the reference finds amax (and, for Q4_0, the signed value
// of the first element reaching it), computes d and id in scalar floats, then each code from
// x * id (+ 8.5 for Q4_0). Here amax is a max over lanes that skips NaN as the reference's
// `amax < |x|` does (max_ps returns its second operand when the first is NaN), the first
// element reaching it is found by a compare mask, d and id stay scalar, and the codes take the
// same IEEE multiply/add; roundf (half away from zero) is t = trunc(v), plus sign(v) when
// |v - t| >= 0.5, which is exact (v - t is exact below 2^23, and v is whole above);
// cvttps gives the reference's trunc_to_i32 (INT32_MIN for NaN and out of range) and the code
// is its low byte, as the reference's cast. Built with -mavx2, no FMA, -ffp-contract=off;
// tests/test_quant_vectors.c compares the bytes on ordinary and hostile data.
//
// Versions: v1 (this): Q8_0 and Q4_0.
#include <immintrin.h>
#include <math.h>

#include "quant/format/blocks.h"
#include "quant/format/fp16.h"
#include "quant/format/quant_k_internal.h"

static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

// amax over 32 floats, NaN skipped (the reference's `amax < fabsf(v)` never takes a NaN).
static inline float absmax32(const __m256 *v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++)
        acc = _mm256_max_ps(_mm256_andnot_ps(sign, v[i]), acc);
    return hmax8(acc);
}

// 16 int32 lanes holding 0..255 -> 16 bytes.
static inline void store_bytes16(uint8_t *dst, __m256i a, __m256i b) {
    const __m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
    _mm_storeu_si128((__m128i *)dst, _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1)));
}

static inline __m256 round_away(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));
    const __m256 step = _mm256_or_ps(_mm256_and_ps(v, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(1.0f));
    return _mm256_add_ps(t, _mm256_and_ps(step, _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ)));
}

void kiln_quantize_q8_0_avx2(const float *x, void *out, int64_t n) {
    struct kiln_block_q8_0 *y = out;
    const __m256i lowbyte = _mm256_set1_epi32(0xFF);
    for (int64_t b = 0; b < n / KILN_QK8_0; b++, x += KILN_QK8_0) {
        __m256 v[4];
        for (int i = 0; i < 4; i++)
            v[i] = _mm256_loadu_ps(x + 8 * i);
        const float amax = absmax32(v);
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int i = 0; i < 4; i++)
            q[i] = _mm256_and_si256(_mm256_cvttps_epi32(round_away(_mm256_mul_ps(v[i], vid))), lowbyte);
        store_bytes16((uint8_t *)y[b].qs, q[0], q[1]);
        store_bytes16((uint8_t *)y[b].qs + 16, q[2], q[3]);
    }
}

void kiln_quantize_q4_0_avx2(const float *x, void *out, int64_t n) {
    struct kiln_block_q4_0 *y = out;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / KILN_QK4_0; b++, x += KILN_QK4_0) {
        __m256 v[4];
        for (int i = 0; i < 4; i++)
            v[i] = _mm256_loadu_ps(x + 8 * i);
        const float amax = absmax32(v);
        float max = 0.0f;  // the first element whose |x| is amax (0 when amax is 0, as the reference)
        if (amax > 0) {
            const __m256 va = _mm256_set1_ps(amax);
            uint32_t mask = 0;
            for (int i = 0; i < 4; i++)
                mask |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, v[i]), va, _CMP_EQ_OQ))
                        << (8 * i);
            max = x[__builtin_ctz(mask)];
        }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        const __m256 vid = _mm256_set1_ps(id), half = _mm256_set1_ps(8.5f);
        __m256i q[4];
        for (int i = 0; i < 4; i++) {
            // (uint8_t)min_int(15, (int8_t)low byte of trunc(x * id + 8.5)), kept as 0..255
            const __m256i t = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(v[i], vid), half));
            const __m256i s8 = _mm256_srai_epi32(_mm256_slli_epi32(t, 24), 24);
            q[i] = _mm256_and_si256(_mm256_min_epi32(s8, _mm256_set1_epi32(15)), _mm256_set1_epi32(0xFF));
        }
        // byte j = q[j] | q[j + 16] << 4 (in 8 bits)
        const __m256i lo8 = _mm256_set1_epi32(0xFF);
        const __m256i b0 = _mm256_or_si256(q[0], _mm256_and_si256(_mm256_slli_epi32(q[2], 4), lo8));
        const __m256i b1 = _mm256_or_si256(q[1], _mm256_and_si256(_mm256_slli_epi32(q[3], 4), lo8));
        store_bytes16(y[b].qs, b0, b1);
    }
}
