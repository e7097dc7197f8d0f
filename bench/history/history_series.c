// Series out of the results history, and their change points (history_db.h).
#include "bench/history/history_db.h"
#include "bench/history/history_internal.h"

#include <math.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/timing/stats.h"


static bool grow(void **p, int *cap, int n, size_t size) {
    if (n < *cap)
        return true;
    const int c = *cap ? 2 * *cap : 16;
    void *q = realloc(*p, (size_t)c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

void kiln_history_series_free(struct kiln_history_series *s, int n) {
    for (int i = 0; s && i < n; i++) {
        for (int j = 0; j < s[i].n; j++)
            free(s[i].points[j].samples);
        free(s[i].points);
    }
    free(s);
}

static void finish_point(struct kiln_history_point *p, double agg_median) {
    if (p->n_samples > 0)
        p->median = kiln_stats_compute(p->samples, p->n_samples).median;
    else
        p->median = agg_median;
}

enum kiln_status kiln_history_series(struct kiln_history *h, const char *name_regex, const char *machine,
                                     struct kiln_history_series **out, int *n_out) {
    *out = NULL;
    *n_out = 0;
    regex_t re;
    if (name_regex) {
        const int rc = regcomp(&re, name_regex, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &re, msg, sizeof msg);
            return kiln_fail(KILN_E_INVALID, "--name '%s': %s", name_regex, msg);
        }
    }
    // Iteration times and median aggregates of runs that did not fail, grouped by series and
    // run in time order.
    const char *sql =
        "SELECT r.machine, e.run_name, r.id, r.commit_id, r.date, e.run_type, e.aggregate_name, e.real_time,"
        " r.time_unix"
        " FROM entries e JOIN runs r ON r.id = e.run_id"
        " WHERE e.failed = 0 AND e.real_time IS NOT NULL AND (?1 IS NULL OR r.machine = ?1)"
        "   AND (e.run_type = 'iteration' OR e.aggregate_name = 'median')"
        " ORDER BY r.machine, e.run_name, r.time_unix, r.id, e.rowid";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
        if (name_regex)
            regfree(&re);
        return kiln_fail(KILN_E_FORMAT, "%s: reading the history: %s", h->path, sqlite3_errmsg(h->db));
    }
    if (machine)
        sqlite3_bind_text(st, 1, machine, -1, SQLITE_TRANSIENT);
    struct kiln_history_series *series = NULL;
    int n = 0, cap = 0, pcap = 0, scap = 0;
    double agg = NAN;
    enum kiln_status status = KILN_OK;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0), *name = (const char *)sqlite3_column_text(st, 1);
        if (!m || !name)
            continue;
        // The probes measure the machine, not kiln: left out unless asked for by name.
        if ((name_regex && regexec(&re, name, 0, NULL, 0) != 0) ||
            (!name_regex && !strncmp(name, "roofline/", 9)))
            continue;
        struct kiln_history_series *s = n ? &series[n - 1] : NULL;
        if (!s || strcmp(s->machine, m) || strcmp(s->name, name)) {
            if (s && s->n)
                finish_point(&s->points[s->n - 1], agg);
            if (!grow((void **)&series, &cap, n, sizeof *series)) {
                status = kiln_fail(KILN_E_NOMEM, "out of memory reading the history");
                break;
            }
            s = &series[n++];
            memset(s, 0, sizeof *s);
            snprintf(s->machine, sizeof s->machine, "%s", m);
            snprintf(s->name, sizeof s->name, "%s", name);
            pcap = 0;
        }
        const int64_t run = sqlite3_column_int64(st, 2);
        struct kiln_history_point *p = s->n ? &s->points[s->n - 1] : NULL;
        if (!p || p->run_id != run) {
            if (p)
                finish_point(p, agg);
            if (!grow((void **)&s->points, &pcap, s->n, sizeof *s->points)) {
                status = kiln_fail(KILN_E_NOMEM, "out of memory reading the history");
                break;
            }
            p = &s->points[s->n++];
            memset(p, 0, sizeof *p);
            p->run_id = run;
            p->time_unix = sqlite3_column_int64(st, 8);
            p->p = p->step = NAN;
            snprintf(p->commit, sizeof p->commit, "%s", (const char *)sqlite3_column_text(st, 3));
            snprintf(p->date, sizeof p->date, "%s", (const char *)sqlite3_column_text(st, 4));
            scap = 0;
            agg = NAN;
        }
        const double t = sqlite3_column_double(st, 7);
        if (!strcmp((const char *)sqlite3_column_text(st, 5), "aggregate")) {
            agg = t;
        } else {
            if (!grow((void **)&p->samples, &scap, p->n_samples, sizeof *p->samples)) {
                status = kiln_fail(KILN_E_NOMEM, "out of memory reading the history");
                break;
            }
            p->samples[p->n_samples++] = t;
        }
    }
    if (status == KILN_OK && n && series[n - 1].n)
        finish_point(&series[n - 1].points[series[n - 1].n - 1], agg);
    sqlite3_finalize(st);
    if (name_regex)
        regfree(&re);
    if (status != KILN_OK) {
        kiln_history_series_free(series, n);
        return status;
    }
    *out = series;
    *n_out = n;
    return KILN_OK;
}

