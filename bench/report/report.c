// Benchmark tables (report.h).
#include "bench/report/report.h"

#include <string.h>

#include "bench/timing/stats.h"

bool kiln_report_format_parse(const char *text, enum kiln_report_format *out) {
    static const char *const names[] = { "table", "csv", "md", "json" };
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (enum kiln_report_format)i;
            return true;
        }
    }
    return false;
}

void kiln_report_header(FILE *f, enum kiln_report_format fmt) {
    static const char *const cols[] = { "benchmark", "median us", "cv %", "reps", "GB/s", "GFLOP/s",
                                        "roofline %", "kernel" };
    switch (fmt) {
    case KILN_REPORT_TABLE:
        fprintf(f, "%-58s %11s %6s %4s %8s %9s %10s  %s\n", cols[0], cols[1], cols[2], cols[3],
                cols[4], cols[5], cols[6], cols[7]);
        break;
    case KILN_REPORT_CSV:
        fprintf(f, "name,median_us,cv,repetitions,gb_per_s,gflop_per_s,roofline_fraction,nmse,kernel,status\n");
        break;
    case KILN_REPORT_MD:
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s |\n|---|--:|--:|--:|--:|--:|--:|---|\n",
                cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7]);
        break;
    case KILN_REPORT_JSON:
        break;
    }
}

void kiln_report_row(FILE *f, enum kiln_report_format fmt, const struct kiln_bench_entry *e,
                     const struct kiln_ceilings *c) {
    if (fmt == KILN_REPORT_JSON)
        return;
    if (e->skipped || e->error) {
        if (fmt == KILN_REPORT_CSV)
            fprintf(f, "%s,,,,,,,,\"%s\",%s\n", e->run_name, e->label, e->message);
        else if (fmt == KILN_REPORT_MD)
            fprintf(f, "| %s | | | | | | | %s |\n", e->run_name, e->message);
        else
            fprintf(f, "%-58s %s\n", e->run_name, e->message);
        return;
    }
    const struct kiln_stats st = kiln_stats_compute(e->r.real, e->r.reps);
    const double gbs = e->bytes / st.median / 1e9, gflops = e->flops / st.median / 1e9;
    const double frac = kiln_roofline_fraction(c, e->flops / st.median, e->bytes / st.median,
                                               e->flops, e->bytes, e->peak);
    switch (fmt) {
    case KILN_REPORT_TABLE:
        fprintf(f, "%-58s %11.2f %6.2f %4d %8.2f %9.2f %10.1f  %s\n", e->run_name, st.median * 1e6,
                st.cv * 100, e->r.reps, gbs, gflops, frac * 100, e->label);
        break;
    case KILN_REPORT_CSV:
        fprintf(f, "%s,%.4f,%.5f,%d,%.4f,%.4f,%.5f,%.3g,\"%s\",ok\n", e->run_name, st.median * 1e6,
                st.cv, e->r.reps, gbs, gflops, frac, e->nmse, e->label);
        break;
    case KILN_REPORT_MD:
        fprintf(f, "| %s | %.2f | %.2f | %d | %.2f | %.2f | %.1f | %s |\n", e->run_name,
                st.median * 1e6, st.cv * 100, e->r.reps, gbs, gflops, frac * 100, e->label);
        break;
    case KILN_REPORT_JSON:
        break;
    }
    fflush(f);
}

void kiln_report_ceilings(FILE *f, enum kiln_report_format fmt, const char *device,
                          const struct kiln_ceilings *c) {
    if (fmt == KILN_REPORT_JSON || fmt == KILN_REPORT_CSV)
        return;
    char int8[96] = "int8 not measured (no dot-product probe on this device)";
    if (c->int8_ops > 0)
        snprintf(int8, sizeof int8, "int8 %.1f GOP/s (%s)", c->int8_ops / 1e9, c->int8_isa ? c->int8_isa : "?");
    char tensor[96] = "";  // only where measured: CPUs and Vulkan have no matrix-unit probe
    if (c->tensor_flops > 0)
        snprintf(tensor, sizeof tensor, ", tensor %.1f TFLOP/s (%s)", c->tensor_flops / 1e12,
                 c->tensor_isa ? c->tensor_isa : "?");
    fprintf(f, "%sroofline of %s: read %.2f GB/s (best of %d; worst %.2f), copy %.2f GB/s (read + write), "
            "FMA %.1f GFLOP/s (%s), %s%s (probes over %.0f MiB)%s\n", fmt == KILN_REPORT_MD ? "**" : "", device,
            c->read_bw / 1e9, c->read_reps, c->read_bw_worst / 1e9, c->copy_bw / 1e9, c->fma_flops / 1e9,
            c->fma_isa ? c->fma_isa : "?", int8, tensor, c->probe_bytes / (1 << 20), fmt == KILN_REPORT_MD ? "**\n" : "");
}

bool kiln_list_has(const char *list, const char *item) {
    if (!list)
        return true;
    const size_t len = strlen(item);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, item, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}
