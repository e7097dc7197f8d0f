// matmul GEMV (n < 16), AVX-512 (F+BW+VL+VNNI), for W in q4_1, q5_0 or q5_1 rows against x in
// Q8_0 (the AVX2 prepare step): matmul_q451_avx2.c's tiles (matmul_q451_tile.h) with each
// block's integer dot as one vpdpbusd (AVX512-VNNI on 256-bit registers) instead of maddubs +
// madd; the sums are the same exact integers, so the results equal the AVX2 rows' bit for bit.
// Versions: v1 (this). Not yet measured on an AVX-512 machine; checked under SIMDe.
// Test: `kiln ops --op matmul --type q4_1,q5_0,q5_1 --kernel avx512`.
#include "kernels/common/simd_avx512.h"

static inline __m256i q451_dot(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }
#include "kernels/matmul/matmul_q451_tile.h"

const struct kiln_cpu_kernel kiln_matmul_q4_1_avx512_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q4_1_gemv };
const struct kiln_cpu_kernel kiln_matmul_q5_0_avx512_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q5_0_gemv };
const struct kiln_cpu_kernel kiln_matmul_q5_1_avx512_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q5_1_gemv };
