// matmul GEMV (n < 16), AVX2+FMA+F16C, for Q4_0 weights in the x8 layout: the tile of
// matmul_q4_0x8_tile.h (layouts, versions and why there) with the integer dot as in
// matmul_avx2.c: maddubs (u8 x s8 -> s16 pairs, no saturation: 15 * 127 * 2 < 32767) for each
// nibble half, their sum, then madd with ones to s32 lanes.
// Test: `kiln ops --op matmul --kernel q4_0x8`; bench: `KILN_CPU_ISA=avx2 kiln bench ops`.
#define X8_DOT(lo, hi, xa, xc, ones) \
    _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, xa), _mm256_maddubs_epi16(hi, xc)), ones)
#define X8_GEMV q4_0x8_avx2_gemv
#include "kernels/matmul/matmul_q4_0x8_tile.h"

const struct kiln_cpu_kernel kiln_matmul_q4_0x8_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q4_0x8_avx2_gemv };
