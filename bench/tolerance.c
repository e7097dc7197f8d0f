// NMSE ceilings (tolerance.h). Each entry says why its number is what it is; a ceiling is
// loosened only with a reason written here.
#include "bench/tolerance.h"

#include "backends/kernel.h"

struct entry {
    enum kiln_op_kind op;
    enum kiln_type type;   // KILN_TYPE_ANY = every type of the op not listed before
    double nmse;
    const char *why;
};

static const struct entry table[] = {
    // Quantized weights: fast kernels quantize x to Q8_0 (as ggml does); that rounding error is
    // ~3e-5 NMSE on Gaussian data. 5e-4 is ggml's test-backend-ops ceiling for mul_mat.
    { KILN_OP_MATMUL, KILN_TYPE_Q8_0, 5e-4, "x quantized to Q8_0 on the fly (ggml: 5e-4)" },
    { KILN_OP_MATMUL, KILN_TYPE_Q4_0, 5e-4, "x quantized to Q8_0 on the fly (ggml: 5e-4)" },
    { KILN_OP_MATMUL, KILN_TYPE_Q4_1, 5e-4, "x may be quantized to Q8_1 (ggml: 5e-4)" },
    { KILN_OP_MATMUL, KILN_TYPE_Q5_0, 5e-4, "x may be quantized to Q8_0 (ggml: 5e-4)" },
    { KILN_OP_MATMUL, KILN_TYPE_Q5_1, 5e-4, "x may be quantized to Q8_1 (ggml: 5e-4)" },
    // Float weights with f32 x: only f32 accumulation-order error, ~k * eps^2.
    { KILN_OP_MATMUL, KILN_TYPE_ANY, 1e-9, "f32 accumulation vs double" },
    { KILN_OP_ATTENTION, KILN_TYPE_ANY, 1e-7, "f32 scores, expf and accumulation vs double" },
    // Dequantization is exact in f32 (spec §1.4), and one RNE rounding to f16: bit-exact.
    { KILN_OP_DEQUANT, KILN_TYPE_ANY, 0.0, "exact (spec §1.4)" },
    { KILN_OP_GET_ROWS, KILN_TYPE_ANY, 0.0, "exact (a dequantized row)" },
    { KILN_OP_ADD, KILN_TYPE_ANY, 0.0, "one f32 addition: exact" },
    { KILN_OP_COPY, KILN_TYPE_F32, 0.0, "exact" },
    { KILN_OP_COPY, KILN_TYPE_F16, 0.0, "one RNE rounding: exact" },
    { KILN_OP_COPY, KILN_TYPE_BF16, 0.0, "one RNE rounding: exact" },
    { KILN_OP_COPY, KILN_TYPE_ANY, 1e-6, "quantized destination: rounding ties may differ" },
    { KILN_OP_RMSNORM, KILN_TYPE_ANY, 1e-10, "f32 sum of squares vs double" },
    { KILN_OP_ROPE, KILN_TYPE_ANY, 1e-10, "f32 sin/cos vs double" },
    { KILN_OP_SWIGLU, KILN_TYPE_ANY, 1e-10, "f32 exp vs double" },
};

static const struct entry *find(enum kiln_op_kind op, enum kiln_type type) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].op == op && (table[i].type == type || table[i].type == KILN_TYPE_ANY))
            return &table[i];
    }
    return NULL;
}

double kiln_tolerance_nmse(enum kiln_op_kind op, enum kiln_type type) {
    const struct entry *e = find(op, type);
    return e ? e->nmse : 0.0;
}

double kiln_tolerance_for_kernel(enum kiln_op_kind op, enum kiln_type type, const struct kiln_kernel *kernel) {
    const double ceiling = kiln_tolerance_nmse(op, type);
    return kernel && kernel->nmse_ceiling > ceiling ? kernel->nmse_ceiling : ceiling;
}

const char *kiln_tolerance_reason(enum kiln_op_kind op, enum kiln_type type) {
    const struct entry *e = find(op, type);
    return e ? e->why : "no entry: must be exact";
}
