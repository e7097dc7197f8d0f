// Google Benchmark JSON writer (gbench_json.h).
#include "kiln_git_commit.h"
#include "bench/report/gbench_json.h"
#include "bench/report/gbench_read.h"
#include "quant/file/out_file.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <time.h>
#include <unistd.h>

#include "backends/cpu/cpu_features.h"
#include "bench/timing/stats.h"
#include "backends/cpu/topology.h"

void kiln_gbench_format_double(double v, char *buf, size_t size) {
    if (!isfinite(v))
        snprintf(buf, size, "null");
    else
        snprintf(buf, size, "%.16e", v);  // kiln never calls setlocale: the C locale's '.'
}

static void add_double(cJSON *o, const char *key, double v) {
    char buf[40];
    kiln_gbench_format_double(v, buf, sizeof buf);
    cJSON_AddRawToObject(o, key, buf);
}

static void add_int(cJSON *o, const char *key, int64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    cJSON_AddRawToObject(o, key, buf);
}

static void rfc3339_now(char *buf, size_t size) {
    const time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char zone[8];
    strftime(zone, sizeof zone, "%z", &tm);  // +hhmm -> +hh:mm
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s%.3s:%.2s", stamp, zone, zone + 3);
}

// GB: true if any CPU's scaling governor is not "performance"; false where there is none.
static bool cpu_scaling_enabled(void) {
    for (int cpu = 0; cpu < 4096; cpu++) {
        char path[96], gov[32] = "";
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor", cpu);
        FILE *f = fopen(path, "r");
        if (!f)
            return false;
        const bool read = fgets(gov, sizeof gov, f) != NULL;
        fclose(f);
        if (read && strncmp(gov, "performance", 11) != 0)
            return true;
    }
    return false;
}

static void add_context_caches(cJSON *ctx, const struct kiln_topology_info *t) {
    cJSON *caches = cJSON_AddArrayToObject(ctx, "caches");
    for (int i = 0; t && i < t->n_caches; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "type", t->caches[i].type);
        add_int(c, "level", t->caches[i].level);
        add_int(c, "size", (int64_t)t->caches[i].size);
        add_int(c, "num_sharing", t->caches[i].num_sharing);
        cJSON_AddItemToArray(caches, c);
    }
}

