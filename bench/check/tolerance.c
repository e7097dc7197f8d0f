// Error ceilings (tolerance.h). Each entry carries its derivation; a ceiling changes only with
// a reason written here. Notation: u = 2^-24 (f32 unit roundoff), u16 = 2^-11 (f16's).
//
// The f32 accumulation class: a k-term dot product accumulated in f32 against the double
// reference has relative error variance about k u^2 / 3 (random-walk rounding), so NMSE ~
// 4.8e-12 at the largest k checked (4097). Measured on the AVX2 machine: <= 2.1e-13 (CPU GEMV),
// 1.8e-12 (Vulkan GEMM on lavapipe). 1e-10 leaves 20x over the estimate for summation orders
// (split-K, tree reductions) and refuses every lower-precision shortcut: one f16 rounding of an
// input adds u16^2 / 3 = 8.1e-8, bf16 5.1e-6.
//
// Localized checks (opcheck.c): a row's or column's own NMSE (its energy floored at 1% of the
// mean), an element's squared error over the mean element energy. For a correct kernel the
// f32 error of a row scales with the row, so its own NMSE is the global one within the spread
// of a chi-square over >= 7 terms (a few x); the largest of N squared element errors is about
// 2 ln N (~30 at N = 5e5) times the mean, more where outlier rows make some outputs large.
// Measured worst on this suite: row 3e-12, element 4e-10 (the 1e-12-NMSE GEMMs). So
// row_factor 30 and elem_factor 1000 pass correct kernels with room, while one element off by
// 1e-3 of a typical output (1e-6 of the mean energy) fails any 1e-10 ceiling.
#include "bench/check/tolerance.h"

#include <stddef.h>

enum { ROW_FACTOR = 30, ELEM_FACTOR = 1000 };
#define F32_ACCUM 1e-10

struct entry {
    enum kiln_op_kind op;
    enum kiln_type type;   // KILN_TYPE_ANY = every type of the op not listed before
    double nmse, row_factor, elem_factor;
    const char *why;
};

static const struct entry table[] = {
    // Matmul, every weight type: W dequantized exactly (spec §1.4), then the f32 class above.
    // Rows that quantize x are judged against the reference on x quantized their way.
    { KILN_OP_MATMUL, KILN_TYPE_ANY, F32_ACCUM, ROW_FACTOR, ELEM_FACTOR,
      "f32 accumulation vs double: k u^2/3 = 4.8e-12 at k = 4097, x20" },
    // Attention: d-term scores (d <= 128), an n_kv-term normaliser and P.V (n_kv <= 1000) in
    // f32, expf within 2 ulp: the f32 class with k ~ 1100 (1.3e-12). f16 probabilities would
    // add 8e-8; a softmax that does not subtract the max overflows on the large-score cases.
    // Those (|s| up to ~1e3 with the outlier rows) measured <= 9.4e-14 on CPU and lavapipe: a
    // near one-hot softmax is insensitive to its scores' rounding, so they need no more room.
    { KILN_OP_ATTENTION, KILN_TYPE_ANY, F32_ACCUM, ROW_FACTOR, ELEM_FACTOR,
      "f32 scores, softmax and P.V vs double: k u^2/3 at k ~ 1100, x75" },
    // Dequantization is exact in f32 (spec §1.4), and one RNE rounding to f16: bit-exact.
    { KILN_OP_DEQUANT, KILN_TYPE_ANY, 0.0, 0, 0, "exact (spec §1.4): any difference fails" },
    { KILN_OP_GET_ROWS, KILN_TYPE_ANY, 0.0, 0, 0, "exact (a dequantized row)" },
    { KILN_OP_ADD, KILN_TYPE_ANY, 0.0, 0, 0, "one f32 addition, correctly rounded: exact" },
    { KILN_OP_COPY, KILN_TYPE_F32, 0.0, 0, 0, "exact" },
    { KILN_OP_COPY, KILN_TYPE_F16, 0.0, 0, 0, "one RNE rounding: exact" },
    { KILN_OP_COPY, KILN_TYPE_BF16, 0.0, 0, 0, "one RNE rounding: exact" },
    // A quantized destination: the reference quantizers' arithmetic (amax/127, 1/d, roundf) is
    // reproducible only with correctly rounded division, which GLSL does not promise
    // (copy_quant.comp: lavapipe moves one code of 8192 one step). One Q8_0 step at one element
    // is d^2 = (amax/127)^2 ~ 4e-4 of the mean square (Gaussian amax ~ 2.5 sigma), so the
    // whole-output ceiling allows a few such codes in 8192 (1e-6), a wrong scale or a wrong
    // block exceeds it. In an outlier block (amax 30 sigma) one step is ~0.35 of the mean square
    // and a near-zero row or column can hold it, so the localized limits are left wide (1e6:
    // an element within one rms); this destination is judged by its NMSE. CPU and CUDA divide
    // exactly: measured 0.
    { KILN_OP_COPY, KILN_TYPE_ANY, 1e-6, 1e6, 1e6,
      "quantized destination: a code at a rounding boundary may move one step" },
    // rmsnorm: a k-term sum of squares (k <= 4096) then one rsqrt: the f32 class (4.7e-12).
    { KILN_OP_RMSNORM, KILN_TYPE_ANY, F32_ACCUM, ROW_FACTOR, ELEM_FACTOR,
      "f32 sum of squares vs double: k u^2/3 at k = 4096, x20" },
    // rope: the reference takes theta = pos * base^(-2i/n) in double. An angle formed in f32 at
    // pos ~ 3e4 is off by ~pos u = 2e-3 rad (NMSE ~1e-6): kernels must form it as precisely
    // (double, or a table), which this ceiling enforces; then only one f32 rotation is left.
    { KILN_OP_ROPE, KILN_TYPE_ANY, F32_ACCUM, ROW_FACTOR, ELEM_FACTOR,
      "one f32 rotation by an angle formed in double: a few u^2" },
    // swiglu: one expf (<= 2 ulp), a division and a product: a few u^2 per element.
    { KILN_OP_SWIGLU, KILN_TYPE_ANY, F32_ACCUM, ROW_FACTOR, ELEM_FACTOR,
      "f32 expf, division and product: a few u^2" },
};

