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
// Q4_1/Q5_1's min and max are lane minima/maxima (min_ps(x, m) is the reference's
// `x < m ? x : m`); where one is zero its sign is that of the first element equal to it, as the
// reference's strict compares keep (the f16 of -0 and +0 differ).
//
// Versions: v1: Q8_0 and Q4_0. v2 (this): Q4_1, Q5_0, Q5_1.
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <string.h>

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

static inline float hmin8(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

// The first element of x[0..32) equal to v (v == 0: which zero, -0 or +0, the reference keeps).
static inline float first_equal(const float *x, const __m256 *v4, float v) {
    const __m256 vv = _mm256_set1_ps(v);
    uint32_t mask = 0;
    for (int i = 0; i < 4; i++)
        mask |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v4[i], vv, _CMP_EQ_OQ)) << (8 * i);
    return mask ? x[__builtin_ctz(mask)] : v;
}

// block_minmax: min from FLT_MAX, max from -FLT_MAX, NaN never taken.
static inline void minmax32(const float *x, const __m256 *v, float *min_out, float *max_out) {
    __m256 mn = _mm256_set1_ps(FLT_MAX), mx = _mm256_set1_ps(-FLT_MAX);
    for (int i = 0; i < 4; i++) {
        mn = _mm256_min_ps(v[i], mn);
        mx = _mm256_max_ps(v[i], mx);
    }
    float min = hmin8(mn), max = hmax8(mx);
    if (min == 0)
        min = first_equal(x, v, 0.0f);
    if (max == 0)
        max = first_equal(x, v, 0.0f);
    *min_out = min;
    *max_out = max;
}

// (uint8_t)min_int(cap, (int8_t)low byte of trunc(v)), kept as 0..255 in int32 lanes.
static inline __m256i code_capped(__m256 v, int cap) {
    const __m256i s8 = _mm256_srai_epi32(_mm256_slli_epi32(_mm256_cvttps_epi32(v), 24), 24);
    return _mm256_and_si256(_mm256_min_epi32(s8, _mm256_set1_epi32(cap)), _mm256_set1_epi32(0xFF));
}

// qs (low nibbles, j | j + 16 << 4) and qh (bit 4 of each code: bit j) of a 5-bit block.
static inline void pack5(const __m256i *q, uint8_t *qs, uint8_t *qh_out) {
    const __m256i nib = _mm256_set1_epi32(0x0F);
    const __m256i b0 = _mm256_or_si256(_mm256_and_si256(q[0], nib), _mm256_slli_epi32(_mm256_and_si256(q[2], nib), 4));
    const __m256i b1 = _mm256_or_si256(_mm256_and_si256(q[1], nib), _mm256_slli_epi32(_mm256_and_si256(q[3], nib), 4));
    store_bytes16(qs, b0, b1);
    uint32_t qh = 0;
    for (int i = 0; i < 4; i++)
        qh |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(q[i], 27))) << (8 * i);
    for (int i = 0; i < 4; i++)
        qh_out[i] = (uint8_t)(qh >> (8 * i));
}

void kiln_quantize_q4_1_avx2(const float *x, void *out, int64_t n) {
    struct kiln_block_q4_1 *y = out;
    for (int64_t b = 0; b < n / KILN_QK4_1; b++, x += KILN_QK4_1) {
        __m256 v[4];
        for (int i = 0; i < 4; i++)
            v[i] = _mm256_loadu_ps(x + 8 * i);
        float min, max;
        minmax32(x, v, &min, &max);
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        y[b].m = kiln_f32_to_f16(min);
        const __m256 vid = _mm256_set1_ps(id), vmin = _mm256_set1_ps(min), half = _mm256_set1_ps(0.5f);
        __m256i q[4];
        for (int i = 0; i < 4; i++)
            q[i] = code_capped(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(v[i], vmin), vid), half), 15);
        const __m256i lo8 = _mm256_set1_epi32(0xFF);
        store_bytes16(y[b].qs, _mm256_or_si256(q[0], _mm256_and_si256(_mm256_slli_epi32(q[2], 4), lo8)),
                      _mm256_or_si256(q[1], _mm256_and_si256(_mm256_slli_epi32(q[3], 4), lo8)));
    }
}

void kiln_quantize_q5_0_avx2(const float *x, void *out, int64_t n) {
    struct kiln_block_q5_0 *y = out;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / KILN_QK5_0; b++, x += KILN_QK5_0) {
        __m256 v[4];
        for (int i = 0; i < 4; i++)
            v[i] = _mm256_loadu_ps(x + 8 * i);
        const float amax = absmax32(v);
        float max = 0.0f;
        if (amax > 0) {
            const __m256 va = _mm256_set1_ps(amax);
            uint32_t mask = 0;
            for (int i = 0; i < 4; i++)
                mask |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, v[i]), va, _CMP_EQ_OQ))
                        << (8 * i);
            max = x[__builtin_ctz(mask)];
        }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        const __m256 vid = _mm256_set1_ps(id), off = _mm256_set1_ps(16.5f);
        __m256i q[4];
        for (int i = 0; i < 4; i++)
            q[i] = code_capped(_mm256_add_ps(_mm256_mul_ps(v[i], vid), off), 31);
        pack5(q, y[b].qs, y[b].qh);
    }
}

void kiln_quantize_q5_1_avx2(const float *x, void *out, int64_t n) {
    struct kiln_block_q5_1 *y = out;
    for (int64_t b = 0; b < n / KILN_QK5_1; b++, x += KILN_QK5_1) {
        __m256 v[4];
        for (int i = 0; i < 4; i++)
            v[i] = _mm256_loadu_ps(x + 8 * i);
        float min, max;
        minmax32(x, v, &min, &max);
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        y[b].m = kiln_f32_to_f16(min);
        const __m256 vid = _mm256_set1_ps(id), vmin = _mm256_set1_ps(min), half = _mm256_set1_ps(0.5f);
        __m256i q[4];
        for (int i = 0; i < 4; i++)  // cast_u8: the low byte of trunc, no clamp (as ggml)
            q[i] = _mm256_and_si256(_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(v[i], vmin), vid),
                                                                      half)),
                                    _mm256_set1_epi32(0xFF));
        pack5(q, y[b].qs, y[b].qh);
    }
}
