// The rounding-aware matmul and attention references of `kiln ops` (opcheck_rounding.c).
#pragma once

#include "backends/kernel.h"

// Runs the reference matmul of the 2-D host op `op` with its inputs rounded as `r` says, into
// `dst` (a host f32 view shaped like op->dst), and sets *bound2 to the most error energy the
// rounding can add against the exact result on these inputs (sum over outputs of the squared
// worst case), NaN if the formula's errors are not those of rounding to nearest.
enum kiln_status kiln_check_rounded_matmul(struct kiln_device *cpu, const struct kiln_op *op,
                                           enum kiln_input_rounding r, const struct kiln_tensor *dst,
                                           double *bound2);

// The same for attention (KILN_ROUND_Q_F16: q rounded to f16), the bound from the scores' worst
// movement (opcheck_rounding.c).
enum kiln_status kiln_check_rounded_attention(struct kiln_device *cpu, const struct kiln_op *op,
                                              enum kiln_input_rounding r, const struct kiln_tensor *dst,
                                              double *bound2);
