// matmul GEMV (n < 16), AVX2+FMA+F16C, for Q4_0 and Q8_0 weights in the x8 layouts: the tiles
// of matmul_x8_tile.h (layouts, versions and why there) with the integer dots as in
// matmul_avx2.c. q4_0: maddubs (u8 x s8 -> s16 pairs, no saturation: 15 * 127 * 2 < 32767) for
// each nibble half, their sum, then madd with ones to s32 lanes. q8_0: the stored codes are
// q + 128, so q = codes ^ 0x80, then maddubs(|q|, sign(x, q)) (|q| <= 128: 2 * 128 * 127 <
// 32767) and madd.
// Test: `kiln ops --op matmul --kernel q4_0x8`; bench: `KILN_CPU_ISA=avx2 kiln bench ops`.
#define X8_GEMV q4_0x8_avx2_gemv
#define X8Q8_GEMV q8_0x8_avx2_gemv
#include <immintrin.h>

static inline __m256i x8_dot(__m256i lo, __m256i hi, __m256i xa, __m256i xc, __m256i ones) {
    return _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, xa), _mm256_maddubs_epi16(hi, xc)), ones);
}

static inline __m256i x8q8_corr(__m256i xq) {
    (void)xq;
    return _mm256_setzero_si256();  // the sign trick needs no correction
}
static inline __m256i x8q8_dot(__m256i codes, __m256i xq, __m256i ones, __m256i corr) {
    (void)corr;
    const __m256i q = _mm256_xor_si256(codes, _mm256_set1_epi8((char)0x80));
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(xq, q)), ones);
}
#include "kernels/matmul/matmul_x8_tile.h"

const struct kiln_cpu_kernel kiln_matmul_q4_0x8_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q4_0x8_avx2_gemv };
const struct kiln_cpu_kernel kiln_matmul_q8_0x8_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q8_0x8_avx2_gemv };
