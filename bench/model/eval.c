// KL divergence / top-1 / delta-p between two models (eval.h). Both models see the same tokens
// in chunks of `chunk` (each chunk a fresh context, as llama.cpp's perplexity does), logits of
// every position come back, and the statistics accumulate in double.
#include "bench/model/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/model/model.h"

// log-softmax of n logits into out (double, for the sums).
static void log_softmax(const float *x, int64_t n, double *out) {
    double max = x[0];
    for (int64_t i = 1; i < n; i++)
        max = x[i] > max ? x[i] : max;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += exp((double)x[i] - max);
    const double lse = max + log(sum);
    for (int64_t i = 0; i < n; i++)
        out[i] = (double)x[i] - lse;
}

enum kiln_status kiln_eval_models(const char *base_path, const char *quant_path, struct kiln_device *dev,
                                  const int32_t *tokens, int64_t n, int64_t chunk, struct kiln_eval_result *out) {
    memset(out, 0, sizeof *out);
    struct kiln_model *a = NULL, *b = NULL;
    struct kiln_stream *s = NULL;
    KILN_TRY(kiln_stream_new(dev, &s));
    enum kiln_status st = kiln_model_load(base_path, dev, chunk, chunk, &a);
    if (st == KILN_OK)
        st = kiln_model_load(quant_path, dev, chunk, chunk, &b);
    const int64_t V = st == KILN_OK ? kiln_model_get_info(a)->n_vocab : 0;
    if (st == KILN_OK && kiln_model_get_info(b)->n_vocab != V)
        st = kiln_fail(KILN_E_INVALID, "eval: the models have different vocabularies (%lld vs %lld)", (long long)V,
                       (long long)kiln_model_get_info(b)->n_vocab);
    float *la = st == KILN_OK ? malloc(sizeof(float) * (size_t)(V * chunk)) : NULL;
    float *lb = st == KILN_OK ? malloc(sizeof(float) * (size_t)(V * chunk)) : NULL;
    double *pa = st == KILN_OK ? malloc(sizeof(double) * (size_t)V) : NULL;
    double *pb = st == KILN_OK ? malloc(sizeof(double) * (size_t)V) : NULL;
    if (st == KILN_OK && (!la || !lb || !pa || !pb))
        st = kiln_fail(KILN_E_NOMEM, "out of memory");
    double kl_sum = 0, dp2 = 0;
    int64_t agree = 0, n_dp = 0;
    for (int64_t c0 = 0; c0 < n && st == KILN_OK; c0 += chunk) {
        const int64_t len = n - c0 < chunk ? n - c0 : chunk;
        st = kiln_model_forward(a, s, tokens + c0, len, 0, la, false);
        if (st == KILN_OK)
            st = kiln_model_forward(b, s, tokens + c0, len, 0, lb, false);
        for (int64_t t = 0; t < len && st == KILN_OK; t++) {
            log_softmax(la + t * V, V, pa);
            log_softmax(lb + t * V, V, pb);
            double kl = 0;
            int64_t ta = 0, tb = 0;
            for (int64_t i = 0; i < V; i++) {
                kl += exp(pa[i]) * (pa[i] - pb[i]);
                ta = pa[i] > pa[ta] ? i : ta;
                tb = pb[i] > pb[tb] ? i : tb;
            }
            kl_sum += kl;
            out->max_kl = kl > out->max_kl ? kl : out->max_kl;
            agree += ta == tb;
            if (t + 1 < len) {  // the next token of the sequence
                const int32_t next = tokens[c0 + t + 1];
                const double d = exp(pb[next]) - exp(pa[next]);
                dp2 += d * d;
                n_dp++;
            }
            out->positions++;
        }
    }
    if (st == KILN_OK && out->positions) {
        out->mean_kl = kl_sum / (double)out->positions;
        out->top1_agreement = (double)agree / (double)out->positions;
        out->rms_dp = n_dp ? sqrt(dp2 / (double)n_dp) : 0;
    }
    free(la);
    free(lb);
    free(pa);
    free(pb);
    kiln_stream_free(s);  // first: it finishes work still recorded on a GPU stream
    kiln_model_free(a);
    kiln_model_free(b);
    return st;
}
