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
//
// The comparison is computed once (kiln_compare_compute) into rows; the renderers in
// compare_format.c print it as the terminal table, a Markdown table (pull-request comments,
// GitHub's step summary), JUnit XML (one test case per benchmark, a regression a failure) or
// JSON (the Python package), so every output says the same thing.
#pragma once

#include <stdio.h>

#include "bench/report/gbench_read.h"

struct kiln_compare_options {
    double threshold;  // fraction, default 0.05
    double alpha;      // default 0.05
    bool use_cpu;      // compare cpu_time instead of real_time
};

struct kiln_compare_summary {
    int faster, slower, same, noisy, added, removed, failed;
};

enum kiln_compare_verdict {
    KILN_CMP_SAME, KILN_CMP_NOISY, KILN_CMP_SLOWER, KILN_CMP_FASTER,
    KILN_CMP_ADDED, KILN_CMP_REMOVED, KILN_CMP_NOT_COMPARED,
};

struct kiln_compare_row {
    char name[256];
    enum kiln_compare_verdict verdict;
    double old_median, new_median;  // seconds; NaN where a side has no times
    double change;                  // (new - old) / old; NaN where not compared
    double p;                       // U test p-value; NaN where untested
    int n_old, n_new;               // repetitions compared
    bool tested;                    // >= 2 repetitions a side
    const char *why;                // not compared: the reason
};

struct kiln_compare_result {
    struct kiln_compare_row *rows;
    int n_rows;
    struct kiln_compare_summary sum;
    double geomean_change;          // exp(mean log ratio) - 1 over matched names; NaN if none
    struct kiln_compare_options opts;
    char base_label[512], new_label[512];  // what was compared (file names, db:REF)
};

// Computes every row. KILN_E_NOMEM only.
enum kiln_status kiln_compare_compute(const struct kiln_gb_file *base, const struct kiln_gb_file *cand,
                                      const struct kiln_compare_options *o, struct kiln_compare_result *out);
void kiln_compare_result_free(struct kiln_compare_result *r);

// "same", "noisy", "SLOWER", "faster", "added", "removed", "not compared".
const char *kiln_compare_verdict_name(enum kiln_compare_verdict v);

// Renderers (compare_format.c).
void kiln_compare_print_text(FILE *f, const struct kiln_compare_result *r);
void kiln_compare_print_markdown(FILE *f, const struct kiln_compare_result *r);
// JUnit XML: <testsuites><testsuite name="kiln compare"> one <testcase> per benchmark; SLOWER is a
// <failure>, added/removed/not compared/noisy are <skipped> with the reason.
void kiln_compare_print_junit(FILE *f, const struct kiln_compare_result *r);
// Written whole or not at all (quant/file/out_file.h).
enum kiln_status kiln_compare_save_junit(const char *path, const struct kiln_compare_result *r);
// {"summary": {...}, "threshold":, "alpha":, "geomean_change":, "rows": [{name, verdict, ...}]};
// the caller frees with free().
char *kiln_compare_to_json(const struct kiln_compare_result *r);
