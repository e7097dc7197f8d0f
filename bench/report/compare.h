// `kiln compare BASE NEW`: benchmarks matched by name, judged by the median's relative change
// and the Mann-Whitney U test over repetitions (compare.py's test, spec/benchmark-json.md §2),
// with a threshold on the magnitude (§2.9: a regression needs both significance and size).
//
// Per run name (the per-repetition `iteration` entries of both files):
//   change = (median_new - median_old) / median_old of real_time (or cpu_time)
//   p      = two-sided U test p-value (needs >= 2 repetitions a side; 9+ recommended)
//   verdict: SLOWER  change > +threshold and p < alpha
//            FASTER  change < -threshold and p < alpha
//            NOISY   |change| > threshold but p >= alpha (not significant)
//            SAME    |change| <= threshold
//   With fewer than 2 repetitions on a side there is no test: the threshold alone decides
//   (verdicts marked "untested").
// Errored or skipped entries are not compared (they are listed); names on one side only are
// listed as added/removed. An OVERALL_GEOMEAN line gives the geometric mean of the medians'
// ratios over the matched names.
#pragma once

#include "bench/report/gbench_read.h"

struct kiln_compare_options {
    double threshold;  // fraction, default 0.05
    double alpha;      // default 0.05
    bool use_cpu;      // compare cpu_time instead of real_time
};

struct kiln_compare_summary {
    int faster, slower, same, noisy, added, removed, failed;
};

// Prints the table to stdout and fills the summary. Regression = summary.slower > 0.
void kiln_compare_run(const struct kiln_gb_file *base, const struct kiln_gb_file *cand,
                      const struct kiln_compare_options *o, struct kiln_compare_summary *sum);
