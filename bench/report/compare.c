// Benchmark comparison (compare.h).
#include "bench/report/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/timing/stats.h"

// The per-repetition times of one run name (iteration entries that did not fail). With none,
// falls back to its _median (or _mean) aggregate as a single value.
static int times_of(const struct kiln_gb_file *f, const char *run_name, bool cpu, double *out,
                    int max, bool *failed, bool *present) {
    int n = 0;
    double agg = NAN;
    *failed = *present = false;
    for (int i = 0; i < f->n; i++) {
        const struct kiln_gb_entry *e = &f->entries[i];
        if (strcmp(e->run_name, run_name) != 0)
            continue;
        *present = true;
        if (e->failed) {
            *failed = true;
            continue;
        }
        if (!e->aggregate && e->has_times && n < max)
            out[n++] = cpu ? e->cpu : e->real;
        else if (e->aggregate && e->has_times && isnan(agg) &&
                 (!strcmp(e->aggregate_name, "median") || !strcmp(e->aggregate_name, "mean")))
            agg = cpu ? e->cpu : e->real;
    }
    if (n == 0 && !isnan(agg))
        out[n++] = agg;
    return n;
}

static bool seen_before(const struct kiln_gb_file *f, int upto, const char *run_name) {
    for (int i = 0; i < upto; i++)
        if (!strcmp(f->entries[i].run_name, run_name))
            return true;
    return false;
}

enum { MAX_REPS = 4096 };

void kiln_compare_run(const struct kiln_gb_file *base, const struct kiln_gb_file *cand,
                      const struct kiln_compare_options *o, struct kiln_compare_summary *sum) {
    memset(sum, 0, sizeof *sum);
    static double a[MAX_REPS], b[MAX_REPS];
    double log_ratio_sum = 0.0;
    int matched = 0;
    printf("%-60s %12s %12s %9s %8s  %s\n", "benchmark", "old (us)", "new (us)", "change", "p-value",
           "verdict");
    for (int i = 0; i < base->n; i++) {
        const char *name = base->entries[i].run_name;
        if (seen_before(base, i, name))
            continue;
        bool failed_a, failed_b, in_a, in_b;
        const int na = times_of(base, name, o->use_cpu, a, MAX_REPS, &failed_a, &in_a);
        const int nb = times_of(cand, name, o->use_cpu, b, MAX_REPS, &failed_b, &in_b);
        if (!in_b) {
            printf("%-60s %12s %12s %9s %8s  removed (only in the base file)\n", name, "", "", "", "");
            sum->removed++;
            continue;
        }
        if (na == 0 || nb == 0) {
            printf("%-60s %12s %12s %9s %8s  not compared: %s\n", name, "", "", "", "",
                   failed_a || failed_b ? "a run failed or was skipped" : "no times");
            sum->failed++;
            continue;
        }
        const double ma = kiln_stats_compute(a, na).median, mb = kiln_stats_compute(b, nb).median;
        const double change = ma == 0 && mb == 0 ? 0.0 : ma == 0 ? (mb - ma) / ((ma + mb) / 2) : (mb - ma) / fabs(ma);
        const bool tested = na >= 2 && nb >= 2;
        const double p = tested ? kiln_mann_whitney_p(a, na, b, nb, NULL) : NAN;
        const bool significant = !tested || p < o->alpha;
        const char *verdict;
        if (fabs(change) <= o->threshold) {
            verdict = "same";
            sum->same++;
        } else if (!significant) {
            verdict = "noisy";
            sum->noisy++;
        } else if (change > 0) {
            verdict = tested ? "SLOWER" : "SLOWER (untested: < 2 repetitions)";
            sum->slower++;
        } else {
            verdict = tested ? "faster" : "faster (untested: < 2 repetitions)";
            sum->faster++;
        }
        char pbuf[16];
        snprintf(pbuf, sizeof pbuf, tested ? "%.4f" : "-", p);
        printf("%-60s %12.3f %12.3f %+8.1f%% %8s  %s%s\n", name, ma * 1e6, mb * 1e6, change * 100,
               pbuf, verdict, tested && (na < 9 || nb < 9) ? " (fewer than 9 repetitions)" : "");
        if (ma > 0 && mb > 0) {
            log_ratio_sum += log(mb / ma);
            matched++;
        }
    }
    for (int i = 0; i < cand->n; i++) {
        const char *name = cand->entries[i].run_name;
        if (!seen_before(cand, i, name) && !seen_before(base, base->n, name)) {
            printf("%-60s %12s %12s %9s %8s  added (only in the new file)\n", name, "", "", "", "");
            sum->added++;
        }
    }
    if (matched)
        printf("%-60s %12s %12s %+8.1f%%\n", "OVERALL_GEOMEAN (medians, matched names)", "", "",
               (exp(log_ratio_sum / matched) - 1) * 100);
}
