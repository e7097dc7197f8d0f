// matmul GEMM (n >= 16), AVX-512 (F+BW+VL+VNNI), for W in f32, f16, bf16, q8_0, q4_0 (rows or
// x8 layout) and every other dequantizable type: y[n][m] = x[n][k] . W[m][k]^T, layouts as
// matmul.h. The packed f32 GEMM of matmul_gemm_avx2.c (panels, packing and driver shared through
// matmul_gemm_panels.h; the structure is described there and in matmul_gemm_avx2.c) with a
// 512-bit micro-kernel:
//   MR = 32 W rows per panel (two zmm per kk), NR = 12 x rows per call: 24 zmm accumulators, two
//   W vectors and one broadcast, 27 of the 32 zmm registers; per kk 2 loads, 12 broadcasts and
//   24 FMAs of 16 lanes (the AVX2 kernel: 2 loads, 6 broadcasts, 12 FMAs of 8 lanes), so twice
//   the FMA work per loaded byte of panel and of x.
// Sums are f32 FMAs in the same kk order per output as the AVX2 kernel (each output is one lane of
// one accumulator), so both give the same bits.
// Versions: v1 (this). Not yet measured on an AVX-512 machine (written on AVX2-only machines and
// checked there under SIMDe: `KILN_CPU_EMULATE_AVX512=1 kiln ops --kernel avx512`, in a
// -DKILN_AVX512_EMULATE=ON build). Next: bf16 W through vdpbf16ps (needs x rounded to bf16, a
// rounding mode of its own), int8 tiles for the quantized types.
// Test: `kiln ops --op matmul --kernel avx512`; bench: `kiln bench ops --op matmul`.
#include <stdbool.h>
#include <stdint.h>

#include "kernels/common/simd_avx512.h"

enum { KC = 256, MR = 32, NR = 12, NC = 120 };

static inline void micro_kernel(const float *pw, const float *px, int64_t kc, bool accumulate,
                                float *const yr[NR], int valid_m) {
    __m512 acc[NR][2];
    #pragma GCC unroll 16
    for (int j = 0; j < NR; j++)
        acc[j][0] = acc[j][1] = _mm512_setzero_ps();
    for (int64_t kk = 0; kk < kc; kk++, pw += MR, px += NR) {
        const __m512 w0 = _mm512_loadu_ps(pw), w1 = _mm512_loadu_ps(pw + 16);
        #pragma GCC unroll 16
        for (int j = 0; j < NR; j++) {
            const __m512 b = _mm512_set1_ps(px[j]);
            acc[j][0] = _mm512_fmadd_ps(w0, b, acc[j][0]);
            acc[j][1] = _mm512_fmadd_ps(w1, b, acc[j][1]);
        }
    }
    if (valid_m == MR) {
        #pragma GCC unroll 16
        for (int j = 0; j < NR; j++) {
            if (!yr[j])
                continue;
            if (accumulate) {
                acc[j][0] = _mm512_add_ps(acc[j][0], _mm512_loadu_ps(yr[j]));
                acc[j][1] = _mm512_add_ps(acc[j][1], _mm512_loadu_ps(yr[j] + 16));
            }
            _mm512_storeu_ps(yr[j], acc[j][0]);
            _mm512_storeu_ps(yr[j] + 16, acc[j][1]);
        }
        return;
    }
    float tmp[NR][MR];  // a panel past m: store only its valid rows
    #pragma GCC unroll 16
    for (int j = 0; j < NR; j++) {
        _mm512_storeu_ps(tmp[j], acc[j][0]);
        _mm512_storeu_ps(tmp[j] + 16, acc[j][1]);
    }
    for (int j = 0; j < NR; j++) {
        if (!yr[j])
            continue;
        for (int r = 0; r < valid_m; r++)
            yr[j][r] = accumulate ? yr[j][r] + tmp[j][r] : tmp[j][r];
    }
}

#include "kernels/matmul/matmul_gemm_panels.h"

// One kernel for every W type (convert_row in matmul_gemm_panels.h knows each).
const struct kiln_cpu_kernel kiln_matmul_avx512_gemm = { .workspace = gemm_workspace, .compute = gemm };