cJSON *kiln_gbench_new(const char *executable, const struct kiln_gbench_device *devices, int n_devices) {
    const struct kiln_topology_info *t = NULL;
    kiln_topology_get(&t);
    cJSON *doc = cJSON_CreateObject();
    cJSON *ctx = cJSON_AddObjectToObject(doc, "context");
    char buf[256];
    rfc3339_now(buf, sizeof buf);
    cJSON_AddStringToObject(ctx, "date", buf);
    if (gethostname(buf, sizeof buf) != 0)
        snprintf(buf, sizeof buf, "unknown");
    cJSON_AddStringToObject(ctx, "host_name", buf);
    cJSON_AddStringToObject(ctx, "executable", executable);
    add_int(ctx, "num_cpus", sysconf(_SC_NPROCESSORS_ONLN));
    add_int(ctx, "mhz_per_cpu", t ? (int64_t)llround(t->mhz) : 0);
    cJSON_AddBoolToObject(ctx, "cpu_scaling_enabled", cpu_scaling_enabled());
    const int pers = personality(0xffffffff);
    cJSON_AddBoolToObject(ctx, "aslr_enabled", pers == -1 || !(pers & ADDR_NO_RANDOMIZE));
    add_context_caches(ctx, t);
    double load[3];
    const int n_load = getloadavg(load, 3);
    cJSON *la = cJSON_AddArrayToObject(ctx, "load_avg");
    for (int i = 0; i < n_load; i++) {
        snprintf(buf, sizeof buf, "%g", load[i]);
        cJSON_AddItemToArray(la, cJSON_CreateRaw(buf));
    }
    cJSON_AddStringToObject(ctx, "library_version", "kiln-" KILN_VERSION);
    cJSON_AddStringToObject(ctx, "library_build_type",
                            strcmp(KILN_BUILD_TYPE, "Debug") == 0 ? "debug" : "release");
    add_int(ctx, "json_schema_version", 1);
    // kiln's own keys: strings, sorted by key, as GB's custom context.
    cJSON_AddStringToObject(ctx, "kiln_build_type", KILN_BUILD_TYPE);
    for (int i = 0; i < n_devices; i++) {
        const struct kiln_ceilings *c = devices[i].ceilings;
        if (!c || !c->valid)
            continue;
        char key[64];
        snprintf(key, sizeof key, "kiln_ceilings_%s", devices[i].name);
        snprintf(buf, sizeof buf, "read_bw=%.6e copy_bw=%.6e fma_flops=%.6e int8_ops=%.6e tensor_flops=%.6e "
                 "read_bw_worst=%.6e probe_bytes=%.0f", c->read_bw, c->copy_bw, c->fma_flops, c->int8_ops,
                 c->tensor_flops, c->read_bw_worst, c->probe_bytes);
        cJSON_AddStringToObject(ctx, key, buf);
    }
    cJSON_AddStringToObject(ctx, "kiln_compiler", KILN_COMPILER);
    cJSON_AddStringToObject(ctx, "kiln_cpu_model", t && t->cpu_model[0] ? t->cpu_model : "unknown");
    for (int i = 0; i < kiln_device_count(); i++) {
        struct kiln_device *dev = kiln_device_get(i);
        const struct kiln_device_info *info = kiln_device_info(dev);
        struct kiln_memory_info mem = { 0 };
        kiln_device_memory(dev, &mem);
        char key[64];
        snprintf(key, sizeof key, "kiln_device_%s", info->name);
        snprintf(buf, sizeof buf, "%s; driver %s; memory %" PRIu64 " bytes; threads %d",
                 info->description, info->driver[0] ? info->driver : "-", mem.total, info->n_threads);
        cJSON_AddStringToObject(ctx, key, buf);
    }
    cJSON_AddStringToObject(ctx, "kiln_git_commit", KILN_GIT_COMMIT);
    kiln_cpu_features_string(kiln_cpu_features(), buf, sizeof buf);
    cJSON_AddStringToObject(ctx, "kiln_isa", buf);
    // The machine id results/<machine>/ and the results history use (gbench_read.h).
    kiln_machine_slug(t && t->cpu_model[0] ? t->cpu_model : "unknown", t ? t->n_cores : 0, buf, sizeof buf);
    cJSON_AddStringToObject(ctx, "kiln_machine", buf);
    cJSON_AddArrayToObject(doc, "benchmarks");
    return doc;
}

cJSON *kiln_gbench_benchmarks(cJSON *doc) { return cJSON_GetObjectItemCaseSensitive(doc, "benchmarks"); }

// The numbers of one repetition (or one aggregate of them).
struct values {
    double real, cpu;           // seconds per iteration
    double bytes_per_second, flops, items_per_second, roofline_fraction;
};

static struct values rep_values(const struct kiln_bench_entry *e, const struct kiln_ceilings *c, int i) {
    struct values v = { .real = e->r.real[i], .cpu = e->r.cpu[i] };
    v.bytes_per_second = e->bytes / v.real;
    v.flops = e->flops / v.real;
    // items: multiply-adds for matmul and attention, elements for dequant
    v.items_per_second = (e->flops > 0 ? e->flops / 2.0 : (double)e->c.k * (double)e->c.m) / v.real;
    v.roofline_fraction = c ? kiln_roofline_fraction(c, v.flops, v.bytes_per_second, e->flops, e->bytes, e->peak) : 0.0;
    return v;
}

static cJSON *entry_head(const char *name, const struct kiln_bench_entry *e, const char *run_type) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    add_int(o, "family_index", e->family);
    add_int(o, "per_family_instance_index", e->instance);
    cJSON_AddStringToObject(o, "run_name", e->run_name);
    cJSON_AddStringToObject(o, "run_type", run_type);
    add_int(o, "repetitions", e->r.reps > 0 ? e->r.reps : 1);
    return o;
}

static void add_values(cJSON *o, const struct kiln_bench_entry *e, const struct values *v,
                       int64_t iterations, bool percentage) {
    add_int(o, "iterations", iterations);
    // Times in microseconds; a percentage aggregate (cv) is the raw fraction, unscaled (GB).
    const double scale = percentage ? 1.0 : 1e6;
    add_double(o, "real_time", v->real * scale);
    add_double(o, "cpu_time", v->cpu * scale);
    cJSON_AddStringToObject(o, "time_unit", "us");
    // User counters, sorted by key as GB writes them.
    add_double(o, "bytes_per_second", v->bytes_per_second);
    add_double(o, "flops", v->flops);
    add_double(o, "items_per_second", v->items_per_second);
    add_double(o, "nmse", e->nmse);
    add_double(o, "roofline_fraction", v->roofline_fraction);
    if (e->label[0])
        cJSON_AddStringToObject(o, "label", e->label);
}

