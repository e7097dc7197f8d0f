// matmul GEMV (n < 16), AVX2+FMA+F16C+AVX-VNNI, for Q4_0 weights in the x8 layout: the tile of
// matmul_q4_0x8_tile.h (layouts, versions and why there) with vpdpbusd (u8 x s8, four products
// summed into each s32 lane) for each nibble half: two instructions where maddubs needs four.
// The sums are exact integers either way, so results equal the maddubs kernel's bit for bit.
// Compiled with -mavxvnni; selected only where CPUID reports AVX-VNNI (Alder Lake, Sapphire
// Rapids, Zen 5 and later). Test: `kiln ops --op matmul --kernel q4_0x8`.
#define X8_DOT(lo, hi, xa, xc, ones) \
    _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), lo, xa), hi, xc)
#define X8_GEMV q4_0x8_avxvnni_gemv
#include "kernels/matmul/matmul_q4_0x8_tile.h"

const struct kiln_cpu_kernel kiln_matmul_q4_0x8_avxvnni_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q4_0x8_avxvnni_gemv };
