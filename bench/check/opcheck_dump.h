// `kiln ops --dump` (opcheck_dump.c).
#pragma once

#include "backends/ops.h"
#include "backends/status.h"

// Writes PREFIX-dst.npy, PREFIX-src<i>.npy (float and i32 tensors) and PREFIX.json (the op and
// its parameters) for a host op whose reference has run.
enum kiln_status kiln_check_dump(const char *prefix, const struct kiln_op *ref_op);
