// kiln bench model: argument parsing and the table; the measuring is bench/model/bench_model.c.
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/history/history_db.h"
#include "bench/report/bench_model_run.h"
#include "bench/report/gbench_json.h"
#include "bench/timing/stats.h"
#include "cli/args.h"
#include "quant/convert/convert.h"
#include "quant/synth/synth.h"

static void help(void) {
    printf("usage: kiln bench model MODEL.gguf [options]\n"
           "       kiln bench model --preset NAME [--type T] [options]\n"
           "\n"
           "Tokens/s in llama-bench's convention: ppN prefills N tokens in one batch, tgN decodes N\n"
           "tokens one at a time, both after -d tokens already in the context. With --preset, a\n"
           "synthetic model of that shape (kiln synth) is converted to --type (default q4_0) first.\n"
           "Reports tokens/s (mean +- stddev over -r repetitions), time to first token, model and\n"
           "K/V bytes, kiln's device memory peak and the process's peak RSS, and for decode the\n"
           "fraction of the read bandwidth (measured in the same run) a token's bytes reach;\n"
           "for prefill the FLOP/s and their fraction of the FMA peak (same run).\n"
           "\n"
           "  -p N           prompt tokens (default 512; 0 = none)\n"
           "  -n N           generated tokens (default 128; 0 = none)\n"
           "  -d N           context depth before the test (default 0)\n"
           "  -r N           repetitions (default 5)\n"
           "  --preset NAME  %s\n"
           "  --type T       the preset model's type or mix, as kiln quantize (default q4_0)\n"
           "  --no-graphs    decode steps without graph capture (CUDA graphs are used by default)\n"
           "  --db FILE      append the run to a results history (SQLite; kiln history)\n"
           "  --backend DEV, --threads N, --json FILE, --no-roofline\n",
           kiln_model_preset_names());
}

struct opts {
    struct kiln_common_options common;
    const char *model, *preset, *json, *db;
    struct kiln_convert_options co;  // --type: the preset's mix (llama-quantize's rules)
    const char *type_name;
    long pp, tg, depth, reps;
    bool no_roofline, no_graphs;
};

static int parse(int argc, char **argv, struct opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return 1;
        } else if (!strcmp(argv[i], "--no-roofline")) {
            o->no_roofline = true;
        } else if (!strcmp(argv[i], "--no-graphs")) {
            o->no_graphs = true;
        } else if (kiln_arg_value(argc, argv, &i, "-p", &v, &err)) {
            if (err || !kiln_arg_int("bench model", "-p", v, 0, 1 << 20, &o->pp)) return -1;
        } else if (kiln_arg_value(argc, argv, &i, "-n", &v, &err)) {
            if (err || !kiln_arg_int("bench model", "-n", v, 0, 1 << 20, &o->tg)) return -1;
        } else if (kiln_arg_value(argc, argv, &i, "-d", &v, &err)) {
            if (err || !kiln_arg_int("bench model", "-d", v, 0, 1 << 22, &o->depth)) return -1;
        } else if (kiln_arg_value(argc, argv, &i, "-r", &v, &err)) {
            if (err || !kiln_arg_int("bench model", "-r", v, 1, KILN_BENCH_MAX_REPS, &o->reps)) return -1;
        } else if (kiln_arg_value(argc, argv, &i, "--preset", &v, &err)) {
            o->preset = v;
        } else if (kiln_arg_value(argc, argv, &i, "--type", &v, &err)) {
            o->type_name = v;
            if (!err && !kiln_convert_options_for(v, &o->co)) {
                fprintf(stderr, "kiln bench model: unknown type '%s'\n", v);
                return -1;
            }
        } else if (kiln_arg_value(argc, argv, &i, "--json", &v, &err)) {
            o->json = v;
        } else if (kiln_arg_value(argc, argv, &i, "--db", &v, &err)) {
            o->db = v;
        } else if (argv[i][0] != '-' && !o->model) {
            o->model = argv[i];
        } else {
            if (!kiln_common_option_or_usage("bench model", argc, argv, &i, &o->common))
                return -1;
        }
        if (err)
            return -1;
    }
    if (!o->model == !o->preset) {
        fprintf(stderr, "kiln bench model: give a MODEL.gguf or --preset NAME (see kiln bench model --help)\n");
        return -1;
    }
    if (!o->pp && !o->tg) {
        fprintf(stderr, "kiln bench model: -p and -n are both 0: nothing to measure\n");
        return -1;
    }
    return 0;
}

