// kiln plot roofline FILE -o OUT.svg | kiln plot compare BASE NEW -o OUT.svg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report/plot_svg.h"
#include "cli/args.h"

static void help(void) {
    printf("usage: kiln plot roofline RESULTS.json [-o roofline.svg]\n"
           "       kiln plot compare BASE.json NEW.json [-o compare.svg] [--threshold 5%%]\n"
           "\n"
           "roofline: achieved GFLOP/s of each benchmark against its arithmetic intensity, under\n"
           "          the ceilings measured in the same run (log-log).\n"
           "compare:  the relative change of each benchmark's median time, as bars.\n"
           "Writes SVG, which any browser opens.\n");
}

int kiln_cmd_plot(int argc, char **argv) {
    const char *out = NULL, *files[2];
    int n_files = 0;
    double threshold = 0.05;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help();
        return argc < 2 ? KILN_EXIT_USAGE : KILN_EXIT_OK;
    }
    const bool roofline = !strcmp(argv[1], "roofline");
    if (!roofline && strcmp(argv[1], "compare")) {
        fprintf(stderr, "kiln plot: expected 'roofline' or 'compare' (see kiln plot --help)\n");
        return KILN_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (kiln_arg_value(argc, argv, &i, "-o", &v, &err)) {
            out = v;
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
    if (n_files != (roofline ? 1 : 2)) {
        fprintf(stderr, "kiln plot: %s needs %s (see kiln plot --help)\n", argv[1],
                roofline ? "one results file" : "two results files");
        return KILN_EXIT_USAGE;
    }
    if (!out)
        out = roofline ? "roofline.svg" : "compare.svg";
    struct kiln_gb_file a = { 0 }, b = { 0 };
    enum kiln_status st = kiln_gb_load(files[0], &a);
    if (st == KILN_OK && !roofline)
        st = kiln_gb_load(files[1], &b);
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
