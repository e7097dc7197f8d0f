// The one table of error ceilings: NMSE = sum (out - ref)^2 / sum ref^2 that a kernel's output
// may reach against the reference, per (op, type). "type" is the weight type for matmul, the
// K/V type for attention, the source type for dequant and get_rows, the destination type for
// copy, f32 for the other ops.
#pragma once

#include "backends/ops.h"

double kiln_tolerance_nmse(enum kiln_op_kind op, enum kiln_type type);
// The ceiling for one kernel row: the table's, or the row's own when it is larger (a row that
// computes in lower precision says so in kernel.h's nmse_ceiling). kernel may be NULL.
struct kiln_kernel;
double kiln_tolerance_for_kernel(enum kiln_op_kind op, enum kiln_type type, const struct kiln_kernel *kernel);
// Why that ceiling (one line, shown by `kiln ops --verbose`).
const char *kiln_tolerance_reason(enum kiln_op_kind op, enum kiln_type type);
