// kiln compare BASE NEW: argument parsing and output; the comparison is bench/report/compare.c,
// its renderings compare_format.c, and db:REF sources come from bench/history/history_db.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/history/history_db.h"
#include "bench/report/compare.h"
#include "cli/args.h"

static void help(void) {
    printf("usage: kiln compare [options] BASE NEW\n"
           "\n"
           "Matches benchmarks by name in two sets of results and judges each by the change of\n"
           "its median time and a Mann-Whitney U test over the repetitions, as Google Benchmark's\n"
           "tools/compare.py does. A benchmark regressed when it is slower by more than the\n"
           "threshold AND the test is significant.\n"
           "\n"
           "BASE and NEW are Google Benchmark JSON files (kiln's or any other program's) or\n"
           "db:REF, results stored in the history by kiln bench --db: REF is a commit (a unique\n"
           "prefix) or 'latest'.\n"
           "\n"
           "  --threshold T   smallest change that counts: 5%% or 0.05 (default 5%%)\n"
           "  --alpha A       significance level of the U test (default 0.05)\n"
           "  --cpu           compare cpu_time instead of real_time\n"
           "  --format F      text (default), md (a Markdown table for a pull-request comment or\n"
           "                  $GITHUB_STEP_SUMMARY) or json, on stdout\n"
           "  --junit FILE    also write JUnit XML: a test case per benchmark, a regression a failure\n"
           "  --db FILE       the history db:REF reads (default $KILN_DB, else results.sqlite)\n"
           "  --machine M     with db:REF: the machine's runs (kiln history lists them)\n"
           "\n"
           "exit status: 0 nothing regressed, 1 a regression, 2 usage error or unreadable results\n");
}

bool kiln_parse_fraction(const char *text, double *out) {
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
    const char *files[2], *format = "text", *junit = NULL, *db = NULL, *machine = NULL;
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
            if (err || !kiln_parse_fraction(v, &o.threshold)) {
                fprintf(stderr, "kiln compare: --threshold expects 5%% or 0.05\n");
                return KILN_EXIT_USAGE;
            }
        } else if (kiln_arg_value(argc, argv, &i, "--alpha", &v, &err)) {
            if (err || !kiln_parse_fraction(v, &o.alpha) || o.alpha <= 0 || o.alpha >= 1) {
                fprintf(stderr, "kiln compare: --alpha expects a level in (0, 1)\n");
                return KILN_EXIT_USAGE;
            }
        } else if (kiln_arg_value(argc, argv, &i, "--format", &v, &err)) {
            if (err || (strcmp(v, "text") && strcmp(v, "md") && strcmp(v, "json"))) {
                fprintf(stderr, "kiln compare: --format takes text, md or json\n");
                return KILN_EXIT_USAGE;
            }
            format = v;
        } else if (kiln_arg_value(argc, argv, &i, "--junit", &v, &err)) {
            if (err)
                return KILN_EXIT_USAGE;
            junit = v;
        } else if (kiln_arg_value(argc, argv, &i, "--db", &v, &err)) {
            if (err)
                return KILN_EXIT_USAGE;
            db = v;
        } else if (kiln_arg_value(argc, argv, &i, "--machine", &v, &err)) {
            if (err)
                return KILN_EXIT_USAGE;
            machine = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "kiln compare: unknown option '%s' (see kiln compare --help)\n", argv[i]);
            return KILN_EXIT_USAGE;
        } else if (n_files < 2) {
            files[n_files++] = argv[i];
        } else {
            fprintf(stderr, "kiln compare: expected two results, got a third: %s\n", argv[i]);
            return KILN_EXIT_USAGE;
        }
    }
    if (n_files != 2) {
        fprintf(stderr, "kiln compare: expected BASE.json NEW.json (files, or db:REF from a results history; see kiln compare --help)\n");
        return KILN_EXIT_USAGE;
    }
    struct kiln_gb_file base, cand;
    if (kiln_results_load(files[0], db, machine, &base) != KILN_OK) {
        fprintf(stderr, "kiln compare: %s\n", kiln_last_error());
        return KILN_EXIT_USAGE;
    }
    if (kiln_results_load(files[1], db, machine, &cand) != KILN_OK) {
        fprintf(stderr, "kiln compare: %s\n", kiln_last_error());
        kiln_gb_free(&base);
        return KILN_EXIT_USAGE;
    }
    FILE *out = stdout;
    if (base.host[0] && cand.host[0] && strcmp(base.host, cand.host) != 0)
        fprintf(strcmp(format, "text") ? stderr : out, "note: the results come from different hosts (%s, %s)\n",
                base.host, cand.host);
    struct kiln_compare_result r;
    enum kiln_status st = kiln_compare_compute(&base, &cand, &o, &r);
    kiln_gb_free(&base);
    kiln_gb_free(&cand);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln compare: %s\n", kiln_last_error());
        return KILN_EXIT_FAIL;
    }
    snprintf(r.base_label, sizeof r.base_label, "%s", files[0]);
    snprintf(r.new_label, sizeof r.new_label, "%s", files[1]);
    const struct kiln_compare_summary s = r.sum;
    if (!strcmp(format, "md")) {
        kiln_compare_print_markdown(out, &r);
    } else if (!strcmp(format, "json")) {
        char *text = kiln_compare_to_json(&r);
        if (text)
            printf("%s\n", text);
        free(text);
    } else {
        kiln_compare_print_text(out, &r);
        printf("\nkiln compare: %d slower, %d faster, %d same, %d noisy; %d not compared, %d added, "
               "%d removed (threshold %.1f%%, alpha %.3g)\n", s.slower, s.faster, s.same, s.noisy,
               s.failed, s.added, s.removed, o.threshold * 100, o.alpha);
    }
    int rc = s.slower ? KILN_EXIT_FAIL : KILN_EXIT_OK;
    if (junit && kiln_compare_save_junit(junit, &r) != KILN_OK) {
        fprintf(stderr, "kiln compare: %s\n", kiln_last_error());
        rc = KILN_EXIT_FAIL;
    }
    kiln_compare_result_free(&r);
    if (s.slower + s.faster + s.same + s.noisy == 0) {
        fprintf(stderr, "kiln compare: no benchmark name appears in both results\n");
        return KILN_EXIT_USAGE;
    }
    return rc;
}