static const struct entry *find(enum kiln_op_kind op, enum kiln_type type) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].op == op && (table[i].type == type || table[i].type == KILN_TYPE_ANY))
            return &table[i];
    }
    return NULL;
}

// The noise an f16 rounding adds, as a fraction of the squared input (u16^2/3 per rounded
// input), for the benchmark's statistical bound; 0 for the Q8 roundings (their constant below).
static double f16_rounding_noise(enum kiln_input_rounding rounding) {
    const double u16 = 1.0 / 2048.0;
    switch (rounding) {
    case KILN_ROUND_X_F16:
    case KILN_ROUND_Q_F16: return u16 * u16 / 3.0;
    case KILN_ROUND_WX_F16: return 2.0 * u16 * u16 / 3.0;
    case KILN_ROUND_X_BF16: return (1.0 / 256.0) * (1.0 / 256.0) / 3.0;  // u = 2^-8
    default: return 0.0;
    }
}

const char *kiln_rounding_name(enum kiln_input_rounding rounding) {
    switch (rounding) {
    case KILN_ROUND_NONE: return "none";
    case KILN_ROUND_X_Q8_0_INV127: return "x to Q8_0 (codes x*127/amax)";
    case KILN_ROUND_X_Q8_0_INVD: return "x to Q8_0 (codes x/d)";
    case KILN_ROUND_X_Q8_0_INVD_F32: return "x to Q8_0 (codes x/d, f32 d)";
    case KILN_ROUND_X_Q8_K: return "x to Q8_K (codes x*-127/max, f32 d)";
    case KILN_ROUND_X_F16: return "x to f16";
    case KILN_ROUND_WX_F16: return "W and x to f16";
    case KILN_ROUND_X_BF16: return "x to bf16";
    case KILN_ROUND_Q_F16: return "q to f16";
    }
    return "?";
}

struct kiln_ceiling kiln_ceiling_for(const struct kiln_op *op, enum kiln_type type,
                                     const struct kiln_kernel *kernel) {
    struct kiln_ceiling c = { .why = "no entry: must be exact" };
    const struct entry *e = find(op->kind, type);
    if (e) {
        c.nmse = c.exact_nmse = e->nmse;
        c.row_factor = e->row_factor;
        c.elem_factor = e->elem_factor;
        c.why = e->why;
    }
    c.rounding = kernel && kernel->rounding ? kernel->rounding(op) : KILN_ROUND_NONE;
    switch (c.rounding) {
    case KILN_ROUND_NONE: break;
    case KILN_ROUND_X_Q8_0_INV127:
    case KILN_ROUND_X_Q8_0_INVD:
    case KILN_ROUND_X_Q8_0_INVD_F32:
    case KILN_ROUND_X_Q8_K:  // the same step amax/127, over 256 elements: a little more noise
        // Rounding x to steps of d = amax/127 adds d^2/12 per element; for Gaussian blocks of
        // 32, E[amax^2] ~ 4.9 sigma^2, so NMSE ~ 4.9 / (127^2 * 12) = 2.5e-5 (1.7e-5 simulated).
        // 1e-4 is 4x that: enough for the benchmark's large Gaussian shapes; `kiln ops` bounds
        // the difference by the actual rounding errors instead (opcheck_rounding.c).
        c.exact_nmse = 1e-4;
        c.why = "tight vs x rounded the row's way (f32 class); loose vs exact: the rounding's worst case";
        break;
    case KILN_ROUND_X_F16:
    case KILN_ROUND_WX_F16:
    case KILN_ROUND_Q_F16:  // scores of unit spread: an output moves about as much as one input
        c.exact_nmse = 3.0 * f16_rounding_noise(c.rounding) + c.nmse;
        c.why = "tight vs inputs rounded to f16 (f32 class); loose vs exact: the rounding's worst case";
        break;
    case KILN_ROUND_X_BF16:
        c.exact_nmse = 3.0 * f16_rounding_noise(c.rounding) + c.nmse;
        c.why = "tight vs x rounded to bf16 (f32 class); loose vs exact: the rounding's worst case";
        break;
    }
    return c;
}
