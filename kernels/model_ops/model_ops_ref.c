// Model ops, reference versions (model_ops.h). Shapes:
//   rmsnorm  x, dst [ne0, rows...] f32; w [ne0] f32 or absent. y = x / sqrt(mean(x^2) + eps) * w
//   rope     x, dst [D, H, n] f32; pos [n] i32. Pair (a, b) of head dims rotates by
//            theta = pos * base^(-2i/n_dims): normal pairs (2i, 2i+1), neox pairs (i, i + n_dims/2).
//            Dims >= n_dims pass through. dst may alias x.
//   swiglu   y = gate / (1 + exp(-gate)) * up
//   add      y = a + b
//   get_rows dst[i] = to_float(table[ids[i]])
//   copy     dst = from_float(to_float(src)) row by row (f32 -> f16 for K/V cache writes)
//
// Versions: v1 (this). Test: `kiln ops --op rmsnorm` (and rope, swiglu, add, get_rows, copy).
#include <math.h>

#include "kernels/model_ops/model_ops.h"

static void rows_of(const struct kiln_tensor *t, int ith, int nth, int64_t *lo, int64_t *hi) {
    kiln_split(kiln_tensor_nrows(t), ith, nth, lo, hi);
}

static void rmsnorm_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    const struct kiln_tensor *x = &op->src[0], *y = &op->dst;
    const float *w = op->n_src == 2 ? kiln_tensor_row(&op->src[1], 0) : NULL;
    const int64_t n = x->ne[0];
    int64_t lo, hi;
    rows_of(x, ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const float *xr = kiln_tensor_row(x, r);
        float *yr = kiln_tensor_row(y, r);
        double sum = 0.0;
        for (int64_t l = 0; l < n; l++)
            sum += (double)xr[l] * xr[l];
        const double scale = 1.0 / sqrt(sum / (double)n + op->params.rmsnorm.eps);
        for (int64_t l = 0; l < n; l++)
            yr[l] = (float)(xr[l] * scale * (w ? w[l] : 1.0));
    }
}

static void rope_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    const struct kiln_tensor *x = &op->src[0], *y = &op->dst;
    const struct kiln_rope_params *p = &op->params.rope;
    const int32_t *pos = kiln_tensor_row(&op->src[1], 0);
    const int64_t d = x->ne[0], half = p->n_dims / 2;
    int64_t lo, hi;
    rows_of(x, ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const int64_t token = r / x->ne[1];
        const float *xr = kiln_tensor_row(x, r);
        float *yr = kiln_tensor_row(y, r);
        for (int64_t i = 0; i < half; i++) {
            const double ff = p->has_freq_factors ? p->freq_factors[i] : 1.0;
            const double theta = pos[token] * pow(p->theta_base, -2.0 * (double)i / p->n_dims) / ff;
            const int64_t a = p->mode == KILN_ROPE_NEOX ? i : 2 * i;
            const int64_t b = p->mode == KILN_ROPE_NEOX ? i + half : 2 * i + 1;
            const double x0 = xr[a], x1 = xr[b], c = cos(theta), s = sin(theta);
            yr[a] = (float)(x0 * c - x1 * s);
            yr[b] = (float)(x0 * s + x1 * c);
        }
        for (int64_t l = p->n_dims; l < d; l++)
            yr[l] = xr[l];
    }
}

static void swiglu_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    const int64_t n = op->dst.ne[0];
    int64_t lo, hi;
    rows_of(&op->dst, ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const float *g = kiln_tensor_row(&op->src[0], r), *u = kiln_tensor_row(&op->src[1], r);
        float *y = kiln_tensor_row(&op->dst, r);
        for (int64_t l = 0; l < n; l++)
            y[l] = (float)((double)g[l] / (1.0 + exp(-(double)g[l])) * u[l]);
    }
}

static void add_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    const int64_t n = op->dst.ne[0];
    int64_t lo, hi;
    rows_of(&op->dst, ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const float *a = kiln_tensor_row(&op->src[0], r), *b = kiln_tensor_row(&op->src[1], r);
        float *y = kiln_tensor_row(&op->dst, r);
        for (int64_t l = 0; l < n; l++)
            y[l] = a[l] + b[l];
    }
}

static void get_rows_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    (void)ws;
    const struct kiln_tensor *table = &op->src[0], *y = &op->dst;
    const int32_t *ids = kiln_tensor_row(&op->src[1], 0);
    const kiln_to_float_fn to_float = kiln_type_traits(table->type)->to_float;
    int64_t lo, hi;
    kiln_split(y->ne[1], ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++)
        to_float(KILN_ROW(table, ids[i], 0, 0), KILN_ROW(y, i, 0, 0), table->ne[0]);
}

static size_t copy_workspace(const struct kiln_op *op, int nth) {
    return (size_t)nth * (size_t)op->dst.ne[0] * sizeof(float);
}

static void copy_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *x = &op->src[0], *y = &op->dst;
    const kiln_to_float_fn to_float = kiln_type_traits(x->type)->to_float;
    const kiln_from_float_fn from_float = kiln_type_traits(y->type)->from_float;
    float *tmp = (float *)ws + (size_t)ith * (size_t)x->ne[0];
    int64_t lo, hi;
    rows_of(x, ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        to_float(kiln_tensor_row(x, r), tmp, x->ne[0]);
        from_float(tmp, kiln_tensor_row(y, r), x->ne[0]);
    }
}

const struct kiln_cpu_kernel kiln_rmsnorm_ref = { .compute = rmsnorm_compute };
const struct kiln_cpu_kernel kiln_rope_ref = { .compute = rope_compute };
const struct kiln_cpu_kernel kiln_swiglu_ref = { .compute = swiglu_compute };
const struct kiln_cpu_kernel kiln_add_ref = { .compute = add_compute };
const struct kiln_cpu_kernel kiln_get_rows_ref = { .compute = get_rows_compute };
const struct kiln_cpu_kernel kiln_copy_ref = { .workspace = copy_workspace, .compute = copy_compute };
