// kiln history: the results history (bench/history/history_db.h) as series over commits, with
// their change points; `kiln history import` stores benchmark JSON files made earlier.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/history/history_db.h"
#include "cli/args.h"

static void help(void) {
    printf("usage: kiln history [--db FILE] [--name REGEX] [--machine M] [--threshold 5%%] [--last N]\n"
           "       kiln history import [--db FILE] RESULTS.json...\n"
           "\n"
           "Prints each benchmark's series across the stored runs (oldest first: commit, date,\n"
           "median, change against the first run) and flags its change points: a step beyond\n"
           "the threshold that the U test finds significant and the next run confirms. One run\n"
           "off and the next back is noise, not a step; a step in the newest run alone is shown\n"
           "as unconfirmed. Runs get into the history with kiln bench ops|model --db FILE, or\n"
           "from earlier JSON files with kiln history import.\n"
           "\n"
           "  --db FILE       the history (default $KILN_DB, else results.sqlite)\n"
           "  --name REGEX    only benchmarks whose name matches (POSIX extended regex)\n"
           "  --machine M     only this machine's runs (ids as in results/<machine>/)\n"
           "  --threshold T   smallest step that counts (default 5%%)\n"
           "  --alpha A       significance level of the U test (default 0.05)\n"
           "  --window N      runs before a step its level is judged from (default 5)\n"
           "  --last N        print only the newest N runs of each series (default all)\n"
           "  --changes       only the series that have a change point (or an unconfirmed step)\n"
           "\n"
           "exit status: 0 printed, 1 error, 2 usage\n");
}

static int import(int argc, char **argv) {
    const char *db = NULL;
    int n_files = 0, rc = KILN_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return KILN_EXIT_OK;
        } else if (kiln_arg_value(argc, argv, &i, "--db", &v, &err)) {
            if (err)
                return KILN_EXIT_USAGE;
            db = v;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "kiln history import: unknown option '%s'\n", argv[i]);
            return KILN_EXIT_USAGE;
        }
    }
    db = kiln_history_default_path(db);
    struct kiln_history *h = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db")) {
            i++;
            continue;
        }
        n_files++;
        struct kiln_gb_file f;
        if (kiln_gb_load(argv[i], &f) != KILN_OK) {
            fprintf(stderr, "kiln history import: %s\n", kiln_last_error());
            return KILN_EXIT_FAIL;
        }
        char source[1100];
        snprintf(source, sizeof source, "import %s", argv[i]);
        int64_t id = 0;
        enum kiln_status st = h ? KILN_OK : kiln_history_open(db, true, &h);
        if (st == KILN_OK)
            st = kiln_history_append(h, &f, source, &id);
        if (st != KILN_OK) {
            fprintf(stderr, "kiln history import: %s\n", kiln_last_error());
            rc = KILN_EXIT_FAIL;
        } else {
            printf("%s: run %lld (commit %s, machine %s, %d entries) -> %s\n", argv[i], (long long)id,
                   f.commit[0] ? f.commit : "unknown", f.machine, f.n, db);
        }
        kiln_gb_free(&f);
        if (rc != KILN_EXIT_OK)
            break;
    }
    kiln_history_close(h);
    if (n_files == 0) {
        fprintf(stderr, "kiln history import: expected RESULTS.json files\n");
        return KILN_EXIT_USAGE;
    }
    return rc;
}

static void print_series(const struct kiln_history_series *s, int last) {
    printf("%s  [%s]\n", s->name, s->machine);
    const double first = s->n ? s->points[0].median : NAN;
    const int from = last > 0 && s->n > last ? s->n - last : 0;
    for (int i = from; i < s->n; i++) {
        const struct kiln_history_point *p = &s->points[i];
        char mark[160] = "";
        if (p->change || p->unconfirmed) {
            char pbuf[32] = "untested";
            if (!isnan(p->p))
                snprintf(pbuf, sizeof pbuf, "p=%.2g", p->p);
            snprintf(mark, sizeof mark, "  <- %s %+.1f%% (%s)%s",
                     p->unconfirmed ? "step?" : "CHANGE", p->step * 100, pbuf,
                     p->unconfirmed ? " newest run only: unconfirmed" : p->change > 0 ? " slower" : " faster");
        }
        printf("  %-18.18s %-25.25s %14.3f us %+8.1f%%  (%d reps)%s\n", p->commit, p->date, p->median * 1e6,
               first > 0 ? (p->median / first - 1) * 100 : 0.0, p->n_samples, mark);
    }
}

