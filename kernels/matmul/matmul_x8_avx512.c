// matmul GEMV (n < 16), AVX-512 (F+BW+VL+VNNI), for Q4_0 and Q8_0 weights in the x8 layouts: the
// tiles of matmul_x8_tile.h (layouts, versions and why there) with the EVEX vpdpbusd on 256-bit
// registers (AVX512-VNNI + VL), the instruction the AVX-VNNI file (matmul_x8_avxvnni.c) uses in
// its VEX form: the same arithmetic, so results equal the maddubs kernel's bit for bit. Zen 4 and
// Intel's AVX-512 server parts have AVX512-VNNI but no AVX-VNNI, which is why this file exists.
// A 256-bit tile is kept on purpose: decode streams W once, so wider registers only add
// shuffles; the x8 tile of 8 rows x 32 codes is exactly four 256-bit row pairs.
// Test: `kiln ops --op matmul --kernel q4_0x8` (AVX-512 rows: under SIMDe where the CPU lacks it).
#define X8_GEMV q4_0x8_avx512_gemv
#define X8Q8_GEMV q8_0x8_avx512_gemv
#include "kernels/common/simd_avx512.h"

static inline __m256i x8_dot(__m256i lo, __m256i hi, __m256i xa, __m256i xc, __m256i ones) {
    (void)ones;
    return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), lo, xa), hi, xc);
}

static inline __m256i x8q8_corr(__m256i xq) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8((char)0x80), xq);
}
static inline __m256i x8q8_dot(__m256i codes, __m256i xq, __m256i ones, __m256i corr) {
    (void)ones;
    return _mm256_sub_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), codes, xq), corr);
}
#include "kernels/matmul/matmul_x8_tile.h"

const struct kiln_cpu_kernel kiln_matmul_q4_0x8_avx512_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q4_0x8_avx512_gemv };
const struct kiln_cpu_kernel kiln_matmul_q8_0x8_avx512_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q8_0x8_avx512_gemv };
