// kiln imatrix's computation (imatrix_run.h).
#include "bench/model/imatrix_run.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/model/model.h"
#include "quant/file/gguf.h"

struct entry {
    char name[96];
    float *sum;       // k values: sum over tokens of x^2 (f32, accumulated token by token)
    int64_t k, count;
};

struct collector {
    struct entry *e;
    int n, cap;
    bool process_output;
};

static enum kiln_status collect(void *ctx, int64_t layer, const char *weight, const float *x, int64_t k, int64_t n) {
    struct collector *c = ctx;
    if (layer < 0 && !c->process_output)
        return KILN_OK;  // output.weight only with --process-output (llama-imatrix's default)
    struct entry *e = NULL;
    for (int i = c->n - 1; i >= 0 && !e; i--)
        if (!strcmp(c->e[i].name, weight))
            e = &c->e[i];
    if (!e) {
        if (c->n == c->cap) {
            const int cap = c->cap ? 2 * c->cap : 64;
            struct entry *ne = realloc(c->e, sizeof *ne * (size_t)cap);
            if (!ne)
                return kiln_fail(KILN_E_NOMEM, "out of memory");
            c->e = ne;
            c->cap = cap;
        }
        e = &c->e[c->n];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", weight);
        e->k = k;
        e->sum = calloc((size_t)k, sizeof(float));
        if (!e->sum)
            return kiln_fail(KILN_E_NOMEM, "out of memory");
        c->n++;
    }
    if (e->k != k)
        return kiln_fail(KILN_E_INVALID, "imatrix: %s takes %" PRId64 " columns, then %" PRId64, weight, e->k, k);
    for (int64_t j = 0; j < n; j++) {  // tokens in order, as llama's collector
        const float *row = x + j * k;
        float *acc = e->sum;
        for (int64_t i = 0; i < k; i++)
            acc[i] += row[i] * row[i];
    }
    e->count += n;
    for (int64_t i = 0; i < k; i++)
        if (!isfinite(e->sum[i]))
            return kiln_fail(KILN_E_FORMAT, "imatrix: non-finite activations entering %s (the model overflows on "
                             "these tokens)", weight);
    return KILN_OK;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

// llama-imatrix's GGUF layout: general.type, the three imatrix.* keys, then per weight (sorted
// by name) "<w>.in_sum2" [k, 1] and "<w>.counts" [1, 1], both f32.
static enum kiln_status write_imatrix(struct collector *c, const struct kiln_imatrix_run_options *o, int64_t chunks,
                                      const char *path) {
    qsort(c->e, (size_t)c->n, sizeof *c->e, by_name);
    struct kiln_gguf_writer *w = kiln_gguf_writer_new();
    float *counts = malloc(sizeof(float) * (size_t)(c->n + 1));
    if (!w || !counts) {
        kiln_gguf_writer_free(w);
        free(counts);
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    }
    const char *ds[1] = { o->dataset ? o->dataset : "" };
    enum kiln_status s = kiln_gguf_add_string(w, "general.type", "imatrix");
    if (s == KILN_OK)
        s = kiln_gguf_add_string_array(w, "imatrix.datasets", ds, o->dataset ? 1 : 0);
    if (s == KILN_OK)
        s = kiln_gguf_add_u32(w, "imatrix.chunk_count", (uint32_t)chunks);
    if (s == KILN_OK)
        s = kiln_gguf_add_u32(w, "imatrix.chunk_size", (uint32_t)o->n_ctx);
    for (int i = 0; i < c->n && s == KILN_OK; i++) {
        char name[128];
        const int64_t ne_sum[2] = { c->e[i].k, 1 }, ne_count[2] = { 1, 1 };
        counts[i] = (float)c->e[i].count;
        snprintf(name, sizeof name, "%s.in_sum2", c->e[i].name);
        s = kiln_gguf_add_tensor(w, name, KILN_TYPE_F32, 2, ne_sum, c->e[i].sum, NULL, NULL);
        snprintf(name, sizeof name, "%s.counts", c->e[i].name);
        if (s == KILN_OK)
            s = kiln_gguf_add_tensor(w, name, KILN_TYPE_F32, 2, ne_count, &counts[i], NULL, NULL);
    }
    if (s == KILN_OK)
        s = kiln_gguf_write(w, path);
    kiln_gguf_writer_free(w);
    free(counts);
    return s;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// -log p(next) of one logits row (log-sum-exp in double, as llama's perplexity helpers).
static double nll_of(const float *logits, int64_t n_vocab, int32_t next) {
    float mx = logits[0];
    for (int64_t i = 1; i < n_vocab; i++)
        mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int64_t i = 0; i < n_vocab; i++)
        sum += exp((double)(logits[i] - mx));
    return log(sum) - (double)(logits[next] - mx);
}

enum kiln_status kiln_imatrix_compute(const char *model_path, struct kiln_device *dev, const int32_t *tokens,
                                      int64_t n_tokens, const struct kiln_imatrix_run_options *o,
                                      const char *out_path, struct kiln_imatrix_run_stats *stats) {
    memset(stats, 0, sizeof *stats);
    const int64_t n_ctx = o->n_ctx;
    if (n_ctx < 16)
        return kiln_fail(KILN_E_INVALID, "imatrix: a context of %" PRId64 " tokens (at least 16: llama-imatrix "
                         "ignores smaller batches)", n_ctx);
    if (n_tokens < 2 * n_ctx)  // llama-imatrix's own minimum
        return kiln_fail(KILN_E_INVALID, "imatrix: %" PRId64 " tokens; a context of %" PRId64 " needs at least %" PRId64
                         " (two chunks): give more text or a smaller --ctx", n_tokens, n_ctx, 2 * n_ctx);
    int64_t chunks = n_tokens / n_ctx;
    if (o->n_chunks > 0 && o->n_chunks < chunks)
        chunks = o->n_chunks;
    const int64_t n_batch = n_ctx < 512 ? n_ctx : 512;
    struct kiln_model *m;
    KILN_TRY(kiln_model_load(model_path, dev, n_ctx, n_batch, &m));
    const struct kiln_model_info *info = kiln_model_get_info(m);
    const int64_t bos = o->bos;
    enum kiln_status s = KILN_OK;
    struct collector c = { .process_output = o->process_output };
    kiln_model_set_observer(m, collect, &c);
    struct kiln_stream *st = NULL;
    int32_t *chunk = malloc(sizeof(int32_t) * (size_t)n_ctx);
    float *logits = malloc(sizeof(float) * (size_t)(n_batch * info->n_vocab));
    if (s == KILN_OK && (!chunk || !logits))
        s = kiln_fail(KILN_E_NOMEM, "out of memory (logits of %" PRId64 " x %" PRId64 ")", n_batch, info->n_vocab);
    if (s == KILN_OK)
        s = kiln_stream_new(dev, &st);
    const bool progress = o->progress < 0 ? isatty(2) : o->progress;
    double nll = 0;
    int64_t scored = 0;
    const double t0 = now();
    for (int64_t ci = 0; ci < chunks && s == KILN_OK; ci++) {
        memcpy(chunk, tokens + ci * n_ctx, sizeof(int32_t) * (size_t)n_ctx);
        if (bos >= 0)
            chunk[0] = (int32_t)bos;
        for (int64_t b = 0; b < n_ctx && s == KILN_OK; b += n_batch) {
            const int64_t nb = n_ctx - b < n_batch ? n_ctx - b : n_batch;
            s = kiln_model_forward(m, st, chunk + b, nb, b, logits, false);
            // Perplexity over the chunk's second half (llama-imatrix: from n_ctx/2, each row
            // scored against the original next token).
            for (int64_t j = 0; j < nb && s == KILN_OK; j++) {
                const int64_t pos = b + j;
                if (pos >= n_ctx / 2 && pos + 1 < n_ctx) {
                    nll += nll_of(logits + j * info->n_vocab, info->n_vocab, tokens[ci * n_ctx + pos + 1]);
                    scored++;
                }
            }
        }
        stats->chunks = ci + 1;
        if (progress && s == KILN_OK) {
            const double el = now() - t0, tps = (double)((ci + 1) * n_ctx) / (el > 0 ? el : 1e-9);
            fprintf(stderr, "\r  chunk %" PRId64 "/%" PRId64 "  %8.1f tokens/s  ETA %5.0f s  PPL %.4f", ci + 1, chunks,
                    tps, (double)((chunks - ci - 1) * n_ctx) / tps, exp(nll / (double)(scored ? scored : 1)));
            if (ci + 1 == chunks)
                fprintf(stderr, "\n");
        }
    }
    stats->seconds = now() - t0;
    stats->tokens = stats->chunks * n_ctx;
    stats->ppl = scored ? exp(nll / (double)scored) : 0;
    if (s == KILN_OK && c.n == 0)
        s = kiln_fail(KILN_E_INVALID, "imatrix: no matmul was observed");
    if (s == KILN_OK)
        s = write_imatrix(&c, o, stats->chunks, out_path);
    stats->entries = c.n;
    for (int i = 0; i < c.n; i++)
        free(c.e[i].sum);
    free(c.e);
    free(chunk);
    free(logits);
    kiln_stream_free(st);
    kiln_model_free(m);
    return s;
}
