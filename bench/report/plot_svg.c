// SVG roofline and comparison charts (plot_svg.h).
#include "bench/report/plot_svg.h"
#include "quant/file/out_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/timing/stats.h"

enum { W = 1300, H = 600, LEFT = 90, RIGHT = 560, TOP = 50, BOTTOM = 70 };

struct point {
    const char *name;
    double intensity, gflops, gbs;
};

// The median of each run name's per-repetition counters.
static int collect(const struct kiln_gb_file *f, struct point *pts, int max) {
    int n = 0;
    for (int i = 0; i < f->n && n < max; i++) {
        const struct kiln_gb_entry *e = &f->entries[i];
        if (e->aggregate || e->failed || e->repetition > 0 || isnan(e->flops) ||
            isnan(e->bytes_per_second) || !strncmp(e->run_name, "roofline/", 9))
            continue;  // the probes are the ceilings themselves
        double fl[256], bw[256];
        int k = 0;
        for (int j = i; j < f->n && k < 256; j++) {
            const struct kiln_gb_entry *o = &f->entries[j];
            if (!o->aggregate && !o->failed && !strcmp(o->run_name, e->run_name)) {
                fl[k] = o->flops;
                bw[k++] = o->bytes_per_second;
            }
        }
        const double gflops = kiln_stats_compute(fl, k).median / 1e9, gbs = kiln_stats_compute(bw, k).median / 1e9;
        pts[n++] = (struct point){ e->run_name, gbs > 0 ? gflops / gbs : 0, gflops, gbs };
    }
    return n;
}

