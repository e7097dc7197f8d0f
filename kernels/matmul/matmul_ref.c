// matmul reference (the oracle for every matmul kernel on every backend).
//
// y[j][i] = sum_l W[i][l] * x[j][l] with W's row i dequantized exactly by the type's reference
// to_float and the sum accumulated in double. Threads split the m output units; each thread
// dequantizes one W row at a time into its slice of the workspace.
//
// Versions: v1 (this) plain loops. Test: `kiln ops --op matmul`.
#include "kernels/matmul/matmul.h"
#include "quant/format/quant_ref.h"

static size_t ref_workspace(const struct kiln_op *op, int nth) {
    return (size_t)nth * (size_t)op->src[0].ne[0] * sizeof(float);
}

static void ref_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *w = &op->src[0], *x = &op->src[1], *y = &op->dst;
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    const kiln_to_float_fn to_float = kiln_type_traits(w->type)->to_float;
    float *wrow = (float *)ws + (size_t)ith * (size_t)k;
    int64_t lo, hi;
    kiln_split(m, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        to_float(KILN_ROW(w, i, 0, 0), wrow, k);
        for (int64_t j = 0; j < n; j++) {
            const float *xr = KILN_ROW(x, j, 0, 0);
            double acc = 0.0;
            for (int64_t l = 0; l < k; l++)
                acc += (double)wrow[l] * (double)xr[l];
            ((float *)KILN_ROW(y, j, 0, 0))[i] = (float)acc;
        }
    }
}

const struct kiln_cpu_kernel kiln_matmul_ref = { .workspace = ref_workspace, .compute = ref_compute };

enum kiln_status kiln_matmul_supports_gemv(const struct kiln_op *op) {
    if (op->src[1].ne[1] >= KILN_MATMUL_GEMM_MIN_N)
        return kiln_fail(KILN_E_UNSUPPORTED, "gemv kernel takes n < %d", KILN_MATMUL_GEMM_MIN_N);
    return KILN_OK;
}

enum kiln_status kiln_matmul_supports_gemm(const struct kiln_op *op) {
    if (op->src[1].ne[1] < KILN_MATMUL_GEMM_MIN_N)
        return kiln_fail(KILN_E_UNSUPPORTED, "gemm kernel takes n >= %d", KILN_MATMUL_GEMM_MIN_N);
    return KILN_OK;
}

// x quantized to Q8_K rows for the K-quant kernels of every ISA (x86 and NEON): kiln's reference
// quantize_row_q8_K, which is what their tables' KILN_ROUND_X_Q8_K names.
static size_t xq8k_row_bytes(const struct kiln_op *op) { return kiln_row_size(KILN_TYPE_Q8_K, op->src[1].ne[0]); }

size_t kiln_matmul_xq8k_workspace(const struct kiln_op *op, int nth) {
    (void)nth;
    return (size_t)op->src[1].ne[1] * xq8k_row_bytes(op);
}

void kiln_matmul_xq8k_prepare(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *x = &op->src[1];
    int64_t lo, hi;
    kiln_split(x->ne[1], ith, nth, &lo, &hi);
    for (int64_t j = lo; j < hi; j++)
        kiln_quantize_q8_K_ref(KILN_ROW(x, j, 0, 0), (char *)ws + (size_t)j * xq8k_row_bytes(op), x->ne[0]);
}