// --preset: synthesize and convert into a temporary folder; returns the GGUF path.
static enum kiln_status make_preset(const struct opts *o, char *dir, size_t dir_size, char *gguf, size_t size) {
    struct kiln_model_config c;
    if (!kiln_model_preset(o->preset, &c))
        return kiln_fail(KILN_E_INVALID, "unknown preset '%s' (%s)", o->preset, kiln_model_preset_names());
    snprintf(c.name, sizeof c.name, "%s", o->preset);
    snprintf(dir, dir_size, "/tmp/kiln-bench-XXXXXX");
    if (!mkdtemp(dir))
        return kiln_fail(KILN_E_IO, "cannot make a temporary folder: %s", strerror(errno));
    char hf[600];
    snprintf(hf, sizeof hf, "%s/hf", dir);
    KILN_TRY(kiln_synth_write(&c, hf, 1, false));
    snprintf(gguf, size, "%s/model.gguf", dir);
    struct kiln_convert_options co = o->co;
    co.progress = 0;
    fprintf(stderr, "bench model: converting a synthetic %s to %s...\n", o->preset, o->type_name);
    const int saved = dup(1);  // the converter's table goes nowhere here
    fflush(stdout);
    freopen("/dev/null", "w", stdout);
    const enum kiln_status st = kiln_convert_hf(hf, gguf, &co);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    return st;
}

static void cleanup(const char *dir) {
    if (!dir[0])
        return;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not remove %s\n", dir);
}

int kiln_cmd_bench_model(int argc, char **argv) {
    struct opts o = { .type_name = "q4_0", .pp = 512, .tg = 128, .reps = 5 };
    kiln_convert_options_for(o.type_name, &o.co);
    const int p = parse(argc, argv, &o);
    if (p)
        return p > 0 ? KILN_EXIT_OK : KILN_EXIT_USAGE;
    if (kiln_gbench_check_writable(o.json) != KILN_OK || (o.db && kiln_history_check(o.db) != KILN_OK)) {
        fprintf(stderr, "kiln bench model: %s\n", kiln_last_error());
        return KILN_EXIT_FAIL;
    }
    char dir[512] = "", gguf[700];
    if (o.preset && make_preset(&o, dir, sizeof dir, gguf, sizeof gguf) != KILN_OK) {
        fprintf(stderr, "kiln bench model: %s\n", kiln_last_error());
        cleanup(dir);
        return KILN_EXIT_FAIL;
    }
    const char *path = o.preset ? gguf : o.model;
    if (!kiln_start("bench model", &o.common)) {
        cleanup(dir);
        return KILN_EXIT_FAIL;
    }
    cJSON *list = cJSON_CreateArray();
    struct kiln_ceilings ceil[16] = { 0 };
    struct kiln_gbench_device devs[16];
    int n_devs = 0, rc = KILN_EXIT_OK, family = 0;
    kiln_bench_model_header(stdout);
    for (int i = 0; i < kiln_device_count() && rc == KILN_EXIT_OK && n_devs < 16; i++) {
        struct kiln_device *dev = kiln_device_get(i);
        if (!kiln_device_selected_for_timing("bench model", &o.common, dev))
            continue;
        devs[n_devs] = (struct kiln_gbench_device){ kiln_device_info(dev)->name, &ceil[n_devs] };
        const struct kiln_bench_model_request rq = {
            .path = path, .name = o.preset, .type_label = o.preset ? o.type_name : NULL, .pp = o.pp, .tg = o.tg,
            .depth = o.depth, .reps = o.reps, .no_roofline = o.no_roofline, .no_graphs = o.no_graphs, .out = stdout };
        if (kiln_bench_model_device(dev, &rq, list, &ceil[n_devs], &family) != KILN_OK) {
            fprintf(stderr, "kiln bench model: %s\n", kiln_last_error());
            rc = KILN_EXIT_FAIL;
        }
        n_devs++;
    }
    if (rc == KILN_EXIT_OK && (o.json || o.db)) {
        cJSON *doc = kiln_gbench_new(argv[0], devs, n_devs);
        cJSON_ReplaceItemInObject(doc, "benchmarks", list);
        list = NULL;
        if (o.json && kiln_gbench_save(doc, o.json) != KILN_OK) {
            fprintf(stderr, "kiln bench model: %s\n", kiln_last_error());
            rc = KILN_EXIT_FAIL;
        }
        int64_t run = 0;
        if (o.db && kiln_history_store_doc(o.db, doc, "bench model", &run) != KILN_OK) {
            fprintf(stderr, "kiln bench model: %s\n", kiln_last_error());
            rc = KILN_EXIT_FAIL;
        } else if (o.db) {
            fprintf(stderr, "kiln bench model: stored as run %lld in %s\n", (long long)run, o.db);
        }
        cJSON_Delete(doc);
    }
    cJSON_Delete(list);
    kiln_shutdown();
    cleanup(dir);
    return rc;
}
