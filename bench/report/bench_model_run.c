// One model's benchmarks on one device (bench_model_run.h).
#include "bench/report/bench_model_run.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report/gbench_json.h"
#include "bench/timing/stats.h"

void kiln_bench_model_header(FILE *out) {
    if (!out)
        return;
    fprintf(out, "| %-22s | %9s | %8s | %-7s | %7s | %-14s | %18s |\n", "model", "size", "params", "backend", "threads",
           "test", "t/s");
    fprintf(out, "|------------------------|----------:|---------:|---------|--------:|----------------|-------------------:|\n");
}

enum kiln_status kiln_bench_model_device(struct kiln_device *dev, const struct kiln_bench_model_request *rq,
                                         cJSON *list, struct kiln_ceilings *ceil, int *family_io) {
    FILE *out = rq->out ? rq->out : fopen("/dev/null", "w");
    if (!out)
        return kiln_fail(KILN_E_IO, "cannot open /dev/null");
    enum kiln_status status = KILN_OK;
    int family = *family_io;
    struct kiln_stream *s = NULL;
    struct kiln_model *m = NULL;
    const int64_t batch = rq->pp > 0 ? rq->pp : 512, ctx = rq->depth + (rq->pp > rq->tg ? rq->pp : rq->tg) + 1;
    struct kiln_probe_result probes[KILN_PROBE_COUNT];
    status = kiln_stream_new(dev, &s);
    // The roofline first, on an empty device: its probe buffers are freed and the peak reset
    // before the model loads, so memory_peak_bytes is the model's alone.
    if (status == KILN_OK && !rq->no_roofline && kiln_roofline_measure(s, &(struct kiln_bench_config){
            .min_time = 0.05, .warmup_time = 0.02, .min_reps = 5, .max_reps = 5, .timeout = 10 }, ceil, probes) != KILN_OK)
        fprintf(stderr, "note: roofline not measured: %s\n", kiln_last_error());
    kiln_device_reset_peak(dev);
    if (status == KILN_OK)
        status = kiln_model_load(rq->path, dev, ctx, batch < ctx ? batch : ctx, &m);
    if (m && rq->no_graphs)
        kiln_model_set_graphs(m, false);
    if (m && kiln_model_get_info(m)->n_repacked)
        fprintf(out, "  %s: %" PRId64 " of %" PRId64 " matmul weights repacked at load for its kernels "
               "(KILN_NO_REPACK=1 keeps GGUF rows)\n", kiln_device_info(dev)->name,
               kiln_model_get_info(m)->n_repacked, kiln_model_get_info(m)->n_matmul_weights);
    for (int t = 0; t < 2 && status == KILN_OK; t++) {
        if ((t == 0 && !rq->pp) || (t == 1 && !rq->tg))
            continue;
        struct kiln_model_bench b;
        status = kiln_model_bench_run(m, s, t == 0 ? rq->pp : 0, t == 1 ? rq->tg : 0, rq->depth, (int)rq->reps, &b);
        if (status != KILN_OK)
            break;
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
        fprintf(out, "| %-22.22s | %9s | %8s | %-7s | %7d | %-14s | %18s |\n", c->name[0] ? c->name : "model", size,
               count, kiln_device_info(dev)->name, kiln_device_info(dev)->n_threads, b.test, tps_text);
        char run_name[300], label[200];
        const char *space = strchr(b.test, ' ');
        snprintf(run_name, sizeof run_name, "model/%s/%s/%s/%.*s%s%s", rq->name ? rq->name : c->name,
                 rq->type_label ? rq->type_label : "gguf", kiln_device_info(dev)->name,
                 space ? (int)(space - b.test) : (int)strlen(b.test), b.test, space ? "/d:" : "",
                 space ? space + 4 : "");
        snprintf(label, sizeof label, "%s; %.1f MiB weights, %.1f MiB K/V, peak RSS %.1f MiB", b.test,
                 c->weight_bytes / 1048576.0, c->kv_bytes / 1048576.0, b.rss_peak / 1048576.0);
        // Quantized weights (most of the matmul bytes): the int8 dot-product peak, what the
        // fastest kernels for them run on; float weights: the FMA peak.
        // A device with a matrix-unit peak (CUDA) runs prefill's matmuls on it (the mma rows).
        const bool int8 = 2 * c->matmul_quantized_bytes > c->matmul_bytes && ceil->int8_ops > 0;
        const bool tensor = ceil->tensor_flops > 0;
        const enum kiln_peak_kind peak = tensor ? KILN_PEAK_TENSOR : int8 ? KILN_PEAK_INT8 : KILN_PEAK_FMA;
        kiln_gbench_add_model(list, run_name, label, family++, &b, (double)c->weight_bytes, (double)c->kv_bytes,
                              ceil, peak);
        if (b.fallback.calls) {
            double total = 0;
            for (int r = 0; r < b.reps; r++)
                total += b.seconds[r];
            char share[64] = "time share not measured (asynchronous device)";
            if (b.fallback.seconds >= 0)
                snprintf(share, sizeof share, "%.0f%% of the time", 100 * b.fallback.seconds / total);
            fprintf(out, "  %s: SLOW PATH: %" PRId64 " matmuls per run ran the dequantize-then-float fallback or the "
                   "reference kernel (no SIMD kernel for their type here), %s: %s\n", b.test, b.fallback.calls / b.reps, share,
                   b.fallback.tensors);
        }
        if (t == 0 && ceil->valid) {
            const double top = kiln_roofline_peak(ceil, peak);
            const char *isa = tensor ? ceil->tensor_isa : int8 ? ceil->int8_isa : ceil->fma_isa;
            fprintf(out, "  prefill: %.1f GFLOP per token, %.1f GFLOP/s = %.0f%% of the %.1f %s peak%s%s%s\n",
                   b.flops_per_token / 1e9, b.flops_per_token * st.median / 1e9,
                   100 * b.flops_per_token * st.median / top, top / 1e9, tensor ? "GFLOP/s tensor" : int8 ? "GOP/s int8" : "GFLOP/s FMA",
                   isa ? " (" : "", isa ? isa : "", isa ? ")" : "");
        }
        if (t == 1 && ceil->valid)
            fprintf(out, "  decode: %.1f MiB per token, %.2f GB/s = %.0f%% of the %.2f GB/s read bandwidth "
                   "(best of %d probes; the worst read %.2f)\n",
                   b.bytes_per_token / 1048576.0, b.bytes_per_token * st.median / 1e9,
                   100 * b.bytes_per_token * st.median / ceil->read_bw, ceil->read_bw / 1e9,
                   ceil->read_reps, ceil->read_bw_worst / 1e9);
    }
    kiln_stream_free(s);  // first: it finishes work still recorded on a GPU stream
    kiln_model_free(m);
    *family_io = family;
    if (!rq->out)
        fclose(out);
    return status;
}
