// Helpers shared by the AVX-512 kernel files (compiled with -mavx512f -mavx512bw -mavx512vl
// -mavx512vnni on top of the AVX2 set; KILN_AVX512_SOURCES in CMakeLists.txt).
//
// KILN_SIMDE_AVX512 (a -DKILN_AVX512_EMULATE=ON test build): the same files are compiled with
// only the AVX2 flags against SIMDe's implementations of the AVX-512 intrinsics (Debian's
// libsimde-dev), so `kiln ops` checks their arithmetic on CPUs without AVX-512
// (cpu_features.c: KILN_CPU_EMULATE_AVX512=1). SIMDe 0.7.4 lacks a few intrinsics; the helpers
// below are written with ones it has, or with a shim under KILN_SIMDE_AVX512.
#pragma once

#include <immintrin.h>
#include <stdint.h>

#if defined(KILN_SIMDE_AVX512)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

// Intrinsics SIMDe 0.7.4 lacks, for the emulation build only: each is the instruction's
// documented semantics on the two 256-bit halves (Intel's intrinsics guide), with AVX2/F16C.
static inline __m512i kiln_simde_join_si512(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
static inline __m512 kiln_simde_cvtepi32_ps(__m512i a) {
    return _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castps_pd(_mm512_castps256_ps512(_mm256_cvtepi32_ps(_mm512_castsi512_si256(a)))),
        _mm256_castps_pd(_mm256_cvtepi32_ps(_mm512_extracti64x4_epi64(a, 1))), 1));
}
static inline __m512i kiln_simde_cvtps_epi32(__m512 a) {
    return kiln_simde_join_si512(
        _mm256_cvtps_epi32(_mm512_castps512_ps256(a)),
        _mm256_cvtps_epi32(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1))));
}
static inline __m512i kiln_simde_cvtepi8_epi32(__m128i a) {
    return kiln_simde_join_si512(_mm256_cvtepi8_epi32(a), _mm256_cvtepi8_epi32(_mm_srli_si128(a, 8)));
}
static inline __m512i kiln_simde_cvtepu8_epi32(__m128i a) {
    return kiln_simde_join_si512(_mm256_cvtepu8_epi32(a), _mm256_cvtepu8_epi32(_mm_srli_si128(a, 8)));
}
static inline __m512i kiln_simde_cvtepu16_epi32(__m256i a) {
    return kiln_simde_join_si512(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(a)),
                                 _mm256_cvtepu16_epi32(_mm256_extracti128_si256(a, 1)));
}
static inline __m512i kiln_simde_cvtepi16_epi32(__m256i a) {
    return kiln_simde_join_si512(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(a)),
                                 _mm256_cvtepi16_epi32(_mm256_extracti128_si256(a, 1)));
}
static inline __m512i kiln_simde_cvtepu8_epi16(__m256i a) {
    return kiln_simde_join_si512(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(a)),
                                 _mm256_cvtepu8_epi16(_mm256_extracti128_si256(a, 1)));
}
static inline __m512 kiln_simde_cvtph_ps(__m256i a) {
    return _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castps_pd(_mm512_castps256_ps512(_mm256_cvtph_ps(_mm256_castsi256_si128(a)))),
        _mm256_castps_pd(_mm256_cvtph_ps(_mm256_extracti128_si256(a, 1))), 1));
}
#define kiln_simde_cvtps_ph(a, imm)                                                                \
    _mm256_setr_m128i(_mm256_cvtps_ph(_mm512_castps512_ps256(a), imm),                             \
                      _mm256_cvtps_ph(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)), imm))
// SIMDe 0.7.4's alias for vpmaddwd zmm takes the masked form's four arguments (madd.h:123).
#undef _mm512_madd_epi16
#define _mm512_madd_epi16(a, b) simde_mm512_madd_epi16(a, b)
#define _mm512_cvtepi32_ps(a) kiln_simde_cvtepi32_ps(a)
#define _mm512_cvtps_epi32(a) kiln_simde_cvtps_epi32(a)
#define _mm512_cvtepi8_epi32(a) kiln_simde_cvtepi8_epi32(a)
#define _mm512_cvtepu8_epi32(a) kiln_simde_cvtepu8_epi32(a)
#define _mm512_cvtepu16_epi32(a) kiln_simde_cvtepu16_epi32(a)
#define _mm512_cvtepi16_epi32(a) kiln_simde_cvtepi16_epi32(a)
#define _mm512_cvtepu8_epi16(a) kiln_simde_cvtepu8_epi16(a)
#define _mm512_cvtph_ps(a) kiln_simde_cvtph_ps(a)
#define _mm512_cvtps_ph(a, imm) kiln_simde_cvtps_ph(a, imm)
// vpsrad zmm, imm (SIMDe 0.7.4's srai.h has the epi16 form only).
#define _mm512_srai_epi32(a, imm)                                                                  \
    kiln_simde_join_si512(_mm256_srai_epi32(_mm512_castsi512_si256(a), imm),                       \
                          _mm256_srai_epi32(_mm512_extracti64x4_epi64(a, 1), imm))
#elif !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512VNNI__)
#error "AVX-512 kernel file compiled without -mavx512f -mavx512bw -mavx512vl -mavx512vnni"
#endif

// The sum of the 16 int32 lanes (exact, wrapping as the adds do); written with AVX2 halves because
// SIMDe 0.7.4 has no _mm512_reduce_add_epi32.
static inline int32_t kiln_hsum512_epi32(__m512i v) {
    __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(1, 0, 3, 2)));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(q);
}
// a in lane 0..3, zeros above (SIMDe 0.7.4 has no _mm512_zextps128_ps512).
static inline __m512 kiln_zext128_ps512(__m128 a) { return _mm512_insertf32x4(_mm512_setzero_ps(), a, 0); }

// The two 256-bit halves of a 512-bit float vector.
static inline __m256 kiln_lo256(__m512 v) { return _mm512_castps512_ps256(v); }
static inline __m256 kiln_hi256(__m512 v) {
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}
static inline __m512 kiln_join512(__m256 lo, __m256 hi) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
}

// Sum of the 16 lanes (halves added, then the 8-lane sum).
static inline float kiln_hsum512(__m512 v) {
    __m256 s8 = _mm256_add_ps(kiln_lo256(v), kiln_hi256(v));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Max of the 16 lanes.
static inline float kiln_hmax512(__m512 v) {
    __m256 s8 = _mm256_max_ps(kiln_lo256(v), kiln_hi256(v));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// 16 halves -> 16 floats (vcvtph2ps zmm).
static inline __m512 kiln_load_f16x16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

// 16 bf16 -> 16 floats: bf16 is the top half of an f32, so widen and shift (exact).
static inline __m512 kiln_load_bf16x16(const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}

// e^x for 16 floats: simd_x86.h's kiln_exp256 (Cephes' expf scheme, relative error ~2e-7 on
// [-87, 88], 0 below -87.3 so exp(-inf) = 0, +inf above 88.3) in 512-bit lanes, the same
// constants and operation order, so the two give the same bits.
static inline __m512 kiln_exp512(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-87.3f), hi = _mm512_set1_ps(88.3f);
    const __mmask16 underflow = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mov_ps((__mmask16)~underflow, _mm512_mul_ps(p, _mm512_castsi512_ps(e)));
}
