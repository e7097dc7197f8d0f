// The small ops a Llama forward pass needs besides matmul and attention (ops.h has each
// contract): rmsnorm, rope (normal and neox), swiglu, add, get_rows, copy/convert.
#pragma once

#include "backends/cpu/cpu_kernel.h"

// References (model_ops_ref.c), double precision where it matters. On the CPU these are also
// the kernels that run: each is a single pass over memory, threads split the rows.
extern const struct kiln_cpu_kernel kiln_rmsnorm_ref, kiln_rope_ref, kiln_swiglu_ref, kiln_add_ref,
    kiln_get_rows_ref, kiln_copy_ref;
