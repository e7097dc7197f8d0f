// Benchmark statistics (stats.h).
#include "bench/timing/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct kiln_stats kiln_stats_compute(const double *x, int n) {
    struct kiln_stats s = { .n = n };
    if (n <= 0)
        return s;
    double *sorted = malloc(sizeof(double) * (size_t)n);
    memcpy(sorted, x, sizeof(double) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(double), cmp_double);
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += x[i];
    s.mean = sum / n;
    s.min = sorted[0];
    s.max = sorted[n - 1];
    if (n < 3)
        s.median = s.mean;
    else
        s.median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    if (n > 1) {
        double ss = 0.0;
        for (int i = 0; i < n; i++)
            ss += (x[i] - s.mean) * (x[i] - s.mean);
        s.stddev = sqrt(ss / (n - 1));
        s.cv = s.mean != 0.0 ? s.stddev / s.mean : 0.0;
    }
    free(sorted);
    return s;
}

// P(U >= u_obs) under the null, from the counts c(u; i, j) of arrangements with U = u:
// c(u; i, j) = c(u - j; i - 1, j) + c(u; i, j - 1), c(0; 0, j) = c(0; i, 0) = 1. Two rows of the
// (i, j) table are kept (i - 1 and i). Returns NaN when the table would be unreasonably large
// (min(n1, n2) <= 8 with the other side in the thousands); the caller then uses the normal
// approximation, a documented deviation from scipy for such lopsided samples.
static double exact_upper_tail(int m, int n, double u_obs) {
    const size_t width = (size_t)m * (size_t)n + 1;
    if ((size_t)(n + 1) * width > (size_t)1 << 24)
        return NAN;
    double *prev = calloc((size_t)(n + 1) * width, sizeof(double));
    double *cur = calloc((size_t)(n + 1) * width, sizeof(double));
    for (int j = 0; j <= n; j++)
        prev[(size_t)j * width] = 1.0;  // i = 0
    for (int i = 1; i <= m; i++) {
        for (int j = 0; j <= n; j++) {
            double *cij = cur + (size_t)j * width;
            for (size_t u = 0; u < width; u++)
                cij[u] = 0.0;
            if (j == 0) {
                cij[0] = 1.0;
                continue;
            }
            const double *up = prev + (size_t)j * width, *left = cur + (size_t)(j - 1) * width;
            for (int u = 0; u <= i * j; u++)
                cij[u] = (u >= j ? up[u - j] : 0.0) + left[u];
        }
        double *t = prev;
        prev = cur;
        cur = t;
    }
    const double *cmn = prev + (size_t)n * width;
    double total = 0.0, tail = 0.0;
    for (size_t u = 0; u < width; u++) {
        total += cmn[u];
        if ((double)u >= u_obs - 1e-9)
            tail += cmn[u];
    }
    free(prev);
    free(cur);
    return tail / total;
}

double kiln_mann_whitney_p(const double *a, int n1, const double *b, int n2, double *u1_out) {
    if (n1 < 1 || n2 < 1)
        return NAN;
    const int n = n1 + n2;
    struct item { double v; int first; } *items = malloc(sizeof *items * (size_t)n);
    for (int i = 0; i < n1; i++)
        items[i] = (struct item){ a[i], 1 };
    for (int i = 0; i < n2; i++)
        items[n1 + i] = (struct item){ b[i], 0 };
    qsort(items, (size_t)n, sizeof *items, cmp_double);  // v is the first member
    // Average ranks over ties; collect the tie term sum(t^3 - t).
    double r1 = 0.0, tie_term = 0.0;
    bool ties = false;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && items[j + 1].v == items[i].v)
            j++;
        const double rank = 0.5 * (double)(i + j) + 1.0;
        const double t = (double)(j - i + 1);
        if (t > 1) {
            ties = true;
            tie_term += t * t * t - t;
        }
        for (int k = i; k <= j; k++)
            if (items[k].first)
                r1 += rank;
        i = j + 1;
    }
    free(items);
    const double u1 = r1 - (double)n1 * (n1 + 1) / 2.0;
    const double u2 = (double)n1 * n2 - u1;
    if (u1_out)
        *u1_out = u1;
    double p = NAN;
    if ((n1 <= 8 || n2 <= 8) && !ties)
        p = 2.0 * exact_upper_tail(n1, n2, u1 > u2 ? u1 : u2);
    if (isnan(p)) {
        const double mu = (double)n1 * n2 / 2.0;
        const double s = sqrt((double)n1 * n2 / 12.0 * ((n + 1) - tie_term / ((double)n * (n - 1))));
        const double d = u1 - mu;
        const double num = d - 0.5 * (d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0);
        p = s > 0 ? erfc(fabs(num / s) / sqrt(2.0)) : 1.0;
    }
    return p < 0.0 ? 0.0 : p > 1.0 ? 1.0 : p;
}
