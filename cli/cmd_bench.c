// kiln bench ops | roofline: argument parsing and the loop over devices, ops, types and shapes.
// The measuring is in bench/ (harness.c, bench_ops.c, roofline.c), the JSON in gbench_json.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/history/history_db.h"
#include "bench/report/bench_ops_run.h"
#include "bench/report/gbench_json.h"
#include "bench/report/report.h"
#include "bench/timing/stats.h"
#include "cli/args.h"

enum { MAX_DEVICES = 16 };

struct bench_options {
    struct kiln_common_options common;
    struct kiln_bench_ops_request rq;  // what to run (bench/report/bench_ops_run.h)
    const char *json_path, *db_path;
};

static void help(void) {
    printf("usage: kiln bench ops      [options]   time matmul, attention, dequant per type\n"
           "       kiln bench roofline [options]   measure read/copy bandwidth and peak FMA\n"
           "       kiln bench model    MODEL.gguf | --preset NAME   tokens/s (kiln bench model --help)\n"
           "\n"
           "Every timed kernel is first checked against the reference on that very shape (a\n"
           "failing kernel is reported, never timed). Iteration counts grow until a repetition\n"
           "lasts --min-time; repetitions continue until their cv is under --max-cv. Inputs are\n"
           "rotated across copies larger than the last-level cache. Each result reports GB/s,\n"
           "GFLOP/s and the fraction of the roofline measured in the same run.\n"
           "\n"
           "  --op LIST          matmul,attention,dequant (default: all three)\n"
           "  --type LIST        weight/KV/source types (default: matmul f16,bf16,q8_0,q4_0,q4_K,\n"
           "                     q5_K,q6_K; attention f16; dequant q8_0,q4_0,q4_K,q6_K); 'all' =\n"
           "                     every type kiln reads\n"
           "  --shape SPEC       one shape: m=4096,n=1,k=14336 (matmul), d=128,q=1,kv=4096,h=32,hkv=4\n"
           "                     (attention), k=4096,m=64 (dequant: row length, rows)\n"
           "  --shapes SET       %s (default: default)\n"
           "  --backend LIST     devices: cpu, vulkan, cuda:0 (default: all present)\n"
           "  --threads N        CPU worker threads (default: one per physical core)\n"
           "  --json FILE        write Google Benchmark JSON (FILE '-' = stdout)\n"
           "  --db FILE          append the run to a results history (SQLite; kiln history)\n"
           "  --format FMT       table|json|csv|md on stdout (default table)\n"
           "  --min-time S       seconds per repetition (default 0.1)\n"
           "  --repetitions N    exactly N repetitions (default: 9 to 30, until cv <= --max-cv)\n"
           "  --max-cv X         noise target for stopping (default 0.01)\n"
           "  --no-roofline      skip measuring the ceilings (no roofline fractions)\n"
           "  --cache-hot        reuse one copy of W (it stays in the cache, as ggml's\n"
           "                     test-backend-ops does): like-for-like with such peers, not a\n"
           "                     deployment number; the names end in /hot\n"
           "\n"
           "exit status: 0 ran (failed checks are reported in the output), 1 error, 2 usage\n",
           kiln_bench_shape_set_names());
}

static int parse(int argc, char **argv, struct bench_options *o) {
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        long n;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return 1;
        } else if (!strcmp(argv[i], "--no-roofline")) {
            o->rq.no_roofline = true;
        } else if (!strcmp(argv[i], "--cache-hot")) {
            o->rq.cfg.cache_hot = true;
        } else if (kiln_arg_value(argc, argv, &i, "--op", &v, &err)) {
            o->rq.ops = v;
        } else if (kiln_arg_value(argc, argv, &i, "--type", &v, &err)) {
            o->rq.types = v;
        } else if (kiln_arg_value(argc, argv, &i, "--shapes", &v, &err)) {
            o->rq.set = v;
        } else if (kiln_arg_value(argc, argv, &i, "--shape", &v, &err)) {
            if (!err && !kiln_bench_parse_shape(v, &o->rq.shape))
                return -1;
            o->rq.have_shape = true;
        } else if (kiln_arg_value(argc, argv, &i, "--json", &v, &err)) {
            o->json_path = v;
        } else if (kiln_arg_value(argc, argv, &i, "--db", &v, &err)) {
            o->db_path = v;
        } else if (kiln_arg_value(argc, argv, &i, "--format", &v, &err)) {
            if (!err && !kiln_report_format_parse(v, &o->rq.format)) {
                fprintf(stderr, "kiln bench: --format takes table, json, csv or md, not '%s'\n", v);
                return -1;
            }
        } else if (kiln_arg_value(argc, argv, &i, "--min-time", &v, &err)) {
            char *end;
            o->rq.cfg.min_time = err ? 0 : strtod(v, &end);
            if (err || *end || !(o->rq.cfg.min_time > 0 && o->rq.cfg.min_time <= 60)) {
                fprintf(stderr, "kiln bench: --min-time expects seconds in (0, 60]\n");
                return -1;
            }
            o->rq.cfg.warmup_time = o->rq.cfg.min_time / 2;
        } else if (kiln_arg_value(argc, argv, &i, "--repetitions", &v, &err)) {
            if (err || !kiln_arg_int("bench", "--repetitions", v, 1, KILN_BENCH_MAX_REPS, &n))
                return -1;
            o->rq.cfg.min_reps = o->rq.cfg.max_reps = (int)n;
        } else if (kiln_arg_value(argc, argv, &i, "--max-cv", &v, &err)) {
            char *end;
            o->rq.cfg.max_cv = err ? 0 : strtod(v, &end);
            if (err || *end || !(o->rq.cfg.max_cv >= 0)) {
                fprintf(stderr, "kiln bench: --max-cv expects a fraction >= 0 (0.01 = 1%%)\n");
                return -1;
            }
        } else {
            if (!kiln_common_option_or_usage("bench", argc, argv, &i, &o->common))
                return -1;
        }
        if (err)
            return -1;
    }
    return 0;
}

