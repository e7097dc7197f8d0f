// dequant: any dequantizable type -> f32 or f16, row by row (rows may be strided).
//
// Values are exactly the type's reference to_float (spec/ggml-formats.md §1.4: every product is
// exact in f32, so every correct implementation gives the same bits); f16 output rounds once.
#pragma once

#include "backends/cpu/cpu_kernel.h"

// The oracle: the traits table's reference to_float, any type.
extern const struct kiln_cpu_kernel kiln_dequant_ref;

// AVX2 (dequant_avx2.c): f16, q8_0, q4_0 -> f32 and f16.
extern const struct kiln_cpu_kernel kiln_dequant_f16_f32_avx2, kiln_dequant_q8_0_f32_avx2,
    kiln_dequant_q4_0_f32_avx2, kiln_dequant_q8_0_f16_avx2, kiln_dequant_q4_0_f16_avx2;

// AVX2 (dequant_kquant_avx2.c): q4_K, q5_K, q6_K -> f32, and the row functions behind them
// (the packed GEMM converts its panels with these).
extern const struct kiln_cpu_kernel kiln_dequant_q4_K_f32_avx2, kiln_dequant_q5_K_f32_avx2,
    kiln_dequant_q6_K_f32_avx2;
void kiln_dequantize_q4_K_avx2(const void *in, float *y, int64_t k);
void kiln_dequantize_q5_K_avx2(const void *in, float *y, int64_t k);
void kiln_dequantize_q6_K_avx2(const void *in, float *y, int64_t k);

// AVX-512 (dequant_avx512.c): f16, q8_0, q4_0 -> f32 (and q8_0, q4_0 -> f16); q4_K, q5_K, q6_K -> f32.
extern const struct kiln_cpu_kernel kiln_dequant_f16_f32_avx512, kiln_dequant_q8_0_f32_avx512,
    kiln_dequant_q4_0_f32_avx512, kiln_dequant_q8_0_f16_avx512, kiln_dequant_q4_0_f16_avx512,
    kiln_dequant_q4_K_f32_avx512, kiln_dequant_q5_K_f32_avx512, kiln_dequant_q6_K_f32_avx512;

// NEON (dequant_neon.c): f16, q8_0, q4_0 -> f32.
extern const struct kiln_cpu_kernel kiln_dequant_f16_f32_neon, kiln_dequant_q8_0_f32_neon,
    kiln_dequant_q4_0_f32_neon;
