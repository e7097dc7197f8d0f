// matmul GEMM (n >= 16), AVX2+FMA+F16C, for W in f32, f16, q8_0, q4_0 (SIMD conversion into the
// panels) and every other dequantizable type (its dequantizer: q4_1, q5_x, K-quants, bf16):
// y[n][m] = x[n][k] . W[m][k]^T, layouts as matmul.h.
//
// GotoBLAS/BLIS structure. For each block of KC along k, each thread takes its W rows in
// panels of 16: the panel is dequantized/converted once into a packed f32 buffer laid out
// [kk][16] (16 consecutive W rows side by side), then a 6 x 16 micro-kernel sweeps all x rows
// six at a time: per kk it loads two vectors of the packed panel, broadcasts x[j][kk] for six j,
// and issues 12 FMAs into 12 ymm accumulators (15 of the 16 registers in use, none spilled).
// The x slice of the block (n x KC floats, 512 KiB at n = 512) stays in L2 across panels;
// y tiles are accumulated block after block. Packing costs one pass over W per call, amortised
// over n columns, which is why this path starts at n = 16 and decode uses the GEMV kernels.
// Quantized weights therefore meet f32 x in f32 FMAs (dequantize-on-load, as the GPU GEMMs
// do): exact weights, no activation quantization error.
// Q4_0/Q8_0 weights may be in the x8 layouts (quant/format/repack.h); only convert_row knows.
// Edges: a panel past m is zero-padded and its rows not stored; a partial x tile repeats its
// last row and stores only the valid ones; k need not be a multiple of KC.
//
// Versions: v1 dot-product tiles (matmul_avx2.c); v2 packed panels + 6x16 micro-kernel
// (f16 GEMM 56% -> see results/ of FMA peak on the 2-core AVX2 machine); v3 (this) the other
// types through their dequantizers, which before took the fallback (all of W dequantized to a
// scratch in row chunks, then this GEMM). Next: int8 dot products for quantized W.
// Test: `kiln ops --op matmul --kernel gemm`; bench: `kiln bench ops --op matmul`.
#include <stdbool.h>
#include <stdint.h>

#include "kernels/common/simd_x86.h"

enum { KC = 256, MR = 16, NR = 6, NC = 120 };

// Rows i0..i0+15 of outputs j0..j0+5: the packed W panel times the packed x tile, added to y
// when `accumulate` (every k block after the first). Only pointers into the two packed buffers
// and the loop counter live in the loop: 12 accumulators + 2 W vectors + 1 broadcast = 15 ymm.
static inline void micro_kernel(const float *pw, const float *px, int64_t kc, bool accumulate,
                                float *const yr[NR], int valid_m) {
    __m256 acc[NR][2];
    #pragma GCC unroll 16
    for (int j = 0; j < NR; j++)
        acc[j][0] = acc[j][1] = _mm256_setzero_ps();
    for (int64_t kk = 0; kk < kc; kk++, pw += MR, px += NR) {
        const __m256 w0 = _mm256_loadu_ps(pw), w1 = _mm256_loadu_ps(pw + 8);
        #pragma GCC unroll 16
        for (int j = 0; j < NR; j++) {
            const __m256 b = _mm256_broadcast_ss(px + j);
            acc[j][0] = _mm256_fmadd_ps(w0, b, acc[j][0]);
            acc[j][1] = _mm256_fmadd_ps(w1, b, acc[j][1]);
        }
    }
    if (valid_m == MR) {
        #pragma GCC unroll 16
        for (int j = 0; j < NR; j++) {
            if (!yr[j])
                continue;
            if (accumulate) {
                acc[j][0] = _mm256_add_ps(acc[j][0], _mm256_loadu_ps(yr[j]));
                acc[j][1] = _mm256_add_ps(acc[j][1], _mm256_loadu_ps(yr[j] + 8));
            }
            _mm256_storeu_ps(yr[j], acc[j][0]);
            _mm256_storeu_ps(yr[j] + 8, acc[j][1]);
        }
        return;
    }
    float tmp[NR][MR];  // a panel past m: store only its valid rows
    #pragma GCC unroll 16
    for (int j = 0; j < NR; j++) {
        _mm256_storeu_ps(tmp[j], acc[j][0]);
        _mm256_storeu_ps(tmp[j] + 8, acc[j][1]);
    }
    for (int j = 0; j < NR; j++) {
        if (!yr[j])
            continue;
        for (int r = 0; r < valid_m; r++)
            yr[j][r] = accumulate ? yr[j][r] + tmp[j][r] : tmp[j][r];
    }
}

#include "kernels/matmul/matmul_gemm_panels.h"

const struct kiln_cpu_kernel kiln_matmul_f32_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
const struct kiln_cpu_kernel kiln_matmul_f16_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
const struct kiln_cpu_kernel kiln_matmul_q8_0_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
const struct kiln_cpu_kernel kiln_matmul_q4_0_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
// Any other dequantizable type, W converted by its dequantizer into the panels.
const struct kiln_cpu_kernel kiln_matmul_dequant_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
// The same GEMM on x8-layout weights (convert_row reads a row out of its tile).
const struct kiln_cpu_kernel kiln_matmul_q4_0x8_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
const struct kiln_cpu_kernel kiln_matmul_q8_0x8_avx2_gemm = { .workspace = gemm_workspace, .compute = gemm };
