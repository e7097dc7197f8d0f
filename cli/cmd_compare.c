// kiln compare BASE.json NEW.json: argument parsing; the comparison is bench/report/compare.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report/compare.h"
#include "cli/args.h"

static void help(void) {
    printf("usage: kiln compare [--threshold 5%%] [--alpha 0.05] [--cpu] BASE.json NEW.json\n"
           "\n"
           "Matches benchmarks by name in two Google Benchmark JSON files (kiln's or any other\n"
           "program's) and judges each by the change of its median time and a Mann-Whitney U\n"
           "test over the repetitions, as Google Benchmark's tools/compare.py does. A benchmark\n"
           "regressed when it is slower by more than the threshold AND the test is significant.\n"
           "\n"
           "  --threshold T  smallest change that counts: 5%% or 0.05 (default 5%%)\n"
           "  --alpha A      significance level of the U test (default 0.05)\n"
           "  --cpu          compare cpu_time instead of real_time\n"
           "\n"
           "exit status: 0 nothing regressed, 1 a regression, 2 usage error or unreadable file\n");
}

static bool parse_fraction(const char *text, double *out) {
    char *end;
    double v = strtod(text, &end);
    if (end == text)
        return false;
    if (*end == '%') {
        v /= 100.0;
        end++;
    }
    if (*end || !(v >= 0))
        return false;
    *out = v;
    return true;
}

int kiln_cmd_compare(int argc, char **argv) {
    struct kiln_compare_options o = { .threshold = 0.05, .alpha = 0.05 };
    const char *files[2];
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return KILN_EXIT_OK;
        } else if (!strcmp(argv[i], "--cpu")) {
            o.use_cpu = true;
        } else if (kiln_arg_value(argc, argv, &i, "--threshold", &v, &err)) {
            if (err || !parse_fraction(v, &o.threshold)) {
                fprintf(stderr, "kiln compare: --threshold expects 5%% or 0.05\n");
                return KILN_EXIT_USAGE;
            }
        } else if (kiln_arg_value(argc, argv, &i, "--alpha", &v, &err)) {
            if (err || !parse_fraction(v, &o.alpha) || o.alpha <= 0 || o.alpha >= 1) {
                fprintf(stderr, "kiln compare: --alpha expects a level in (0, 1)\n");
                return KILN_EXIT_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "kiln compare: unknown option '%s' (see kiln compare --help)\n", argv[i]);
            return KILN_EXIT_USAGE;
        } else if (n_files < 2) {
            files[n_files++] = argv[i];
        } else {
            fprintf(stderr, "kiln compare: expected two files, got a third: %s\n", argv[i]);
            return KILN_EXIT_USAGE;
        }
    }
    if (n_files != 2) {
        fprintf(stderr, "kiln compare: expected BASE.json NEW.json (see kiln compare --help)\n");
        return KILN_EXIT_USAGE;
    }
    struct kiln_gb_file base, cand;
    if (kiln_gb_load(files[0], &base) != KILN_OK) {
        fprintf(stderr, "kiln compare: %s\n", kiln_last_error());
        return KILN_EXIT_USAGE;
    }
    if (kiln_gb_load(files[1], &cand) != KILN_OK) {
        fprintf(stderr, "kiln compare: %s\n", kiln_last_error());
        kiln_gb_free(&base);
        return KILN_EXIT_USAGE;
    }
    if (base.host[0] && cand.host[0] && strcmp(base.host, cand.host) != 0)
        printf("note: the files come from different hosts (%s, %s)\n", base.host, cand.host);
    struct kiln_compare_summary s;
    kiln_compare_run(&base, &cand, &o, &s);
    printf("\nkiln compare: %d slower, %d faster, %d same, %d noisy; %d not compared, %d added, "
           "%d removed (threshold %.1f%%, alpha %.3g)\n", s.slower, s.faster, s.same, s.noisy,
           s.failed, s.added, s.removed, o.threshold * 100, o.alpha);
    kiln_gb_free(&base);
    kiln_gb_free(&cand);
    if (s.slower + s.faster + s.same + s.noisy == 0) {
        fprintf(stderr, "kiln compare: no benchmark name appears in both files\n");
        return KILN_EXIT_USAGE;
    }
    return s.slower ? KILN_EXIT_FAIL : KILN_EXIT_OK;
}
