// Cross-backend kernel checks: run one kernel row (or the matmul fallback) on one device for one
// case, and compare with the reference computed on the host.
//
// Each input is random (seeded per case), quantized to its type with the reference quantizer.
// On the device, every tensor sits in its own buffer between guard bands, and strided cases pad
// each row; the output buffer is filled with a NaN pattern first, so any output the kernel does
// not write turns into NaN (and fails), and any byte it writes outside its view is caught.
// Inputs carry the edges kernels get wrong: all-zero blocks (amax = 0), outliers, Q8_0 codes of
// -128, ids and positions 0 and the largest, large attention scores, batched and permuted views,
// views at offsets that are not 16-byte aligned.
// The verdict (bench/check/tolerance.h): NMSE, the worst row, column and element against the
// ceilings of bench/check/tolerance.c, and for rows that round their inputs, both the reference on
// inputs rounded the same way (tight) and the exact one (loose).
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
    int64_t batch;            // matmul: x and y with this many slices along dim 2 (0 = 1)
    bool permuted;            // matmul x/y stored [ne0, ne2, ne1] (the batch dim inner)
    bool offset;              // device views start 2 or 4 bytes past an aligned address
    bool hot;                 // attention: |scores| ~ 100 (a softmax must subtract the max)
    bool broadcast;           // add: b is one row [k] added to every row (a bias)
    bool rope_ff;             // rope: with frequency factors (Llama 3's rope_freqs)
    // Test hook (`kiln ops` with KILN_OPS_PLANT_FAULT): after the kernel ran, one output value
    // is changed by a small amount, as a subtly wrong kernel would; the check must then fail.
    bool plant_fault;
    const char *dump_prefix;  // `kiln ops --dump`: write inputs and reference here (opcheck_dump.h)
};

struct kiln_check_result {
    bool ran;                 // false: the kernel declined the shape (see note)
    bool pass;
    double nmse, ceiling;     // against the (rounding-aware) reference
    double nmse_exact, ceiling_exact;  // against the exact reference (= the above if no rounding)
    // Localized errors, each over the mean reference energy of its unit: the worst output row,
    // column (index along ne0) and element; limits nmse ceiling x row/elem factor.
    double worst_row, worst_col, worst_elem, row_limit, elem_limit;
    double max_abs_err;
    bool guards_ok;           // no byte written outside the output view
    const char *why;          // the ceiling's derivation (tolerance.c)
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
