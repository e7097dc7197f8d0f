// The timing loop every kiln benchmark uses (spec/benchmark-json.md §3-4):
//   warm-up: the growth loop run once for `warmup_time` and discarded;
//   iteration count: Google Benchmark's growth rule (start at 1; x10 while under 10% of
//     min_time, else x1.4 * min_time / elapsed) until one repetition lasts >= min_time; found
//     once, then reused by every repetition;
//   repetitions: at least min_reps, then more until the cv of the per-iteration times falls
//     under max_cv (nvbench's stdrel criterion), up to max_reps or `timeout` seconds.
// Times come from the device timer of the stream (GPU time on GPUs, a monotonic clock on the
// CPU); cpu_time is the process CPU time (all threads) per iteration.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"

#define KILN_BENCH_MAX_REPS 64

struct kiln_bench_config {
    double min_time;     // seconds per repetition (default 0.1)
    double warmup_time;  // seconds of warm-up (default 0.05)
    int min_reps;        // default 9: the U test of `kiln compare` wants >= 9
    int max_reps;        // default 30
    double max_cv;       // default 0.01
    double timeout;      // seconds per benchmark, all repetitions (default 20)
    bool cache_hot;      // op benchmarks: one copy of the large operand, reused by every
                         // iteration (it stays in the cache, as in ggml's test-backend-ops perf
                         // mode); default false: copies past the last-level cache, as a forward
                         // pass streams its weights
};

struct kiln_bench_config kiln_bench_config_default(void);

// Enqueues iteration `i` of the benchmarked work on the stream.
typedef enum kiln_status (*kiln_bench_body)(void *ctx, int64_t i);

struct kiln_bench_result {
    int64_t iterations;               // per repetition
    int reps;
    double real[KILN_BENCH_MAX_REPS];  // seconds per iteration, device time
    double cpu[KILN_BENCH_MAX_REPS];   // seconds per iteration, process CPU time
};

enum kiln_status kiln_bench_measure(struct kiln_stream *s, const struct kiln_bench_config *cfg,
                                    kiln_bench_body body, void *ctx, struct kiln_bench_result *out);
