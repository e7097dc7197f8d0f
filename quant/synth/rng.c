// splitmix64 and Box-Muller (rng.h).
#include "quant/synth/rng.h"

#include <math.h>

uint64_t kiln_rng_next(struct kiln_rng *r) {
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double kiln_rng_uniform(struct kiln_rng *r) { return (double)(kiln_rng_next(r) >> 11) * 0x1p-53; }

double kiln_rng_normal(struct kiln_rng *r) {
    const double u1 = 1.0 - kiln_rng_uniform(r);  // (0, 1]: log stays finite
    const double u2 = kiln_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void kiln_rng_fill_normal_pairs(struct kiln_rng *r, float *x, int64_t n, float sigma) {
    for (int64_t i = 0; i < n; i += 2) {
        const double u1 = 1.0 - kiln_rng_uniform(r), u2 = kiln_rng_uniform(r);
        const double rad = sqrt(-2.0 * log(u1));
        double s, c;
        sincos(2.0 * M_PI * u2, &s, &c);
        x[i] = (float)(rad * c) * sigma;
        if (i + 1 < n)
            x[i + 1] = (float)(rad * s) * sigma;
    }
}

void kiln_rng_fill_normal(struct kiln_rng *r, float *x, int64_t n, float sigma) {
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)kiln_rng_normal(r) * sigma;
}
