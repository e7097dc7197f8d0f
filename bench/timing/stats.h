// Statistics for benchmark repetitions and for `kiln compare`: Google Benchmark's aggregates
// (mean, median, sample stddev, cv) and the two-sided Mann-Whitney U test with scipy's "auto"
// semantics, as tools/compare.py calls it (spec/benchmark-json.md §1.5, §2.4).
#pragma once

#include <stdbool.h>

struct kiln_stats {
    double mean, median, stddev, cv, min, max;
    int n;
};

// GB's rules: median of < 3 values is the mean; stddev is the sample one (n-1), 0 for n = 1;
// cv = stddev / mean, 0 when n < 2 or mean = 0.
struct kiln_stats kiln_stats_compute(const double *x, int n);

// Two-sided p-value of the Mann-Whitney U test of samples a (n1) and b (n2), as
// scipy.stats.mannwhitneyu(a, b, alternative="two-sided") with method "auto": exact when
// min(n1, n2) <= 8 and there are no ties, else the normal approximation with tie correction and
// continuity correction. *u1 receives U of the first sample. Returns a NaN p for n1 or n2 < 1.
double kiln_mann_whitney_p(const double *a, int n1, const double *b, int n2, double *u1);
