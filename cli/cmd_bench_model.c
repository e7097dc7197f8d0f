// kiln bench model: argument parsing and the table; the measuring is bench/model/bench_model.c.
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/history/history_db.h"
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
    if (kiln_gbench_check_writable(o.json) != KILN_OK) {
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
    printf("| %-22s | %9s | %8s | %-7s | %7s | %-14s | %18s |\n", "model", "size", "params", "backend", "threads",
           "test", "t/s");
    printf("|------------------------|----------:|---------:|---------|--------:|----------------|-------------------:|\n");
    for (int i = 0; i < kiln_device_count() && rc == KILN_EXIT_OK && n_devs < 16; i++) {
        struct kiln_device *dev = kiln_device_get(i);
        if (!kiln_device_selected_for_timing("bench model", &o.common, dev))
            continue;
        struct kiln_stream *s = NULL;
        struct kiln_model *m = NULL;
        const int64_t batch = o.pp > 0 ? o.pp : 512, ctx = o.depth + (o.pp > o.tg ? o.pp : o.tg) + 1;
        devs[n_devs] = (struct kiln_gbench_device){ kiln_device_info(dev)->name, &ceil[n_devs] };
        struct kiln_probe_result probes[KILN_PROBE_COUNT];
        if (kiln_stream_new(dev, &s) != KILN_OK) {
            fprintf(stderr, "kiln bench model: %s\n", kiln_last_error());
            rc = KILN_EXIT_FAIL;
        }
        // The roofline first, on an empty device: its probe buffers are freed and the peak reset
        // before the model loads, so memory_peak_bytes is the model's alone.
        if (rc == KILN_EXIT_OK && !o.no_roofline && kiln_roofline_measure(s, &(struct kiln_bench_config){
                .min_time = 0.05, .warmup_time = 0.02, .min_reps = 5, .max_reps = 5, .timeout = 10 }, &ceil[n_devs], probes) != KILN_OK)
            fprintf(stderr, "note: roofline not measured: %s\n", kiln_last_error());
        kiln_device_reset_peak(dev);
        if (rc == KILN_EXIT_OK && kiln_model_load(path, dev, ctx, batch < ctx ? batch : ctx, &m) != KILN_OK) {
            fprintf(stderr, "kiln bench model: %s\n", kiln_last_error());
            rc = KILN_EXIT_FAIL;
        }
        if (m && o.no_graphs)
            kiln_model_set_graphs(m, false);
        if (m && kiln_model_get_info(m)->n_repacked)
            printf("  %s: %" PRId64 " of %" PRId64 " matmul weights repacked at load for its kernels "
                   "(KILN_NO_REPACK=1 keeps GGUF rows)\n", kiln_device_info(dev)->name,
                   kiln_model_get_info(m)->n_repacked, kiln_model_get_info(m)->n_matmul_weights);
        for (int t = 0; t < 2 && rc == KILN_EXIT_OK; t++) {
            if ((t == 0 && !o.pp) || (t == 1 && !o.tg))
                continue;
            struct kiln_model_bench b;
            if (kiln_model_bench_run(m, s, t == 0 ? o.pp : 0, t == 1 ? o.tg : 0, o.depth, (int)o.reps, &b) != KILN_OK) {
                fprintf(stderr, "kiln bench model: %s\n", kiln_last_error());
                rc = KILN_EXIT_FAIL;
                break;
            }
            const struct kiln_model_info *c = kiln_model_get_info(m);
            double tps[KILN_BENCH_MAX_REPS];
            for (int r = 0; r < b.reps; r++)
                tps[r] = (double)b.tokens / b.seconds[r];
            const struct kiln_stats st = kiln_stats_compute(tps, b.reps);
            const double params = (double)c->n_vocab * c->n_embd * 2 + (double)c->n_layer * kiln_model_layer_params(c);
            char tps_text[40];
            snprintf(tps_text, sizeof tps_text, "%.2f +- %.2f", st.mean, st.stddev);
            char size[24], count[24];
            if (c->weight_bytes >= (1ull << 30))
                snprintf(size, sizeof size, "%.2f GiB", (double)c->weight_bytes / 1073741824.0);
            else
                snprintf(size, sizeof size, "%.2f MiB", (double)c->weight_bytes / 1048576.0);
            snprintf(count, sizeof count, params >= 1e9 ? "%.2f B" : "%.2f M", params >= 1e9 ? params / 1e9 : params / 1e6);
            printf("| %-22.22s | %9s | %8s | %-7s | %7d | %-14s | %18s |\n", c->name[0] ? c->name : "model", size,
                   count, kiln_device_info(dev)->name, kiln_device_info(dev)->n_threads, b.test, tps_text);
            char run_name[300], label[200];
            const char *space = strchr(b.test, ' ');
            snprintf(run_name, sizeof run_name, "model/%s/%s/%s/%.*s%s%s", o.preset ? o.preset : c->name,
                     o.preset ? o.type_name : "gguf", kiln_device_info(dev)->name,
                     space ? (int)(space - b.test) : (int)strlen(b.test), b.test, space ? "/d:" : "",
                     space ? space + 4 : "");
            snprintf(label, sizeof label, "%s; %.1f MiB weights, %.1f MiB K/V, peak RSS %.1f MiB", b.test,
                     c->weight_bytes / 1048576.0, c->kv_bytes / 1048576.0, b.rss_peak / 1048576.0);
            // Quantized weights (most of the matmul bytes): the int8 dot-product peak, what the
            // fastest kernels for them run on; float weights: the FMA peak.
            const bool int8 = 2 * c->matmul_quantized_bytes > c->matmul_bytes && ceil[n_devs].int8_ops > 0;
            const enum kiln_peak_kind peak = int8 ? KILN_PEAK_INT8 : KILN_PEAK_FMA;
            kiln_gbench_add_model(list, run_name, label, family++, &b, (double)c->weight_bytes, (double)c->kv_bytes,
                                  &ceil[n_devs], peak);
            if (b.fallback.calls) {
                double total = 0;
                for (int r = 0; r < b.reps; r++)
                    total += b.seconds[r];
                char share[64] = "time share not measured (asynchronous device)";
                if (b.fallback.seconds >= 0)
                    snprintf(share, sizeof share, "%.0f%% of the time", 100 * b.fallback.seconds / total);
                printf("  %s: SLOW PATH: %" PRId64 " matmuls per run ran the dequantize-then-float fallback or the "
                       "reference kernel (no SIMD kernel for their type here), %s: %s\n", b.test, b.fallback.calls / b.reps, share,
                       b.fallback.tensors);
            }
            if (t == 0 && ceil[n_devs].valid) {
                const double top = kiln_roofline_peak(&ceil[n_devs], peak);
                const char *isa = int8 ? ceil[n_devs].int8_isa : ceil[n_devs].fma_isa;
                printf("  prefill: %.1f GFLOP per token, %.1f GFLOP/s = %.0f%% of the %.1f %s peak%s%s%s\n",
                       b.flops_per_token / 1e9, b.flops_per_token * st.median / 1e9,
                       100 * b.flops_per_token * st.median / top, top / 1e9, int8 ? "GOP/s int8" : "GFLOP/s FMA",
                       isa ? " (" : "", isa ? isa : "", isa ? ")" : "");
            }
            if (t == 1 && ceil[n_devs].valid)
                printf("  decode: %.1f MiB per token, %.2f GB/s = %.0f%% of the %.2f GB/s read bandwidth "
                       "(best of %d probes; the worst read %.2f)\n",
                       b.bytes_per_token / 1048576.0, b.bytes_per_token * st.median / 1e9,
                       100 * b.bytes_per_token * st.median / ceil[n_devs].read_bw, ceil[n_devs].read_bw / 1e9,
                       ceil[n_devs].read_reps, ceil[n_devs].read_bw_worst / 1e9);
        }
        kiln_stream_free(s);  // first: it finishes work still recorded on a GPU stream
        kiln_model_free(m);
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
