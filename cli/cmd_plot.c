// kiln plot roofline FILE -o OUT.svg | kiln plot compare BASE NEW -o OUT.svg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/history/history_db.h"
#include "bench/history/plot_history.h"
#include "bench/report/plot_svg.h"
#include "cli/args.h"

static void help(void) {
    printf("usage: kiln plot roofline RESULTS.json [-o roofline.svg]\n"
           "       kiln plot compare BASE NEW [-o compare.svg] [--threshold 5%%]\n"
           "       kiln plot history [--db FILE] [--name REGEX] [--machine M] [-o history.svg]\n"
           "\n"
           "roofline: achieved GFLOP/s of each benchmark against its arithmetic intensity, under\n"
           "          the ceilings measured in the same run (log-log).\n"
           "compare:  the relative change of each benchmark's median time, as bars (BASE, NEW:\n"
           "          files or db:REF, as kiln compare takes them; --db FILE for db:REF).\n"
           "history:  each benchmark's median over the runs stored in the history (kiln history),\n"
           "          relative to its first run, with the change points ringed.\n"
           "Writes SVG, which any browser opens.\n");
}

static int plot_history(const char *db, const char *name, const char *machine, double threshold,
                        const char *out, int n_files) {
    if (n_files) {
        fprintf(stderr, "kiln plot history: reads the history (--db FILE), not files\n");
        return KILN_EXIT_USAGE;
    }
    struct kiln_history *h;
    struct kiln_history_series *s = NULL;
    int n = 0;
    enum kiln_status st = kiln_history_open(kiln_history_default_path(db), false, &h);
    if (st == KILN_OK) {
        st = kiln_history_series(h, name, machine, &s, &n);
        kiln_history_close(h);
    }
    for (int i = 0; st == KILN_OK && i < n; i++)
        kiln_history_mark_changes(&s[i], threshold, 0.05, 5);
    if (st == KILN_OK)
        st = kiln_plot_history(s, n, threshold, out);
    kiln_history_series_free(s, n);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln plot history: %s\n", kiln_last_error());
        return st == KILN_E_INVALID ? KILN_EXIT_USAGE : KILN_EXIT_FAIL;
    }
    printf("wrote %s (%d series)\n", out, n);
    return KILN_EXIT_OK;
}

int kiln_cmd_plot(int argc, char **argv) {
    const char *out = NULL, *files[2];
    int n_files = 0;
    double threshold = 0.05;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help();
        return argc < 2 ? KILN_EXIT_USAGE : KILN_EXIT_OK;
    }
    const bool roofline = !strcmp(argv[1], "roofline"), history = !strcmp(argv[1], "history");
    if (!roofline && !history && strcmp(argv[1], "compare")) {
        fprintf(stderr, "kiln plot: expected 'roofline', 'compare' or 'history' (see kiln plot --help)\n");
        return KILN_EXIT_USAGE;
    }
    const char *db = NULL, *name = NULL, *machine = NULL;
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (kiln_arg_value(argc, argv, &i, "-o", &v, &err)) {
            out = v;
        } else if (kiln_arg_value(argc, argv, &i, "--db", &v, &err)) {
            db = v;
        } else if (kiln_arg_value(argc, argv, &i, "--name", &v, &err)) {
            name = v;
        } else if (kiln_arg_value(argc, argv, &i, "--machine", &v, &err)) {
            machine = v;
        } else if (kiln_arg_value(argc, argv, &i, "--threshold", &v, &err)) {
            char *end;
            threshold = err ? 0 : strtod(v, &end);
            if (!err && *end == '%')
                threshold /= 100;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "kiln plot: unknown option '%s'\n", argv[i]);
            return KILN_EXIT_USAGE;
        } else if (n_files < 2) {
            files[n_files++] = argv[i];
        }
        if (err)
            return KILN_EXIT_USAGE;
    }
    if (history)
        return plot_history(db, name, machine, threshold, out ? out : "history.svg", n_files);
    if (n_files != (roofline ? 1 : 2)) {
        fprintf(stderr, "kiln plot: %s needs %s (see kiln plot --help)\n", argv[1],
                roofline ? "one results file" : "two results files");
        return KILN_EXIT_USAGE;
    }
    if (!out)
        out = roofline ? "roofline.svg" : "compare.svg";
    struct kiln_gb_file a = { 0 }, b = { 0 };
    enum kiln_status st = kiln_results_load(files[0], db, machine, &a);
    if (st == KILN_OK && !roofline)
        st = kiln_results_load(files[1], db, machine, &b);
    if (st == KILN_OK)
        st = roofline ? kiln_plot_roofline(&a, out) : kiln_plot_compare(&a, &b, threshold, out);
    kiln_gb_free(&a);
    kiln_gb_free(&b);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln plot: %s\n", kiln_last_error());
        return st == KILN_E_IO ? KILN_EXIT_FAIL : KILN_EXIT_USAGE;
    }
    printf("wrote %s\n", out);
    return KILN_EXIT_OK;
}
