// Benchmark statistics: Google Benchmark's aggregate rules and the Mann-Whitney U test on the
// cases spec/benchmark-json.md §2.4 states (scipy's docstring example). The wider comparison
// against scipy itself is tests/oracle/test_utest_scipy.py.
#include <math.h>

#include "bench/timing/stats.h"
#include "tests/check.h"

int main(void) {
    const double x[] = { 19, 22, 16, 29, 24 }, y[] = { 20, 11, 17, 12 };
    double u1;
    const double p = kiln_mann_whitney_p(x, 5, y, 4, &u1);
    CHECK(u1 == 17, "U1 = %g, scipy 17", u1);
    CHECK(fabs(p - 0.111111) < 1e-6, "exact two-sided p = %.6f, scipy 0.111111", p);

    // GB aggregates: median of < 3 values is the mean; sample stddev; cv = stddev / mean.
    const double two[] = { 1.0, 4.0 };
    struct kiln_stats s = kiln_stats_compute(two, 2);
    CHECK(s.median == 2.5 && s.mean == 2.5, "median of two is their mean");
    CHECK(fabs(s.stddev - sqrt(4.5)) < 1e-12, "sample stddev (n - 1): %g", s.stddev);
    const double four[] = { 4.0, 1.0, 3.0, 2.0 };
    s = kiln_stats_compute(four, 4);
    CHECK(s.median == 2.5 && s.min == 1 && s.max == 4, "median of an even count");
    CHECK(fabs(s.cv - s.stddev / 2.5) < 1e-15, "cv = stddev / mean");
    const double one[] = { 3.0 };
    s = kiln_stats_compute(one, 1);
    CHECK(s.stddev == 0 && s.cv == 0, "one value: no spread");

    // Identical samples: no evidence of a difference.
    const double same[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    CHECK(kiln_mann_whitney_p(same, 10, same, 10, NULL) > 0.9, "identical samples");
    // Fully separated samples of 9: p far below 0.05.
    const double lo[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, hi[] = { 11, 12, 13, 14, 15, 16, 17, 18, 19 };
    CHECK(kiln_mann_whitney_p(lo, 9, hi, 9, NULL) < 0.001, "separated samples");
    CHECK(isnan(kiln_mann_whitney_p(lo, 0, hi, 9, NULL)), "an empty sample has no p-value");
    return test_finish("test_stats");
}
