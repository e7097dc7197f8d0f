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

// NEON (dequant_neon.c): f16, q8_0, q4_0 -> f32.
extern const struct kiln_cpu_kernel kiln_dequant_f16_f32_neon, kiln_dequant_q8_0_f32_neon,
    kiln_dequant_q4_0_f32_neon;
