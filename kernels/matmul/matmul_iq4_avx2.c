// matmul GEMV (n < 16), AVX2: y[n][m] = x[n][k] . W[m][k]^T for W in IQ4_NL or IQ4_XS rows
// (quant/format/blocks.h: codes index the 16 non-linear levels kiln_iq4_values), x f32.
// Layouts as matmul.h.
//
// IQ4_NL: x quantized to Q8_0 rows by the AVX2 prepare step (matmul_avx2.c, so the row declares
// KILN_ROUND_X_Q8_0_INV127), as ggml pairs IQ4_NL with Q8_0; per block of 32
//   d_w d_x sum(level(code) qx)
// IQ4_XS: x quantized to Q8_K (kiln_matmul_xq8k_prepare: KILN_ROUND_X_Q8_K); per super-block
//   d_w d_x sum over its 8 blocks of (scale_b - 32) sum(level(code) qx)
// The levels come from one pshufb of the 16-entry table (each 128-bit lane holds it); maddubs
// multiplies |level| (unsigned) by x carrying level's sign (psignb), pairs summed in int16
// (|pair| <= 2 * 127 * 127 < 2^15: no saturation) and then in int32 by madd. Every integer is
// exact, so the only rounding is the f32 accumulation.
//
// The tiles (4 W rows per x column) are in matmul_iq4_tile.h, shared with the AVX-512 file.
// Versions: v1 (this); before it these types took the dequantize-to-f32 fallback.
// Test: `kiln ops --op matmul --type iq4_nl,iq4_xs`.
#include "kernels/common/simd_x86.h"

static inline __m256i iq4_dot(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
#include "kernels/matmul/matmul_iq4_tile.h"

const struct kiln_cpu_kernel kiln_matmul_iq4_nl_avx2_gemv = {
    .workspace = kiln_matmul_xq8_workspace, .prepare = kiln_matmul_xq8_prepare, .compute = iq4_nl_gemv };
const struct kiln_cpu_kernel kiln_matmul_iq4_xs_avx2_gemv = {
    .workspace = kiln_matmul_xq8k_workspace, .prepare = kiln_matmul_xq8k_prepare, .compute = iq4_xs_gemv };
