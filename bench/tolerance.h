// The one table of error ceilings: NMSE = sum (out - ref)^2 / sum ref^2 that a kernel's output
// may reach against the reference, per (op, type). "type" is the weight type for matmul, the
// K/V type for attention, the source type for dequant and get_rows, the destination type for
// copy, f32 for the other ops.
#pragma once

#include "backends/ops.h"

double kiln_tolerance_nmse(enum kiln_op_kind op, enum kiln_type type);
// Why that ceiling (one line, shown by `kiln ops --verbose`).
const char *kiln_tolerance_reason(enum kiln_op_kind op, enum kiln_type type);
