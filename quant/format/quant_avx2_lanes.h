// Lane helpers shared by the AVX2 quantizers (quant_k_avx2.c, quant_q2/q3/q6_avx2.c,
// quant_weighted_avx2.c): the reference's integer rounding on 8 lanes at once. Included by files
// compiled with -mavx2 and without FMA contraction (CMakeLists.txt says why).
#pragma once

#include <immintrin.h>

// nearest_int on 8 lanes: the same 1.5 * 2^23 trick as kiln_nearest_int, so each lane rounds
// exactly as the reference does (ties to even, |v| < 2^22).
static inline __m256i nearest_int8(__m256 v) {
    const __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.0f)));
    return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}

// MAX(lo, MIN(hi, v)) per lane, the reference's clamp of a code.
static inline __m256i clamp8(__m256i v, int lo, int hi) {
    return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}
