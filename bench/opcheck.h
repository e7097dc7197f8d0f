// Cross-backend kernel checks: run one kernel row (or the matmul fallback) on one device for one
// case, and compare with the reference computed on the host.
//
// Each input is random (seeded per case), quantized to its type with the reference quantizer.
// On the device, every tensor sits in its own buffer between guard bands, and strided cases pad
// each row; the output buffer is filled with a NaN pattern first, so any output the kernel does
// not write turns into NaN (and fails), and any byte it writes outside its view is caught.
// The verdict is NMSE against the per-(op, type) ceiling of bench/tolerance.c.
// `kiln ops` prints these; benchmarks refuse to time a kernel whose check failed on that shape.
#pragma once

#include "backends/kernel.h"

struct kiln_check_case {
    enum kiln_op_kind op;
    enum kiln_type src_type;  // weights (matmul), K/V (attention), table (get_rows), source
    enum kiln_type dst_type;  // dequant/copy destination (f32 otherwise)
    int64_t m, n, k;          // matmul: W [k, m], x [k, n]. rows ops: k = row length, n = rows
    int64_t d, n_q, n_kv, h, h_kv, pos0;  // attention
    bool causal;
    bool strided;             // rows of every tensor padded (non-contiguous views)
    int rope_mode, rope_dims; // rope: mode and rotated dims (0 = all)
};

struct kiln_check_result {
    bool ran;                 // false: the kernel declined the shape (see note)
    bool pass;
    double nmse, ceiling;
    double max_abs_err;
    bool guards_ok;           // no byte written outside the output view
    char note[200];           // decline reason, or the first problem found
};

// One-line description of a case: "m=33 n=1 k=4096 strided".
void kiln_check_case_describe(const struct kiln_check_case *c, char *buf, size_t size);

// The output-type used by the tolerance table for this case.
enum kiln_type kiln_check_case_tolerance_type(const struct kiln_check_case *c);

// Runs `kernel` (a row of the stream's device), or the matmul fallback when kernel is NULL,
// on case `c` and fills `out`. Returns an error only for failures of the harness itself
// (allocation, device errors); a wrong kernel is a KILN_OK return with out->pass = false.
enum kiln_status kiln_check_run(struct kiln_stream *s, const struct kiln_kernel *kernel,
                                const struct kiln_check_case *c, uint64_t seed,
                                struct kiln_check_result *out);

// Runs the reference kernel for op on host (CPU-device) tensors, single-threaded: the oracle.
enum kiln_status kiln_check_reference(const struct kiln_op *op);

// The cases `kiln ops` runs for a kernel row and a concrete source type: every shape of the
// op's list that applies to that type. Returns the count written (at most max).
int kiln_check_cases_for(enum kiln_op_kind op, enum kiln_type src_type, enum kiln_type dst_type,
                         struct kiln_check_case *out, int max);
