// matmul GEMV (n < 16), AVX-512 (F+BW+VL+VNNI), for W in IQ4_NL (x in Q8_0) or IQ4_XS (x in
// Q8_K): matmul_iq4_avx2.c's tiles (matmul_iq4_tile.h) with each block's integer dot as one
// vpdpbusd on 256-bit registers instead of maddubs + madd; the sums are the same exact integers,
// so the results equal the AVX2 rows' bit for bit.
// Versions: v1 (this).
// Test: `kiln ops --op matmul --type iq4_nl,iq4_xs --kernel avx512`.
#include "kernels/common/simd_avx512.h"

static inline __m256i iq4_dot(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }
#include "kernels/matmul/matmul_iq4_tile.h"

const struct kiln_cpu_kernel kiln_matmul_iq4_nl_avx512_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = iq4_nl_gemv };
const struct kiln_cpu_kernel kiln_matmul_iq4_xs_avx512_gemv = {
    .workspace = kiln_matmul_xq8k_workspace, .prepare = kiln_matmul_xq8k_prepare, .compute = iq4_xs_gemv };
