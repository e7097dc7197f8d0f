// matmul GEMV (n < 16), AVX2: y[n][m] = x[n][k] . W[m][k]^T for W in q4_1, q5_0 or q5_1 rows
// (quant/format/blocks.h, spec §2), x f32. Layouts as matmul.h.
//
// x is quantized to Q8_0 rows first by the same prepare step as the q4_0/q8_0 GEMVs
// (matmul_avx2.c: d = amax/127 as f16, codes rne(x * 127/amax)), so the table rows declare
// KILN_ROUND_X_Q8_0_INV127. Per 32-element block, with codes q unsigned (0..15, or 0..31 with
// the 5th bit from qh) as maddubs's unsigned operand and s = the sum of x's codes:
//   q4_1, q5_1:  d_w d_x sum(q qx) + m_w d_x s
//   q5_0:        d_w d_x (sum(q qx) - 16 s)
// s is computed once per x block and shared by the tile's RM rows.
//
// The tiles are in matmul_q451_tile.h (shared with the AVX-512 file).
// Versions: v1 (this); before it these types' decode took the dequantize-to-f32 fallback.
// Test: `kiln ops --op matmul --type q4_1,q5_0,q5_1`.
#include "kernels/common/simd_x86.h"

// Pairs by maddubs (int16: |u s| sums stay under 2^15 for u < 32), then pairs of pairs by madd.
static inline __m256i q451_dot(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
#include "kernels/matmul/matmul_q451_tile.h"

const struct kiln_cpu_kernel kiln_matmul_q4_1_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q4_1_gemv };
const struct kiln_cpu_kernel kiln_matmul_q5_0_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q5_0_gemv };
const struct kiln_cpu_kernel kiln_matmul_q5_1_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = q5_1_gemv };
