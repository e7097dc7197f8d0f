// dequant reference: each row through the type's reference to_float; f16 output converted
// element by element with the scalar RNE conversion. Threads split the rows.
//
// Versions: v1 (this). Test: `kiln ops --op dequant`.
#include "kernels/dequant/dequant.h"
#include "quant/format/fp16.h"

static size_t ref_workspace(const struct kiln_op *op, int nth) {
    return op->dst.type == KILN_TYPE_F16 ? (size_t)nth * (size_t)op->dst.ne[0] * sizeof(float) : 0;
}

static void ref_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *x = &op->src[0], *y = &op->dst;
    const int64_t k = x->ne[0];
    const kiln_to_float_fn to_float = kiln_type_traits(x->type)->to_float;
    float *tmp = (float *)ws + (size_t)ith * (size_t)k;
    int64_t lo, hi;
    kiln_split(kiln_tensor_nrows(x), ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        if (y->type == KILN_TYPE_F32) {
            to_float(kiln_tensor_row(x, r), kiln_tensor_row(y, r), k);
            continue;
        }
        to_float(kiln_tensor_row(x, r), tmp, k);
        kiln_half *out = kiln_tensor_row(y, r);
        for (int64_t l = 0; l < k; l++)
            out[l] = kiln_f32_to_f16(tmp[l]);
    }
}

const struct kiln_cpu_kernel kiln_dequant_ref = { .workspace = ref_workspace, .compute = ref_compute };