void kiln_gbench_add_entry(cJSON *benchmarks, const struct kiln_bench_entry *e,
                           const struct kiln_ceilings *ceilings) {
    if (e->skipped || e->error) {
        cJSON *o = entry_head(e->run_name, e, "iteration");
        add_int(o, "repetition_index", 0);
        add_int(o, "threads", 1);
        cJSON_AddBoolToObject(o, e->error ? "error_occurred" : "skipped", true);
        cJSON_AddStringToObject(o, e->error ? "error_message" : "skip_message", e->message);
        const struct values zero = { 0 };
        add_values(o, e, &zero, 0, false);
        cJSON_AddItemToArray(benchmarks, o);
        return;
    }
    const int n = e->r.reps;
    struct values v[KILN_BENCH_MAX_REPS];
    for (int i = 0; i < n; i++) {
        v[i] = rep_values(e, ceilings, i);
        cJSON *o = entry_head(e->run_name, e, "iteration");
        add_int(o, "repetition_index", i);
        add_int(o, "threads", 1);
        add_values(o, e, &v[i], e->r.iterations, false);
        cJSON_AddItemToArray(benchmarks, o);
    }
    if (n < 2)
        return;
    static const char *const aggs[] = { "mean", "median", "stddev", "cv" };
    for (int a = 0; a < 4; a++) {
        char name[240];
        snprintf(name, sizeof name, "%s_%s", e->run_name, aggs[a]);
        cJSON *o = entry_head(name, e, "aggregate");
        add_int(o, "threads", 1);
        cJSON_AddStringToObject(o, "aggregate_name", aggs[a]);
        cJSON_AddStringToObject(o, "aggregate_unit", a == 3 ? "percentage" : "time");
        // Each field's statistic over the repetitions (GB aggregates counters the same way).
        double cols[6][KILN_BENCH_MAX_REPS];
        for (int i = 0; i < n; i++) {
            const double row[6] = { v[i].real, v[i].cpu, v[i].bytes_per_second, v[i].flops,
                                    v[i].items_per_second, v[i].roofline_fraction };
            for (int f = 0; f < 6; f++)
                cols[f][i] = row[f];
        }
        double out[6];
        for (int f = 0; f < 6; f++) {
            const struct kiln_stats s = kiln_stats_compute(cols[f], n);
            out[f] = a == 0 ? s.mean : a == 1 ? s.median : a == 2 ? s.stddev : s.cv;
        }
        const struct values agg = { out[0], out[1], out[2], out[3], out[4], out[5] };
        add_values(o, e, &agg, n, a == 3);
        cJSON_AddItemToArray(benchmarks, o);
    }
}

void kiln_gbench_add_probe(cJSON *benchmarks, const struct kiln_probe_result *p, const char *device,
                           int family) {
    struct kiln_bench_entry e = { .family = family, .r = p->r, .bytes = p->bytes, .flops = p->flops,
                                  .nmse = 0.0 };
    if (p->skipped)
        return;
    if (p->flops > 0)
        snprintf(e.run_name, sizeof e.run_name, "roofline/%s/%s", p->probe, device);
    else
        snprintf(e.run_name, sizeof e.run_name, "roofline/%s/%s/bytes:%.0f", p->probe, device,
                 strcmp(p->probe, "copy") == 0 ? p->bytes / 2 : p->bytes);
    snprintf(e.label, sizeof e.label, "probe.%s", p->probe);
    e.c.k = 1;
    e.c.m = (int64_t)(p->bytes / 4);
    kiln_gbench_add_entry(benchmarks, &e, NULL);
}

enum kiln_status kiln_gbench_check_writable(const char *path) {
    if (!path || strcmp(path, "-") == 0)
        return KILN_OK;
    struct kiln_out_file o;
    KILN_TRY(kiln_out_open(&o, path));
    kiln_out_discard(&o);
    return KILN_OK;
}

enum kiln_status kiln_gbench_save(const cJSON *doc, const char *path) {
    char *text = cJSON_Print(doc);
    if (!text)
        return kiln_fail(KILN_E_NOMEM, "out of memory printing JSON");
    if (!path || strcmp(path, "-") == 0) {
        printf("%s\n", text);
        cJSON_free(text);
        return KILN_OK;
    }
    struct kiln_out_file o;
    enum kiln_status st = kiln_out_open(&o, path);
    if (st == KILN_OK) {
        kiln_out_write(&o, text, strlen(text));
        kiln_out_write(&o, "\n", 1);
        st = kiln_out_commit(&o);
    }
    cJSON_free(text);
    return st;
}

