// The history chart (plot_history.h).
#include "bench/history/plot_history.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/file/out_file.h"

enum { W = 1300, H = 620, LEFT = 80, RIGHT = 470, TOP = 50, BOTTOM = 110, MAX_SERIES = 40 };

struct run { int64_t id, time; const char *commit; };

static int run_order(const void *pa, const void *pb) {
    const struct run *a = pa, *b = pb;
    if (a->time != b->time) return a->time < b->time ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

// A point's median relative to its series' first run (0 where the first has no positive time).
static double rel(const struct kiln_history_series *s, int j) {
    const double b = s->points[0].median;
    return b > 0 && isfinite(s->points[j].median) ? s->points[j].median / b - 1 : 0.0;
}

static void svg_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '\'') fputs("&apos;", f);
        else fputc(*s, f);
    }
}

enum kiln_status kiln_plot_history(const struct kiln_history_series *s, int n, double threshold,
                                   const char *out_path) {
    if (n == 0)
        return kiln_fail(KILN_E_INVALID, "no series to plot (kiln history lists what is stored)");
    if (n > MAX_SERIES)
        return kiln_fail(KILN_E_INVALID, "%d series is more than one chart shows (%d): narrow it with --name or "
                         "--machine", n, MAX_SERIES);
    int total = 0;
    for (int i = 0; i < n; i++)
        total += s[i].n;
    struct run *runs = malloc((size_t)(total ? total : 1) * sizeof *runs);
    if (!runs)
        return kiln_fail(KILN_E_NOMEM, "out of memory plotting");
    int nr = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < s[i].n; j++)
            runs[nr++] = (struct run){ s[i].points[j].run_id, s[i].points[j].time_unix, s[i].points[j].commit };
    qsort(runs, (size_t)nr, sizeof *runs, run_order);
    int u = 0;  // distinct runs
    for (int i = 0; i < nr; i++)
        if (u == 0 || runs[u - 1].id != runs[i].id)
            runs[u++] = runs[i];
    double lo = -threshold * 2, hi = threshold * 2;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < s[i].n; j++) {
            lo = fmin(lo, rel(&s[i], j));
            hi = fmax(hi, rel(&s[i], j));
        }
    lo -= (hi - lo) * 0.05;
    hi += (hi - lo) * 0.05;
    const double xw = u > 1 ? (double)(W - LEFT - RIGHT) / (u - 1) : 0;
#define X(k) (LEFT + (u > 1 ? (k) * xw : (W - LEFT - RIGHT) / 2.0))
#define Y(v) (TOP + (hi - (v)) / (hi - lo) * (H - TOP - BOTTOM))
    struct kiln_out_file out;
    enum kiln_status st = kiln_out_open(&out, out_path);
    if (st != KILN_OK) {
        free(runs);
        return st;
    }
    FILE *o = out.f;
    fprintf(o, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='12'>\n", W, H);
    fprintf(o, "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(o, "<text x='%d' y='25' font-size='16'>Median time relative to each series' first run, over %d stored runs "
               "(change points ringed; threshold %.0f%%)</text>\n", LEFT, u, threshold * 100);
    const double step = pow(10, floor(log10((hi - lo) / 4)));
    for (double v = ceil(lo / step) * step; v <= hi; v += step) {
        fprintf(o, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='%s'/><text x='%d' y='%.1f' text-anchor='end'>%+.0f%%</text>\n",
                LEFT, Y(v), W - RIGHT, Y(v), fabs(v) < step / 2 ? "#888" : "#e4e4e4", LEFT - 6, Y(v) + 4, v * 100);
    }
    for (int t = -1; t <= 1; t += 2)
        fprintf(o, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#bbb' stroke-dasharray='4'/>\n", LEFT,
                Y(t * threshold), W - RIGHT, Y(t * threshold));
    const int every = u > 30 ? (u + 29) / 30 : 1;  // commit labels that do not overlap
    for (int k = 0; k < u; k += every)
        fprintf(o, "<text transform='translate(%.1f,%d) rotate(-60)' text-anchor='end' font-family='monospace'>%.12s</text>\n",
                X(k), H - BOTTOM + 14, runs[k].commit);
    fprintf(o, "<text x='%d' y='%d' text-anchor='middle'>run (commit), oldest first</text>\n", (LEFT + W - RIGHT) / 2, H - 8);
    static const char *const colors[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                          "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#d62728" };
    for (int i = 0; i < n; i++) {
        const char *c = colors[i % 10];
        fprintf(o, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", c);
        for (int j = 0, k = 0; j < s[i].n; j++) {
            while (k < u && runs[k].id != s[i].points[j].run_id)
                k++;
            fprintf(o, "%.1f,%.1f ", X(k), Y(rel(&s[i], j)));
        }
        fprintf(o, "'/>\n");
        for (int j = 0, k = 0; j < s[i].n; j++) {
            const struct kiln_history_point *p = &s[i].points[j];
            while (k < u && runs[k].id != p->run_id)
                k++;
            const double x = X(k), y = Y(rel(&s[i], j));
            fprintf(o, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>\n", x, y, c);
            if (p->change || p->unconfirmed)
                fprintf(o, "<circle cx='%.1f' cy='%.1f' r='8' fill='none' stroke='%s' stroke-width='2'%s/>\n", x, y,
                        p->step > 0 ? "#d62728" : "#2ca02c", p->unconfirmed ? " stroke-dasharray='3'" : "");
        }
        const int ly = TOP + 16 * i;
        fprintf(o, "<rect x='%d' y='%d' width='12' height='3' fill='%s'/><text x='%d' y='%d'>", W - RIGHT + 15, ly, c,
                W - RIGHT + 32, ly + 5);
        svg_text(o, s[i].name);
        if (n > 1 && strcmp(s[0].machine, s[n - 1].machine)) {
            fputs(" [", o);
            svg_text(o, s[i].machine);
            fputs("]", o);
        }
        fprintf(o, "</text>\n");
    }
    fprintf(o, "</svg>\n");
#undef X
#undef Y
    free(runs);
    return kiln_out_commit(&out);
}
