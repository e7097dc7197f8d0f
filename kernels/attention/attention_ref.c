// attention reference (the oracle for every attention kernel).
//
// For each (query head h, query i): scores s_j = scale * (q . k_j) in double over the visible
// keys, an exact softmax (max-subtracted, in double), out = sum_j p_j v_j in double. Threads
// split the (h, i) pairs; each keeps its scores and output accumulator in its workspace slice.
//
// Versions: v1 (this) plain loops. Test: `kiln ops --op attention`.
#include <math.h>

#include "kernels/attention/attention.h"
#include "quant/format/fp16.h"

static size_t ref_workspace(const struct kiln_op *op, int nth) {
    const size_t n_kv = (size_t)op->src[1].ne[1], d = (size_t)op->src[0].ne[0];
    return (size_t)nth * (n_kv + 2 * d) * sizeof(double);
}

static double element(const struct kiln_tensor *t, const void *row, int64_t l) {
    return t->type == KILN_TYPE_F16 ? (double)kiln_f16_to_f32(((const kiln_half *)row)[l])
                                    : (double)((const float *)row)[l];
}

static void ref_compute(const struct kiln_op *op, void *ws, int ith, int nth) {
    const struct kiln_tensor *q = &op->src[0], *k = &op->src[1], *v = &op->src[2], *o = &op->dst;
    const int64_t d = q->ne[0], n_q = q->ne[1], h_q = q->ne[2], h_kv = k->ne[2];
    const int64_t group = h_q / h_kv;
    const double scale = op->params.attention.scale;
    double *scores = (double *)ws + (size_t)ith * (size_t)(k->ne[1] + 2 * d);
    double *qd = scores + k->ne[1], *acc = qd + d;
    int64_t lo, hi;
    kiln_split(n_q * h_q, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const int64_t h = t / n_q, i = t % n_q, g = h / group;
        const float *qr = KILN_ROW(q, i, h, 0);
        for (int64_t l = 0; l < d; l++)
            qd[l] = qr[l];
        const int64_t visible = kiln_attention_visible(op, i);
        double max = -INFINITY;
        for (int64_t j = 0; j < visible; j++) {
            const void *kr = KILN_ROW(k, j, g, 0);
            double s = 0.0;
            for (int64_t l = 0; l < d; l++)
                s += qd[l] * element(k, kr, l);
            scores[j] = s * scale;
            if (scores[j] > max)
                max = scores[j];
        }
        double sum = 0.0;
        for (int64_t j = 0; j < visible; j++) {
            scores[j] = exp(scores[j] - max);
            sum += scores[j];
        }
        for (int64_t l = 0; l < d; l++)
            acc[l] = 0.0;
        for (int64_t j = 0; j < visible; j++) {
            const void *vr = KILN_ROW(v, j, g, 0);
            for (int64_t l = 0; l < d; l++)
                acc[l] += scores[j] * element(v, vr, l);
        }
        float *out = KILN_ROW(o, i, h, 0);
        for (int64_t l = 0; l < d; l++)
            out[l] = visible ? (float)(acc[l] / sum) : 0.0f;  // no visible key: defined as 0
    }
}

const struct kiln_cpu_kernel kiln_attention_ref = { .workspace = ref_workspace, .compute = ref_compute };
