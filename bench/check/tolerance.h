// The one table of error ceilings, each derived from the arithmetic it bounds (tolerance.c says
// how, per entry). A kernel row is judged against the reference in three ways:
//   - NMSE = sum (out - ref)^2 / sum ref^2 over the whole output, at most `nmse`;
//   - localized: the worst output row's (and column's) error energy, and the worst single
//     element's squared error, each over the mean energy of a reference row (column, element),
//     at most nmse * row_factor (nmse * elem_factor): a wrong row or element in a large output
//     is not diluted by the correct rest;
//   - for a row that rounds its inputs (kernel.h `rounding`), the reference is run on inputs
//     rounded the same way (tight: `nmse`), and the output is also compared with the exact
//     reference (loose: the tight share plus the most the rounding can move the output on these
//     data, from the actual rounding errors weighted by |W|, computed by the checker;
//     `exact_nmse` is a statistical bound on Gaussian inputs for callers without the
//     rounding-aware reference, such as the benchmark's pre-timing check).
// "type" is the weight type for matmul, the K/V type for attention, the source type for dequant
// and get_rows, the destination type for copy, f32 for the other ops.
#pragma once

#include "backends/kernel.h"

struct kiln_ceiling {
    double nmse;
    double row_factor, elem_factor;
    double exact_nmse;                    // vs the exact reference on Gaussian inputs
    enum kiln_input_rounding rounding;    // what the row declares for this op
    const char *why;                      // the derivation, one line (`kiln ops --verbose`)
};

// The ceiling for a kernel row (NULL: the matmul fallback, or a caller without a row) on op.
struct kiln_ceiling kiln_ceiling_for(const struct kiln_op *op, enum kiln_type type,
                                     const struct kiln_kernel *kernel);

const char *kiln_rounding_name(enum kiln_input_rounding rounding);
