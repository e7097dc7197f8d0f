// Internal to the NEON matmul files: the driver and activation quantizer that matmul_neon.c
// and matmul_neon_dotprod.c share; only the per-row dot product differs between them.
#pragma once

#include "kernels/matmul/matmul.h"

// Dot product of one W row with one x row (f32 row, or its Q8_0 copy), k elements.
typedef float (*kiln_neon_row_dot)(const void *w, const void *x, int64_t k);

// Threads split the W rows; each W row is dotted with every x row while it is in L1.
void kiln_matmul_neon_drive(const struct kiln_op *op, const void *xq, kiln_neon_row_dot dot,
                            int ith, int nth);

// Q8_0 activations: workspace size and the `prepare` step (x rows quantized in parallel).
size_t kiln_matmul_neon_q8_workspace(const struct kiln_op *op, int nth);
void kiln_matmul_neon_q8_prepare(const struct kiln_op *op, void *ws, int ith, int nth);