void kiln_gbench_add_model(cJSON *benchmarks, const char *run_name, const char *label, int family,
                           const struct kiln_model_bench *b, double model_bytes, double kv_bytes,
                           const struct kiln_ceilings *ceilings, enum kiln_peak_kind peak) {
    struct kiln_bench_entry e = { .family = family, .r = { .reps = b->reps } };
    const double top = ceilings && ceilings->valid ? kiln_roofline_peak(ceilings, peak) : 0.0;
    snprintf(e.run_name, sizeof e.run_name, "%s", run_name);
    const bool decode = !strncmp(b->test, "tg", 2);
    enum { F_REAL, F_BPS, F_FLOPS, F_ROOF, F_TPS, F_TTFT, NF };
    double cols[NF][KILN_BENCH_MAX_REPS];
    for (int i = 0; i < b->reps; i++) {
        const double t = b->seconds[i], tps = (double)b->tokens / t;
        cols[F_REAL][i] = t;
        cols[F_BPS][i] = decode ? b->bytes_per_token * tps : model_bytes / t;
        cols[F_FLOPS][i] = b->flops_per_token * tps;
        // Decode is bound by memory: its fraction is of the read bandwidth. Prefill is bound by
        // arithmetic: its fraction is of the int8 peak for quantized weights, the FMA one else.
        cols[F_ROOF][i] = !ceilings || !ceilings->valid ? 0.0
                          : decode ? (ceilings->read_bw > 0 ? cols[F_BPS][i] / ceilings->read_bw : 0.0)
                                   : (top > 0 ? cols[F_FLOPS][i] / top : 0.0);
        cols[F_TPS][i] = tps;
        cols[F_TTFT][i] = decode ? t / (double)b->tokens : t;
    }
    static const char *const aggs[] = { "mean", "median", "stddev", "cv" };
    for (int k = -b->reps; k < (b->reps >= 2 ? 4 : 0); k++) {  // k < 0: repetitions, k >= 0: aggregates
        const bool agg = k >= 0;
        char name[240];
        snprintf(name, sizeof name, agg ? "%s_%s" : "%s", run_name, agg ? aggs[k] : "");
        cJSON *o = entry_head(name, &e, agg ? "aggregate" : "iteration");
        double v[NF];
        if (agg) {
            add_int(o, "threads", 1);
            cJSON_AddStringToObject(o, "aggregate_name", aggs[k]);
            cJSON_AddStringToObject(o, "aggregate_unit", k == 3 ? "percentage" : "time");
            for (int f = 0; f < NF; f++) {
                const struct kiln_stats s = kiln_stats_compute(cols[f], b->reps);
                v[f] = k == 0 ? s.mean : k == 1 ? s.median : k == 2 ? s.stddev : s.cv;
            }
            add_int(o, "iterations", b->reps);
        } else {
            const int i = k + b->reps;  // k runs -reps .. -1: repetitions 0 .. reps-1 in order
            add_int(o, "repetition_index", i);
            add_int(o, "threads", 1);
            for (int f = 0; f < NF; f++)
                v[f] = cols[f][i];
            add_int(o, "iterations", 1);
        }
        const double scale = agg && k == 3 ? 1.0 : 1e3;
        add_double(o, "real_time", v[F_REAL] * scale);
        add_double(o, "cpu_time", v[F_REAL] * scale);
        cJSON_AddStringToObject(o, "time_unit", "ms");
        add_double(o, "bytes_per_second", v[F_BPS]);
        add_double(o, "flops_per_second", v[F_FLOPS]);
        add_double(o, "kv_bytes", kv_bytes);
        add_double(o, "memory_peak_bytes", (double)b->device_peak);
        add_double(o, "model_bytes", model_bytes);
        add_double(o, "roofline_fraction", v[F_ROOF]);
        add_double(o, "rss_peak_bytes", (double)b->rss_peak);
        add_double(o, "tokens_per_second", v[F_TPS]);
        add_double(o, "ttft", v[F_TTFT]);
        cJSON_AddStringToObject(o, "label", label);
        cJSON_AddItemToArray(benchmarks, o);
    }
}