int kiln_cmd_history(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "import"))
        return import(argc - 1, argv + 1);
    const char *db = NULL, *name = NULL, *machine = NULL;
    double threshold = 0.05, alpha = 0.05;
    long window = 5, last = 0;
    bool changes_only = false;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return KILN_EXIT_OK;
        } else if (!strcmp(argv[i], "--changes")) {
            changes_only = true;
        } else if (kiln_arg_value(argc, argv, &i, "--db", &v, &err)) {
            db = v;
        } else if (kiln_arg_value(argc, argv, &i, "--name", &v, &err)) {
            name = v;
        } else if (kiln_arg_value(argc, argv, &i, "--machine", &v, &err)) {
            machine = v;
        } else if (kiln_arg_value(argc, argv, &i, "--threshold", &v, &err)) {
            if (!err && !kiln_parse_fraction(v, &threshold)) {
                fprintf(stderr, "kiln history: --threshold expects 5%% or 0.05\n");
                return KILN_EXIT_USAGE;
            }
        } else if (kiln_arg_value(argc, argv, &i, "--alpha", &v, &err)) {
            if (!err && (!kiln_parse_fraction(v, &alpha) || alpha <= 0 || alpha >= 1)) {
                fprintf(stderr, "kiln history: --alpha expects a level in (0, 1)\n");
                return KILN_EXIT_USAGE;
            }
        } else if (kiln_arg_value(argc, argv, &i, "--window", &v, &err)) {
            if (err || !kiln_arg_int("history", "--window", v, 2, 64, &window))
                return KILN_EXIT_USAGE;
        } else if (kiln_arg_value(argc, argv, &i, "--last", &v, &err)) {
            if (err || !kiln_arg_int("history", "--last", v, 1, 1 << 30, &last))
                return KILN_EXIT_USAGE;
        } else {
            fprintf(stderr, "kiln history: unknown argument '%s' (see kiln history --help)\n", argv[i]);
            return KILN_EXIT_USAGE;
        }
        if (err)
            return KILN_EXIT_USAGE;
    }
    struct kiln_history *h;
    if (kiln_history_open(kiln_history_default_path(db), false, &h) != KILN_OK) {
        fprintf(stderr, "kiln history: %s\n", kiln_last_error());
        return KILN_EXIT_FAIL;
    }
    struct kiln_history_series *s;
    int n;
    const enum kiln_status st = kiln_history_series(h, name, machine, &s, &n);
    kiln_history_close(h);
    if (st != KILN_OK) {
        fprintf(stderr, "kiln history: %s\n", kiln_last_error());
        return st == KILN_E_INVALID ? KILN_EXIT_USAGE : KILN_EXIT_FAIL;
    }
    int shown = 0, n_changes = 0;
    for (int i = 0; i < n; i++) {
        kiln_history_mark_changes(&s[i], threshold, alpha, (int)window);
        bool any = false;
        for (int j = 0; j < s[i].n; j++) {
            any |= s[i].points[j].change || s[i].points[j].unconfirmed;
            n_changes += s[i].points[j].change != 0;
        }
        if (changes_only && !any)
            continue;
        if (shown++)
            printf("\n");
        print_series(&s[i], (int)last);
    }
    printf("%skiln history: %d series, %d change point%s (threshold %.1f%%, alpha %.3g, window %ld)\n",
           shown ? "\n" : "", n, n_changes, n_changes == 1 ? "" : "s", threshold * 100, alpha, window);
    kiln_history_series_free(s, n);
    if (n == 0)
        fprintf(stderr, "kiln history: no stored run matches%s%s%s%s\n", name ? " --name " : "", name ? name : "",
                machine ? " --machine " : "", machine ? machine : "");
    return KILN_EXIT_OK;
}
