// Benchmark comparison (compare.h): the rows; compare_format.c prints them.
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

const char *kiln_compare_verdict_name(enum kiln_compare_verdict v) {
    switch (v) {
    case KILN_CMP_SAME: return "same";
    case KILN_CMP_NOISY: return "noisy";
    case KILN_CMP_SLOWER: return "SLOWER";
    case KILN_CMP_FASTER: return "faster";
    case KILN_CMP_ADDED: return "added";
    case KILN_CMP_REMOVED: return "removed";
    case KILN_CMP_NOT_COMPARED: return "not compared";
    }
    return "?";
}

enum { MAX_REPS = 4096 };

static struct kiln_compare_row *new_row(struct kiln_compare_result *r, const char *name,
                                        enum kiln_compare_verdict v) {
    struct kiln_compare_row *row = &r->rows[r->n_rows++];
    memset(row, 0, sizeof *row);
    snprintf(row->name, sizeof row->name, "%s", name);
    row->verdict = v;
    row->old_median = row->new_median = row->change = row->p = NAN;
    return row;
}

enum kiln_status kiln_compare_compute(const struct kiln_gb_file *base, const struct kiln_gb_file *cand,
                                      const struct kiln_compare_options *o, struct kiln_compare_result *r) {
    memset(r, 0, sizeof *r);
    r->opts = *o;
    r->geomean_change = NAN;
    r->rows = calloc((size_t)base->n + (size_t)cand->n + 1, sizeof *r->rows);
    double *a = malloc(2 * MAX_REPS * sizeof *a);
    if (!r->rows || !a) {
        free(a);
        kiln_compare_result_free(r);
        return kiln_fail(KILN_E_NOMEM, "compare: out of memory");
    }
    double *b = a + MAX_REPS;
    struct kiln_compare_summary *sum = &r->sum;
    double log_ratio_sum = 0.0;
    int matched = 0;
    for (int i = 0; i < base->n; i++) {
        const char *name = base->entries[i].run_name;
        if (seen_before(base, i, name))
            continue;
        bool failed_a, failed_b, in_a, in_b;
        const int na = times_of(base, name, o->use_cpu, a, MAX_REPS, &failed_a, &in_a);
        const int nb = times_of(cand, name, o->use_cpu, b, MAX_REPS, &failed_b, &in_b);
        if (!in_b) {
            new_row(r, name, KILN_CMP_REMOVED)->why = "only in the base";
            sum->removed++;
            continue;
        }
        if (na == 0 || nb == 0) {
            new_row(r, name, KILN_CMP_NOT_COMPARED)->why =
                failed_a || failed_b ? "a run failed or was skipped" : "no times";
            sum->failed++;
            continue;
        }
        const double ma = kiln_stats_compute(a, na).median, mb = kiln_stats_compute(b, nb).median;
        const double change = ma == 0 && mb == 0 ? 0.0 : ma == 0 ? (mb - ma) / ((ma + mb) / 2) : (mb - ma) / fabs(ma);
        const bool tested = na >= 2 && nb >= 2;
        const double p = tested ? kiln_mann_whitney_p(a, na, b, nb, NULL) : NAN;
        const bool significant = !tested || p < o->alpha;
        enum kiln_compare_verdict v;
        if (fabs(change) <= o->threshold)
            v = KILN_CMP_SAME, sum->same++;
        else if (!significant)
            v = KILN_CMP_NOISY, sum->noisy++;
        else if (change > 0)
            v = KILN_CMP_SLOWER, sum->slower++;
        else
            v = KILN_CMP_FASTER, sum->faster++;
        struct kiln_compare_row *row = new_row(r, name, v);
        row->old_median = ma;
        row->new_median = mb;
        row->change = change;
        row->p = p;
        row->n_old = na;
        row->n_new = nb;
        row->tested = tested;
        if (ma > 0 && mb > 0) {
            log_ratio_sum += log(mb / ma);
            matched++;
        }
    }
    for (int i = 0; i < cand->n; i++) {
        const char *name = cand->entries[i].run_name;
        if (!seen_before(cand, i, name) && !seen_before(base, base->n, name)) {
            new_row(r, name, KILN_CMP_ADDED)->why = "only in the new results";
            sum->added++;
        }
    }
    if (matched)
        r->geomean_change = exp(log_ratio_sum / matched) - 1;
    free(a);
    return KILN_OK;
}

void kiln_compare_result_free(struct kiln_compare_result *r) {
    free(r->rows);
    r->rows = NULL;
    r->n_rows = 0;
}
