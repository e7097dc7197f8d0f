// Model benchmarks (bench_model.h).
#include "bench/model/bench_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "quant/synth/rng.h"

// Fills positions [0, depth) with random tokens in batches (the cache contents a long prompt
// would leave; values do not change the speed).
static enum kiln_status fill(struct kiln_model *m, struct kiln_stream *s, int64_t depth, int32_t *buf) {
    const struct kiln_model_info *c = kiln_model_get_info(m);
    for (int64_t p = 0; p < depth; p += c->n_batch) {
        const int64_t n = depth - p < c->n_batch ? depth - p : c->n_batch;
        KILN_TRY(kiln_model_forward(m, s, buf, n, p, NULL, true));
    }
    return kiln_stream_sync(s);
}

double kiln_model_layer_params(const struct kiln_model_info *c) {
    const double hd = (double)c->head_dim, e = (double)c->n_embd;
    return 2.0 * e * c->n_head * hd + 2.0 * e * c->n_head_kv * hd + 3.0 * e * c->n_ff;
}

enum kiln_status kiln_model_bench_run(struct kiln_model *m, struct kiln_stream *s, int64_t n_prompt,
                                      int64_t n_gen, int64_t depth, int reps, struct kiln_model_bench *out) {
    memset(out, 0, sizeof *out);
    const struct kiln_model_info *c = kiln_model_get_info(m);
    const bool pp = n_prompt > 0;
    out->tokens = pp ? n_prompt : n_gen;
    snprintf(out->test, sizeof out->test, "%s%lld", pp ? "pp" : "tg", (long long)out->tokens);
    if (depth)
        snprintf(out->test + strlen(out->test), sizeof out->test - strlen(out->test), " @ d%lld", (long long)depth);
    if (depth + out->tokens > c->n_ctx || (pp && n_prompt > c->n_batch))
        return kiln_fail(KILN_E_INVALID, "bench model: %s needs a context of %lld and batch %lld", out->test,
                         (long long)(depth + out->tokens), (long long)(pp ? n_prompt : 1));
    const int64_t need = depth > out->tokens ? depth : out->tokens;
    int32_t *tokens = malloc(sizeof(int32_t) * (size_t)(need > c->n_batch ? need : c->n_batch));
    float *logits = malloc(sizeof(float) * (size_t)c->n_vocab);
    if (!tokens || !logits) {
        free(tokens);
        free(logits);
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    }
    struct kiln_rng rng = kiln_rng_seed(42);
    for (int64_t i = 0; i < (need > c->n_batch ? need : c->n_batch); i++)
        tokens[i] = (int32_t)(kiln_rng_next(&rng) % (uint64_t)c->n_vocab);
    struct kiln_timer *t = NULL;
    enum kiln_status st = kiln_timer_new(s, &t);
    reps = reps < KILN_BENCH_MAX_REPS ? reps : KILN_BENCH_MAX_REPS;
    for (int r = -1; r < reps && st == KILN_OK; r++) {  // r = -1: warm-up, not recorded
        st = fill(m, s, depth, tokens);
        struct kiln_model_fallback fb;
        kiln_model_fallback_take(m, &fb);  // what the warm-up and the fill ran is not counted
        if (st == KILN_OK)
            st = kiln_timer_start(t);
        if (pp) {
            if (st == KILN_OK)
                st = kiln_model_forward(m, s, tokens, n_prompt, depth, logits, true);
        } else {
            int32_t next = tokens[0];
            for (int64_t g = 0; g < n_gen && st == KILN_OK; g++) {
                st = kiln_model_forward(m, s, &next, 1, depth + g, logits, true);
                next = (int32_t)(g * 7919 % c->n_vocab);  // any valid token: the values do not matter
            }
        }
        if (st == KILN_OK)
            st = kiln_timer_stop(t);
        if (st == KILN_OK)
            st = kiln_stream_sync(s);
        double sec = 0;
        if (st == KILN_OK)
            st = kiln_timer_elapsed(t, &sec);
        kiln_model_fallback_take(m, &fb);
        if (st == KILN_OK && r >= 0) {
            out->seconds[out->reps++] = sec;
            out->fallback.calls += fb.calls;
            out->fallback.seconds = fb.seconds < 0 ? -1.0 : out->fallback.seconds + fb.seconds;
            if (fb.calls)
                memcpy(out->fallback.tensors, fb.tensors, sizeof fb.tensors);
        }
    }
    kiln_timer_free(t);
    free(tokens);
    free(logits);
    // Decode reads every weight once per token, plus the K/V cache so far (average over the run).
    const double kv_per_pos = 2.0 * (double)c->n_layer * (double)c->n_head_kv * (double)c->head_dim * 2.0;
    out->bytes_per_token = (double)c->weight_bytes + kv_per_pos * ((double)depth + (double)(out->tokens - 1) / 2.0);
    // FLOPs: 2 per weight of the layer matmuls per token; attention 4 * heads * head_dim per
    // (query, key) pair, with the average number of keys a token sees (causal); the output
    // matmul once per prefill (only the last position's logits) and once per decoded token.
    const double hd = (double)c->head_dim, e = (double)c->n_embd;
    const double layer_weights = kiln_model_layer_params(c);
    const double avg_keys = (double)depth + ((double)out->tokens + 1.0) / 2.0;
    const double output = 2.0 * (double)c->n_vocab * e * (pp ? 1.0 / (double)out->tokens : 1.0);
    out->flops_per_token = (double)c->n_layer * (2.0 * layer_weights + 4.0 * c->n_head * hd * avg_keys) + output;
    struct kiln_memory_info mem;
    if (kiln_device_memory(kiln_stream_device(s), &mem) == KILN_OK)
        out->device_peak = mem.peak;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        out->rss_peak = (uint64_t)ru.ru_maxrss * 1024;
    return st;
}
