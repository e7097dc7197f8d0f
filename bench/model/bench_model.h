// Model benchmarks (`kiln bench model`) in llama-bench's convention: ppN = prefill N tokens in
// one batch, tgN = decode N tokens one at a time (each token's logits read back, as a real
// decode loop does), both at a context already filled with `depth` tokens. Reports tokens/s,
// time to first token, memory (weights, K/V cache, kiln's device peak, process peak RSS) and,
// for decode, the bytes a token reads (weights + K/V so far) as a fraction of the read bandwidth.
#pragma once

#include "bench/timing/harness.h"
#include "bench/model/model.h"
#include "bench/timing/roofline.h"

struct kiln_model_bench {
    char test[32];              // "pp512", "tg128", with " @ d4096" when depth > 0
    int64_t tokens;             // per repetition
    int reps;
    double seconds[KILN_BENCH_MAX_REPS];  // per repetition
    double bytes_per_token;     // decode: weights + average K/V read per token
    double flops_per_token;     // matmuls + attention, averaged over the test's tokens
    uint64_t device_peak, rss_peak;
    struct kiln_model_fallback fallback;  // over the timed repetitions (model.h)
};

// Parameters of one layer's matmuls (q, k, v, o, gate, up, down).
double kiln_model_layer_params(const struct kiln_model_info *c);

// Runs ppN (n_prompt > 0) or tgN (n_gen > 0) on a loaded model: `reps` timed repetitions after
// one warm-up, each starting from a cache filled with `depth` tokens (filling is not timed).
enum kiln_status kiln_model_bench_run(struct kiln_model *m, struct kiln_stream *s, int64_t n_prompt,
                                      int64_t n_gen, int64_t depth, int reps, struct kiln_model_bench *out);