int kiln_cmd_bench(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "model"))
        return kiln_cmd_bench_model(argc - 1, argv + 1);
    if (argc < 2 || (strcmp(argv[1], "ops") && strcmp(argv[1], "roofline"))) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            help();
            return KILN_EXIT_OK;
        }
        fprintf(stderr, "kiln bench: expected 'ops', 'roofline' or 'model' (see kiln bench --help)\n");
        return KILN_EXIT_USAGE;
    }
    struct bench_options o = { .rq.cfg = kiln_bench_config_default() };
    o.rq.roofline_only = strcmp(argv[1], "roofline") == 0;
    const int p = parse(argc - 1, argv + 1, &o);
    if (p != 0)
        return p > 0 ? KILN_EXIT_OK : KILN_EXIT_USAGE;
    if (kiln_bench_ops_check_shape(&o.rq) != KILN_OK) {
        fprintf(stderr, "kiln bench: %s\n", kiln_last_error());
        return KILN_EXIT_USAGE;
    }
    o.rq.out = o.rq.format == KILN_REPORT_JSON ? stderr : stdout;
    if (o.rq.set && !o.rq.have_shape && kiln_bench_shape_set(o.rq.set, KILN_OP_MATMUL, NULL, 0) < 0) {
        fprintf(stderr, "kiln bench: unknown shape set '%s' (%s)\n", o.rq.set, kiln_bench_shape_set_names());
        return KILN_EXIT_USAGE;
    }
    if (o.rq.format == KILN_REPORT_JSON && !o.json_path)
        o.json_path = "-";
    if (kiln_gbench_check_writable(o.json_path) != KILN_OK ||
        (o.db_path && kiln_history_check(o.db_path) != KILN_OK)) {
        fprintf(stderr, "kiln bench: %s\n", kiln_last_error());
        return KILN_EXIT_FAIL;
    }
    if (!kiln_start("bench", &o.common))
        return KILN_EXIT_FAIL;
    struct kiln_ceilings ceilings[MAX_DEVICES] = { 0 };
    struct kiln_gbench_device devs[MAX_DEVICES];
    int n_devs = 0, family = 0, rc = 0;
    cJSON *doc = cJSON_CreateObject();  // replaced below once ceilings are known
    cJSON *benchmarks = cJSON_AddArrayToObject(doc, "benchmarks");
    for (int i = 0; i < kiln_device_count() && rc == 0 && n_devs < MAX_DEVICES; i++) {
        struct kiln_device *dev = kiln_device_get(i);
        if (!kiln_device_selected_for_timing("bench", &o.common, dev))
            continue;
        devs[n_devs] = (struct kiln_gbench_device){ kiln_device_info(dev)->name, &ceilings[n_devs] };
        if (kiln_bench_ops_device(dev, &o.rq, doc, &ceilings[n_devs], &family) != KILN_OK) {
            fprintf(stderr, "kiln bench: %s\n", kiln_last_error());
            rc = -1;
        }
        n_devs++;
    }
    if (rc == 0 && n_devs == 0) {
        fprintf(stderr, "kiln bench: no device matches --backend %s (see kiln info)\n", o.common.backends);
        rc = -1;
    }
    if (rc == 0 && (o.json_path || o.db_path)) {
        cJSON *full = kiln_gbench_new(argv[0], devs, n_devs);
        cJSON_ReplaceItemInObject(full, "benchmarks", cJSON_DetachItemViaPointer(doc, benchmarks));
        if (o.json_path && kiln_gbench_save(full, o.json_path) != KILN_OK) {
            fprintf(stderr, "kiln bench: %s\n", kiln_last_error());
            rc = -1;
        }
        int64_t run = 0;
        if (o.db_path && kiln_history_store_doc(o.db_path, full, o.rq.roofline_only ? "bench roofline" : "bench ops",
                                                &run) != KILN_OK) {
            fprintf(stderr, "kiln bench: %s\n", kiln_last_error());
            rc = -1;
        } else if (o.db_path) {
            fprintf(stderr, "kiln bench: stored as run %lld in %s\n", (long long)run, o.db_path);
        }
        cJSON_Delete(full);
    }
    cJSON_Delete(doc);
    kiln_shutdown();
    return rc == 0 ? KILN_EXIT_OK : KILN_EXIT_FAIL;
}
