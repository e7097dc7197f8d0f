// matmul GEMV (n < 16), AVX2+FMA+F16C+AVX-VNNI, for Q4_0 and Q8_0 weights in the x8 layouts:
// the tiles of matmul_x8_tile.h (layouts, versions and why there) with vpdpbusd (u8 x s8, four
// products summed into each s32 lane). q4_0: one per nibble half, two instructions where maddubs
// needs four. q8_0: one on the stored codes (q + 128, unsigned) minus 128 * sum(x) per lane,
// itself one vpdpbusd per block: no sign trick.
// The sums are exact integers either way, so results equal the maddubs kernel's bit for bit.
// Compiled with -mavxvnni; selected only where CPUID reports AVX-VNNI (Alder Lake, Sapphire
// Rapids, Zen 5 and later). Test: `kiln ops --op matmul --kernel q4_0x8`.
#define X8_GEMV q4_0x8_avxvnni_gemv
#define X8Q8_GEMV q8_0x8_avxvnni_gemv
#include <immintrin.h>

static inline __m256i x8_dot(__m256i lo, __m256i hi, __m256i xa, __m256i xc, __m256i ones) {
    (void)ones;
    return _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), lo, xa), hi, xc);
}

static inline __m256i x8q8_corr(__m256i xq) {
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), _mm256_set1_epi8((char)0x80), xq);
}
static inline __m256i x8q8_dot(__m256i codes, __m256i xq, __m256i ones, __m256i corr) {
    (void)ones;
    return _mm256_sub_epi32(_mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), codes, xq), corr);
}
#include "kernels/matmul/matmul_x8_tile.h"

const struct kiln_cpu_kernel kiln_matmul_q4_0x8_avxvnni_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q4_0x8_avxvnni_gemv };
const struct kiln_cpu_kernel kiln_matmul_q8_0x8_avxvnni_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q8_0x8_avxvnni_gemv };
