// The rounding-aware matmul reference of `kiln ops` (opcheck_rounding.c).
#pragma once

#include "backends/kernel.h"

// Runs the reference matmul of the 2-D host op `op` with its inputs rounded as `r` says, into
// `dst` (a host f32 view shaped like op->dst), and sets *noise to the error energy the rounding
// is expected to add against the exact result on these inputs (sum over outputs).
enum kiln_status kiln_check_rounded_matmul(struct kiln_device *cpu, const struct kiln_op *op,
                                           enum kiln_input_rounding r, const struct kiln_tensor *dst,
                                           double *noise);
