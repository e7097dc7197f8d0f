// Small AVX2 helpers shared by the x86 kernel files (each compiled with -mavx2 -mfma -mf16c).
// Plain static inline functions, no macro vector layer.
#pragma once

#include <immintrin.h>
#include <stdint.h>

// Sum of the 8 lanes.
// The sum of 8 int32 lanes (exact, wrapping as the adds do).
static inline int32_t kiln_hsum256_epi32(__m256i v) {
    __m128i q = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(1, 0, 3, 2)));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(q);
}

static inline float kiln_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Max of the 8 lanes.
static inline float kiln_hmax256(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Dot product of two vectors of 32 int8 as 8 float partial sums. maddubs wants an unsigned
// first operand, so x's sign moves onto y (|x| * sign(x)y); no int16 saturation is possible
// for |x| <= 128, |y| <= 127.
static inline __m256 kiln_dot_i8x32(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x);
    const __m256i sy = _mm256_sign_epi8(y, x);
    const __m256i pairs = _mm256_maddubs_epi16(ax, sy);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

// The 32 codes of a Q4_0 block as int8 in [-8, 7], element order (low nibbles are elements
// 0..15, high nibbles 16..31).
static inline __m256i kiln_unpack_q4_0(const uint8_t *qs) {
    const __m128i packed = _mm_loadu_si128((const __m128i *)qs);
    const __m256i nibbles = _mm256_and_si256(
        _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
    return _mm256_sub_epi8(nibbles, _mm256_set1_epi8(8));
}

// One half -> float with F16C, inline. (quant/format/fp16.h's kiln_f16_to_f32 gives the same value, NaN
// payloads included, but is a call: in a kernel's inner loop the call forced every live ymm
// register to the stack and a vzeroupper, which made the q4_K GEMV 1.6x slower than ggml's.)
static inline float kiln_f16_scalar(uint16_t h) { return _cvtsh_ss(h); }

// 8 halves -> 8 floats.
static inline __m256 kiln_load_f16x8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

// e^x for 8 floats (Cephes' expf scheme): x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6
// polynomial, 2^n through the exponent bits. Relative error ~2e-7 on [-87, 88]; inputs below
// -87.3 give 0 (so exp(-inf) = 0, as online softmax needs), above 88.3 give +inf.
static inline __m256 kiln_exp256(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3f), hi = _mm256_set1_ps(88.3f);
    const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}
