// Deterministic random numbers for checks and benchmarks (splitmix64 + Box-Muller), so every
// run of `kiln ops` sees the same inputs for the same seed.
#pragma once

#include <stdint.h>

struct kiln_rng { uint64_t state; };

static inline struct kiln_rng kiln_rng_seed(uint64_t seed) { return (struct kiln_rng){ seed }; }

uint64_t kiln_rng_next(struct kiln_rng *r);
double kiln_rng_uniform(struct kiln_rng *r);   // [0, 1)
double kiln_rng_normal(struct kiln_rng *r);    // N(0, 1)
// n values of N(0, sigma^2).
void kiln_rng_fill_normal(struct kiln_rng *r, float *x, int64_t n, float sigma);
// The same distribution from both Box-Muller outputs (half the log/sqrt/trig work; a different
// stream): for the kernel checks, whose inputs cost more than the kernels they check.
void kiln_rng_fill_normal_pairs(struct kiln_rng *r, float *x, int64_t n, float sigma);
