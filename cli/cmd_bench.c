// kiln bench ops | roofline: argument parsing and the loop over devices, ops, types and shapes.
// The measuring is in bench/ (harness.c, bench_ops.c, roofline.c), the JSON in gbench_json.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/history/history_db.h"
#include "bench/report/gbench_json.h"
#include "bench/report/report.h"
#include "bench/timing/stats.h"
#include "cli/args.h"

enum { MAX_CASES = 64, MAX_DEVICES = 16 };

struct bench_options {
    struct kiln_common_options common;
    bool roofline_only, no_roofline;
    const char *ops, *types, *set, *json_path, *db_path;
    struct kiln_bench_case shape;   // from --shape
    bool have_shape;
    enum kiln_report_format format;
    struct kiln_bench_config cfg;
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
            o->no_roofline = true;
        } else if (kiln_arg_value(argc, argv, &i, "--op", &v, &err)) {
            o->ops = v;
        } else if (kiln_arg_value(argc, argv, &i, "--type", &v, &err)) {
            o->types = v;
        } else if (kiln_arg_value(argc, argv, &i, "--shapes", &v, &err)) {
            o->set = v;
        } else if (kiln_arg_value(argc, argv, &i, "--shape", &v, &err)) {
            if (!err && !kiln_bench_parse_shape(v, &o->shape))
                return -1;
            o->have_shape = true;
        } else if (kiln_arg_value(argc, argv, &i, "--json", &v, &err)) {
            o->json_path = v;
        } else if (kiln_arg_value(argc, argv, &i, "--db", &v, &err)) {
            o->db_path = v;
        } else if (kiln_arg_value(argc, argv, &i, "--format", &v, &err)) {
            if (!err && !kiln_report_format_parse(v, &o->format)) {
                fprintf(stderr, "kiln bench: --format takes table, json, csv or md, not '%s'\n", v);
                return -1;
            }
        } else if (kiln_arg_value(argc, argv, &i, "--min-time", &v, &err)) {
            char *end;
            o->cfg.min_time = err ? 0 : strtod(v, &end);
            if (err || *end || !(o->cfg.min_time > 0 && o->cfg.min_time <= 60)) {
                fprintf(stderr, "kiln bench: --min-time expects seconds in (0, 60]\n");
                return -1;
            }
            o->cfg.warmup_time = o->cfg.min_time / 2;
        } else if (kiln_arg_value(argc, argv, &i, "--repetitions", &v, &err)) {
            if (err || !kiln_arg_int("bench", "--repetitions", v, 1, KILN_BENCH_MAX_REPS, &n))
                return -1;
            o->cfg.min_reps = o->cfg.max_reps = (int)n;
        } else if (kiln_arg_value(argc, argv, &i, "--max-cv", &v, &err)) {
            char *end;
            o->cfg.max_cv = err ? 0 : strtod(v, &end);
            if (err || *end || !(o->cfg.max_cv >= 0)) {
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

static int default_types(enum kiln_op_kind op, const char *types, enum kiln_type *out) {
    int n = 0;
    if (types && strcmp(types, "all") != 0) {
        for (int t = 0; t < KILN_TYPE_COUNT; t++)
            if (kiln_type_traits((enum kiln_type)t) && kiln_list_has(types, kiln_type_name((enum kiln_type)t)))
                out[n++] = (enum kiln_type)t;
        return n;
    }
    if (types) {  // all
        for (int t = 0; t < KILN_TYPE_COUNT; t++)
            if (kiln_type_can_dequantize((enum kiln_type)t) &&
                (op != KILN_OP_ATTENTION || t == KILN_TYPE_F16 || t == KILN_TYPE_F32))
                out[n++] = (enum kiln_type)t;
        return n;
    }
    // What users deploy: Q4_K_M (q4_K + q6_K), Q5_K_M (q5_K + q6_K), Q6_K, Q8_0, Q4_0, and the
    // float checkpoints (f16, bf16).
    static const enum kiln_type mm[] = { KILN_TYPE_F16, KILN_TYPE_BF16, KILN_TYPE_Q8_0, KILN_TYPE_Q4_0,
                                         KILN_TYPE_Q4_K, KILN_TYPE_Q5_K, KILN_TYPE_Q6_K };
    static const enum kiln_type dq[] = { KILN_TYPE_Q8_0, KILN_TYPE_Q4_0, KILN_TYPE_Q4_K, KILN_TYPE_Q6_K };
    if (op == KILN_OP_MATMUL) {
        memcpy(out, mm, sizeof mm);
        return (int)(sizeof mm / sizeof mm[0]);
    }
    if (op == KILN_OP_DEQUANT) {
        memcpy(out, dq, sizeof dq);
        return (int)(sizeof dq / sizeof dq[0]);
    }
    out[0] = KILN_TYPE_F16;
    return 1;
}

// Vendor implementations in the device's kernel table (cuBLAS on CUDA) timed on the same case
// right after kiln's, and kiln's speed as a fraction of theirs: the reference a user would
// otherwise pick (kernel.h, `comparator`).
static int run_comparators(struct kiln_stream *s, struct bench_options *o, const struct kiln_bench_case *c,
                           const struct kiln_bench_entry *mine, cJSON *doc, const struct kiln_ceilings *ceil,
                           FILE *out, int family) {
    struct kiln_device *dev = kiln_stream_device(s);
    if (mine->skipped || mine->error)
        return 0;
    for (int i = 0; i < kiln_kernel_count(dev); i++) {
        const struct kiln_kernel *k = kiln_kernel_get(dev, i);
        if (!k->comparator || k->op != c->op || (k->src_type != c->type && k->src_type != KILN_TYPE_ANY))
            continue;
        struct kiln_bench_case cc = *c;
        cc.kernel = k;
        struct kiln_bench_entry *e = calloc(1, sizeof *e);
        if (!e)
            return -1;
        if (kiln_bench_run(s, &cc, &o->cfg, e) != KILN_OK) {
            fprintf(stderr, "kiln bench: %s: %s\n", e->run_name, kiln_last_error());
            free(e);
            return -1;
        }
        e->family = family;
        e->instance = mine->instance;
        kiln_report_row(out, o->format, e, o->no_roofline ? NULL : ceil);
        kiln_gbench_add_entry(kiln_gbench_benchmarks(doc), e, o->no_roofline ? NULL : ceil);
        if (!e->skipped && !e->error) {
            const double theirs = kiln_stats_compute(e->r.real, e->r.reps).median;
            const double ours = kiln_stats_compute(mine->r.real, mine->r.reps).median;
            if (ours > 0)
                fprintf(out, "  kiln at %.2f of %s's speed on this case (%.4g s vs %.4g s per run)\n",
                        theirs / ours, k->variant ? k->variant : k->isa, ours, theirs);
        }
        free(e);
    }
    return 0;
}

static int bench_device(struct kiln_device *dev, struct bench_options *o, cJSON *doc,
                        struct kiln_ceilings *ceil, int *family) {
    const char *name = kiln_device_info(dev)->name;
    struct kiln_stream *s;
    if (kiln_stream_new(dev, &s) != KILN_OK) {
        fprintf(stderr, "kiln bench: %s: %s\n", name, kiln_last_error());
        return -1;
    }
    FILE *out = o->format == KILN_REPORT_JSON ? stderr : stdout;
    int rc = 0;
    if (!o->no_roofline || o->roofline_only) {
        struct kiln_probe_result probes[KILN_PROBE_COUNT];
        if (kiln_roofline_measure(s, &o->cfg, ceil, probes) != KILN_OK) {
            fprintf(stderr, "kiln bench: roofline of %s: %s\n", name, kiln_last_error());
            rc = -1;
        } else {
            kiln_report_ceilings(out, o->format, name, ceil);
            for (int p = 0; p < KILN_PROBE_COUNT; p++)
                kiln_gbench_add_probe(kiln_gbench_benchmarks(doc), &probes[p], name, (*family)++);
        }
    }
    static const enum kiln_op_kind ops[] = { KILN_OP_MATMUL, KILN_OP_ATTENTION, KILN_OP_DEQUANT };
    bool header = false;
    for (size_t oi = 0; oi < 3 && rc == 0 && !o->roofline_only; oi++) {
        const enum kiln_op_kind op = ops[oi];
        if (!kiln_list_has(o->ops, kiln_op_name(op)))
            continue;
        struct kiln_bench_case cases[MAX_CASES];
        int n_cases;
        if (o->have_shape) {
            cases[0] = o->shape;
            cases[0].op = op;
            n_cases = 1;
        } else {
            n_cases = kiln_bench_shape_set(o->set ? o->set : "default", op, cases, MAX_CASES);
        }
        enum kiln_type types[KILN_TYPE_COUNT];
        const int n_types = default_types(op, o->types, types);
        for (int t = 0; t < n_types && rc == 0; t++) {
            for (int c = 0; c < n_cases && rc == 0; c++) {
                cases[c].type = types[t];
                cases[c].out_type = KILN_TYPE_F32;
                struct kiln_bench_entry *e = calloc(1, sizeof *e);
                if (!header) {
                    kiln_report_header(out, o->format);
                    header = true;
                }
                if (kiln_bench_run(s, &cases[c], &o->cfg, e) != KILN_OK) {
                    fprintf(stderr, "kiln bench: %s: %s\n", e->run_name, kiln_last_error());
                    rc = -1;
                } else {
                    e->family = *family;
                    e->instance = c;
                    kiln_report_row(out, o->format, e, o->no_roofline ? NULL : ceil);
                    kiln_gbench_add_entry(kiln_gbench_benchmarks(doc), e, o->no_roofline ? NULL : ceil);
                    rc = run_comparators(s, o, &cases[c], e, doc, ceil, out, *family);
                }
                free(e);
            }
            (*family)++;
        }
    }
    kiln_stream_free(s);
    return rc;
}

static int validate_shape(const struct bench_options *o) {
    if (!o->have_shape)
        return 0;
    const struct kiln_bench_case *c = &o->shape;
    const bool mm = c->m && c->n && c->k, at = c->d && c->q && c->kv && c->h && c->h_kv,
               dq = c->k && c->m && !c->n;
    if (!mm && !at && !dq) {
        fprintf(stderr, "kiln bench: --shape needs m,n,k (matmul), d,q,kv,h,hkv (attention) or "
                        "k,m (dequant)\n");
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
    struct bench_options o = { .cfg = kiln_bench_config_default() };
    o.roofline_only = strcmp(argv[1], "roofline") == 0;
    const int p = parse(argc - 1, argv + 1, &o);
    if (p != 0)
        return p > 0 ? KILN_EXIT_OK : KILN_EXIT_USAGE;
    if (validate_shape(&o) != 0)
        return KILN_EXIT_USAGE;
    if (o.set && !o.have_shape && kiln_bench_shape_set(o.set, KILN_OP_MATMUL, NULL, 0) < 0) {
        fprintf(stderr, "kiln bench: unknown shape set '%s' (%s)\n", o.set, kiln_bench_shape_set_names());
        return KILN_EXIT_USAGE;
    }
    if (o.format == KILN_REPORT_JSON && !o.json_path)
        o.json_path = "-";
    if (kiln_gbench_check_writable(o.json_path) != KILN_OK) {
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
        rc = bench_device(dev, &o, doc, &ceilings[n_devs], &family);
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
        if (o.db_path && kiln_history_store_doc(o.db_path, full, o.roofline_only ? "bench roofline" : "bench ops",
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
