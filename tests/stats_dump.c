// Test helper for tests/oracle/test_utest_scipy.py: prints "U1 p" of the two-sided
// Mann-Whitney U test of two comma-separated samples given as arguments.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/timing/stats.h"

static int parse(char *text, double *out, int max) {
    int n = 0;
    for (char *tok = strtok(text, ","); tok && n < max; tok = strtok(NULL, ","))
        out[n++] = strtod(tok, NULL);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: stats_dump A1,A2,... B1,B2,...\n");
        return 2;
    }
    static double a[4096], b[4096];
    const int na = parse(argv[1], a, 4096), nb = parse(argv[2], b, 4096);
    double u1;
    const double p = kiln_mann_whitney_p(a, na, b, nb, &u1);
    printf("%.17g %.17g\n", u1, p);
    return 0;
}