static double median_of(const struct kiln_history_point *pts, int from, int to) {
    double v[64];
    int k = 0;
    for (int i = from; i < to && k < 64; i++)
        v[k++] = pts[i].median;
    return kiln_stats_compute(v, k).median;
}

// The U test of the repetitions of points [a0, a1) against [b0, b1); NaN with < 2 a side.
static double pooled_p(const struct kiln_history_point *pts, int a0, int a1, int b0, int b1) {
    int na = 0, nb = 0;
    for (int i = a0; i < a1; i++)
        na += pts[i].n_samples;
    for (int i = b0; i < b1; i++)
        nb += pts[i].n_samples;
    if (na < 2 || nb < 2)
        return NAN;
    double *a = malloc((size_t)(na + nb) * sizeof *a);
    if (!a)
        return NAN;
    double *b = a + na;
    int ka = 0, kb = 0;
    for (int i = a0; i < a1; i++)
        for (int j = 0; j < pts[i].n_samples; j++)
            a[ka++] = pts[i].samples[j];
    for (int i = b0; i < b1; i++)
        for (int j = 0; j < pts[i].n_samples; j++)
            b[kb++] = pts[i].samples[j];
    const double p = kiln_mann_whitney_p(a, na, b, nb, NULL);
    free(a);
    return p;
}

static int direction(double change, double threshold) {
    return change > threshold ? 1 : change < -threshold ? -1 : 0;
}

void kiln_history_mark_changes(struct kiln_history_series *s, double threshold, double alpha, int window) {
    struct kiln_history_point *pts = s->points;
    int seg = 0;  // the current level began here: the window never reaches back over a step
    for (int i = 1; i < s->n; i++) {
        const int b0 = i - window > seg ? i - window : seg;
        const double before = median_of(pts, b0, i);
        if (!(before > 0))
            continue;
        const double step = (pts[i].median - before) / before;
        const int dir = direction(step, threshold);
        if (!dir)
            continue;
        const bool newest = i + 1 == s->n;
        // the run after must agree: one run off and the next back is noise, not a step
        if (!newest && direction((pts[i + 1].median - before) / before, threshold) != dir)
            continue;
        const double p = pooled_p(pts, b0, i, i, newest ? i + 1 : i + 2);
        if (!isnan(p) && p >= alpha)
            continue;
        pts[i].step = step;
        pts[i].p = p;
        if (newest) {
            pts[i].unconfirmed = true;
        } else {
            pts[i].change = dir;
            seg = i;
        }
    }
}
