// The benchmark timing loop (harness.h).
#include "bench/timing/harness.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "bench/timing/stats.h"

struct kiln_bench_config kiln_bench_config_default(void) {
    return (struct kiln_bench_config){ .min_time = 0.1, .warmup_time = 0.05, .min_reps = 9,
                                       .max_reps = 30, .max_cv = 0.01, .timeout = 20.0 };
}

static double clock_seconds(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// One repetition of `iters` iterations; device seconds and process CPU seconds in total.
static enum kiln_status run_rep(struct kiln_stream *s, struct kiln_timer *timer, kiln_bench_body body,
                                void *ctx, int64_t iters, int64_t *next_i, double *real, double *cpu) {
    const double cpu0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    KILN_TRY(kiln_timer_start(timer));
    for (int64_t i = 0; i < iters; i++)
        KILN_TRY(body(ctx, (*next_i)++));
    KILN_TRY(kiln_timer_stop(timer));
    KILN_TRY(kiln_stream_sync(s));
    *cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    return kiln_timer_elapsed(timer, real);
}

// GB's growth rule: the iteration count whose repetition lasts at least `target` seconds.
static enum kiln_status grow(struct kiln_stream *s, struct kiln_timer *timer, kiln_bench_body body,
                             void *ctx, double target, int64_t *next_i, int64_t *iters_out) {
    int64_t iters = 1;
    for (;;) {
        double real, cpu;
        KILN_TRY(run_rep(s, timer, body, ctx, iters, next_i, &real, &cpu));
        if (real >= target || iters >= (int64_t)1e9)
            break;
        const double mult = real / target <= 0.1 ? 10.0 : 1.4 * target / fmax(real, 1e-9);
        const int64_t next = (int64_t)llround(mult * (double)iters);
        iters = next > iters + 1 ? next : iters + 1;
    }
    *iters_out = iters;
    return KILN_OK;
}

static enum kiln_status measure(struct kiln_stream *s, struct kiln_timer *timer,
                                const struct kiln_bench_config *cfg, kiln_bench_body body, void *ctx,
                                struct kiln_bench_result *out) {
    int64_t next_i = 0, iters;
    if (cfg->warmup_time > 0)
        KILN_TRY(grow(s, timer, body, ctx, cfg->warmup_time, &next_i, &iters));
    KILN_TRY(grow(s, timer, body, ctx, cfg->min_time, &next_i, &out->iterations));
    const double start = clock_seconds(CLOCK_MONOTONIC);
    const int max_reps = cfg->max_reps < KILN_BENCH_MAX_REPS ? cfg->max_reps : KILN_BENCH_MAX_REPS;
    while (out->reps < max_reps) {
        double real, cpu;
        KILN_TRY(run_rep(s, timer, body, ctx, out->iterations, &next_i, &real, &cpu));
        out->real[out->reps] = real / (double)out->iterations;
        out->cpu[out->reps] = cpu / (double)out->iterations;
        out->reps++;
        if (out->reps < cfg->min_reps)
            continue;
        if (kiln_stats_compute(out->real, out->reps).cv <= cfg->max_cv ||
            clock_seconds(CLOCK_MONOTONIC) - start > cfg->timeout)
            break;
    }
    return KILN_OK;
}

enum kiln_status kiln_bench_measure(struct kiln_stream *s, const struct kiln_bench_config *cfg,
                                    kiln_bench_body body, void *ctx, struct kiln_bench_result *out) {
    memset(out, 0, sizeof *out);
    struct kiln_timer *timer;
    KILN_TRY(kiln_timer_new(s, &timer));
    const enum kiln_status st = measure(s, timer, cfg, body, ctx, out);
    kiln_timer_free(timer);
    return st;
}