static double ceiling_value(const char *text, const char *key) {
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

static double lx(double v, double lo, double hi) {
    return LEFT + (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) * (W - LEFT - RIGHT);
}
static double ly(double v, double lo, double hi) {
    return H - BOTTOM - (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) * (H - TOP - BOTTOM);
}

enum kiln_status kiln_plot_roofline(const struct kiln_gb_file *f, const char *out_path) {
    struct point pts[256];
    const int n = collect(f, pts, 256);
    if (!f->n_ceilings)
        return kiln_fail(KILN_E_FORMAT, "no measured ceilings in the file (run kiln bench without --no-roofline)");
    const double bw = ceiling_value(f->ceilings[0][1], "read_bw=") / 1e9;
    const double peak = ceiling_value(f->ceilings[0][1], "fma_flops=") / 1e9;
    if (!(bw > 0) || !(peak > 0))
        return kiln_fail(KILN_E_FORMAT, "unreadable ceilings '%s'", f->ceilings[0][1]);
    const double xlo = 0.01, xhi = 1000, ylo = peak / 1e4, yhi = peak * 3;
    struct kiln_out_file out;
    KILN_TRY(kiln_out_open(&out, out_path));
    FILE *o = out.f;
    fprintf(o, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='12'>\n", W, H);
    fprintf(o, "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(o, "<text x='%d' y='25' font-size='16'>Roofline of %s: read %.1f GB/s, FMA peak %.0f GFLOP/s</text>\n",
            LEFT, f->ceilings[0][0], bw, peak);
    for (double d = xlo; d <= xhi * 1.01; d *= 10) {  // decades on both axes
        const double x = lx(d, xlo, xhi);
        fprintf(o, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/><text x='%.1f' y='%d' text-anchor='middle'>%g</text>\n",
                x, TOP, x, H - BOTTOM, x, H - BOTTOM + 18, d);
    }
    for (double d = pow(10, ceil(log10(ylo))); d <= yhi; d *= 10) {
        const double y = ly(d, ylo, yhi);
        fprintf(o, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/><text x='%d' y='%.1f' text-anchor='end'>%g</text>\n",
                LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, d);
    }
    fprintf(o, "<text x='%d' y='%d' text-anchor='middle'>arithmetic intensity (FLOP/byte)</text>\n", (LEFT + W - RIGHT) / 2, H - 25);
    fprintf(o, "<text transform='translate(25,%d) rotate(-90)' text-anchor='middle'>GFLOP/s</text>\n", (TOP + H - BOTTOM) / 2);
    // The roofline: bandwidth slope up to the ridge, then the flat peak.
    const double ridge = peak / bw;
    fprintf(o, "<polyline fill='none' stroke='black' stroke-width='2' points='%.1f,%.1f %.1f,%.1f %.1f,%.1f'/>\n",
            lx(xlo, xlo, xhi), ly(fmax(bw * xlo, ylo), ylo, yhi), lx(ridge, xlo, xhi), ly(peak, ylo, yhi),
            lx(xhi, xlo, xhi), ly(peak, ylo, yhi));
    static const char *const colors[] = { "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd",
                                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };
    int legend = 0;
    for (int i = 0; i < n; i++) {
        const struct point *p = &pts[i];
        const char *c = colors[i % 10];
        if (p->gflops > 0 && p->intensity >= xlo && p->intensity <= xhi && p->gflops >= ylo) {
            fprintf(o, "<circle cx='%.1f' cy='%.1f' r='5' fill='%s'/>\n", lx(p->intensity, xlo, xhi),
                    ly(p->gflops, ylo, yhi), c);
            const double attainable = fmin(peak, p->intensity * bw);
            fprintf(o, "<circle cx='%d' cy='%d' r='5' fill='%s'/><text x='%d' y='%d'>%s (%.0f%%)</text>\n",
                    W - RIGHT + 15, TOP + 16 * legend, c, W - RIGHT + 25, TOP + 16 * legend + 4, p->name,
                    100 * p->gflops / attainable);
        } else {
            fprintf(o, "<text x='%d' y='%d'>%s: %.1f GB/s (%.0f%% of read)</text>\n", W - RIGHT + 25,
                    TOP + 16 * legend + 4, p->name, p->gbs, 100 * p->gbs / bw);
        }
        legend++;
    }
    fprintf(o, "</svg>\n");
    return kiln_out_commit(&out);
}

enum kiln_status kiln_plot_compare(const struct kiln_gb_file *base, const struct kiln_gb_file *cand,
                                   double threshold, const char *out_path) {
    struct { const char *name; double change; } rows[256];
    int n = 0;
    for (int i = 0; i < base->n && n < 256; i++) {
        const struct kiln_gb_entry *e = &base->entries[i];
        if (e->aggregate || e->failed || e->repetition > 0)
            continue;
        double a[512], b[512];
        int na = 0, nb = 0;
        for (int j = 0; j < base->n && na < 512; j++)
            if (!base->entries[j].aggregate && !base->entries[j].failed && !strcmp(base->entries[j].run_name, e->run_name))
                a[na++] = base->entries[j].real;
        for (int j = 0; j < cand->n && nb < 512; j++)
            if (!cand->entries[j].aggregate && !cand->entries[j].failed && !strcmp(cand->entries[j].run_name, e->run_name))
                b[nb++] = cand->entries[j].real;
        if (!na || !nb)
            continue;
        const double ma = kiln_stats_compute(a, na).median, mb = kiln_stats_compute(b, nb).median;
        rows[n].name = e->run_name;
        rows[n++].change = ma > 0 ? (mb - ma) / ma : 0;
    }
    if (n == 0)
        return kiln_fail(KILN_E_FORMAT, "no benchmark appears in both files");
    double span = threshold * 2;
    for (int i = 0; i < n; i++)
        span = fmax(span, fabs(rows[i].change));
    const int row_h = 22, height = TOP + n * row_h + 60, left = 480, width = 960;
    const double mid = left + (width - left - 40) / 2.0, scale = (width - left - 40) / 2.0 / span;
    struct kiln_out_file out;
    KILN_TRY(kiln_out_open(&out, out_path));
    FILE *o = out.f;
    fprintf(o, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='12'>\n", width, height);
    fprintf(o, "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(o, "<text x='10' y='25' font-size='16'>Change of median time, new vs base (threshold %.0f%%)</text>\n", threshold * 100);
    for (int s = -1; s <= 1; s += 2)
        fprintf(o, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#999' stroke-dasharray='4'/>\n",
                mid + s * threshold * scale, TOP - 5, mid + s * threshold * scale, TOP + n * row_h);
    fprintf(o, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='black'/>\n", mid, TOP - 5, mid, TOP + n * row_h);
    for (int i = 0; i < n; i++) {
        const double c = rows[i].change, y = TOP + i * row_h;
        const char *color = c > threshold ? "#d62728" : c < -threshold ? "#2ca02c" : "#999999";
        const double x0 = c < 0 ? mid + c * scale : mid;
        fprintf(o, "<text x='%d' y='%.1f' text-anchor='end'>%s</text>\n", left - 10, y + 15, rows[i].name);
        fprintf(o, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' fill='%s'/>\n", x0, y + 3, fabs(c) * scale, row_h - 6, color);
        fprintf(o, "<text x='%.1f' y='%.1f' text-anchor='%s'>%+.1f%%</text>\n", c < 0 ? x0 - 4 : mid + c * scale + 4,
                y + 15, c < 0 ? "end" : "start", c * 100);
    }
    fprintf(o, "</svg>\n");
    return kiln_out_commit(&out);
}
