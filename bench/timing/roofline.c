// Ceiling measurement (roofline.h).
#include "bench/timing/roofline.h"

#include <stdlib.h>
#include <string.h>

#include "backends/cpu/topology.h"

struct probe_body {
    struct kiln_stream *s;
    enum kiln_probe_kind kind;
    struct kiln_buffer *a, *b;
    size_t bytes;
    double flops;
};

static enum kiln_status probe_once(void *arg, int64_t i) {
    (void)i;
    struct probe_body *p = arg;
    return kiln_probe(p->s, p->kind, p->a, p->b, p->bytes, p->flops, NULL);
}

// Working set of the bandwidth probes: 2x the last-level cache (so it cannot hold a useful part
// of it), at least 256 MiB, at most 2 GiB or a quarter of free memory.
static size_t probe_bytes(struct kiln_device *dev) {
    const struct kiln_topology_info *t;
    size_t want = (size_t)256 << 20;
    if (kiln_device_info(dev)->host_memory && kiln_topology_get(&t) == KILN_OK && 2 * t->llc_bytes > want)
        want = (size_t)(2 * t->llc_bytes);
    struct kiln_memory_info mem;
    size_t cap = (size_t)2 << 30;
    if (kiln_device_memory(dev, &mem) == KILN_OK && mem.free_known && mem.free / 4 < cap)
        cap = (size_t)(mem.free / 4);
    want = want < cap ? want : cap;
    return want & ~(size_t)4095;
}

static double best_rate(const struct kiln_bench_result *r, double work) {
    double best = 0.0;
    for (int i = 0; i < r->reps; i++)
        if (r->real[i] > 0 && work / r->real[i] > best)
            best = work / r->real[i];
    return best;
}

static double worst_rate(const struct kiln_bench_result *r, double work) {
    double worst = 0.0;
    for (int i = 0; i < r->reps; i++)
        if (r->real[i] > 0 && (worst == 0.0 || work / r->real[i] < worst))
            worst = work / r->real[i];
    return worst;
}

enum kiln_status kiln_roofline_measure(struct kiln_stream *s, const struct kiln_bench_config *cfg,
                                       struct kiln_ceilings *out, struct kiln_probe_result *probes) {
    memset(out, 0, sizeof *out);
    struct kiln_device *dev = kiln_stream_device(s);
    const size_t bytes = probe_bytes(dev);
    struct kiln_buffer *a = NULL, *b = NULL;
    enum kiln_status st = kiln_buffer_alloc(dev, bytes, &a);
    if (st == KILN_OK)
        st = kiln_buffer_alloc(dev, bytes, &b);
    // Touch every page (first-touch placement, no page faults inside the timing).
    const size_t chunk = (size_t)16 << 20;
    float *ones = st == KILN_OK ? malloc(chunk) : NULL;
    if (st == KILN_OK && !ones)
        st = kiln_fail(KILN_E_NOMEM, "out of host memory");
    for (size_t i = 0; ones && i < chunk / sizeof(float); i++)
        ones[i] = 1.0f;
    for (size_t off = 0; st == KILN_OK && off < bytes; off += chunk) {
        const size_t n = bytes - off < chunk ? bytes - off : chunk;
        st = kiln_buffer_upload(s, a, off, ones, n);
        if (st == KILN_OK)
            st = kiln_buffer_upload(s, b, off, ones, n);
    }
    free(ones);
    static const char *const names[KILN_PROBE_COUNT] = { "read", "copy", "fma", "int8", "tensor" };
    for (int p = 0; p < KILN_PROBE_COUNT && st == KILN_OK; p++) {
        struct probe_body body = { .s = s, .kind = (enum kiln_probe_kind)p, .a = a, .b = b,
                                   .bytes = bytes };
        probes[p] = (struct kiln_probe_result){ .probe = names[p] };
        if (p == KILN_PROBE_FMA || p == KILN_PROBE_INT8 || p == KILN_PROBE_TENSOR) {
            body.flops = 2e9;  // ~10 ms at 200 GFLOP/s: the growth loop takes it from there
            double done = 0;
            st = kiln_probe(s, body.kind, NULL, b, 0, body.flops, &done);
            if (st == KILN_E_UNSUPPORTED && p != KILN_PROBE_FMA) {
                probes[p].skipped = true;  // no such peak on this device: fractions use the FMA one
                st = KILN_OK;
                continue;
            }
            probes[p].flops = done;
        } else {
            probes[p].bytes = p == KILN_PROBE_COPY ? 2.0 * (double)bytes : (double)bytes;
        }
        if (st == KILN_OK)
            st = kiln_bench_measure(s, cfg, probe_once, &body, &probes[p].r);
    }
    if (st == KILN_OK) {
        out->read_bw = best_rate(&probes[0].r, probes[0].bytes);
        out->copy_bw = best_rate(&probes[1].r, probes[1].bytes);
        out->read_bw_worst = worst_rate(&probes[0].r, probes[0].bytes);
        out->read_reps = probes[0].r.reps;
        out->fma_flops = best_rate(&probes[2].r, probes[2].flops);
        out->int8_ops = probes[3].skipped ? 0.0 : best_rate(&probes[3].r, probes[3].flops);
        out->fma_isa = kiln_probe_isa(dev, KILN_PROBE_FMA);
        out->int8_isa = probes[3].skipped ? NULL : kiln_probe_isa(dev, KILN_PROBE_INT8);
        out->tensor_flops = probes[4].skipped ? 0.0 : best_rate(&probes[4].r, probes[4].flops);
        out->tensor_isa = probes[4].skipped ? NULL : kiln_probe_isa(dev, KILN_PROBE_TENSOR);
        out->probe_bytes = (double)bytes;
        out->valid = true;
    }
    kiln_buffer_free(a);
    kiln_buffer_free(b);
    return st;
}

double kiln_roofline_peak(const struct kiln_ceilings *c, enum kiln_peak_kind kind) {
    if (kind == KILN_PEAK_INT8 && c->int8_ops > 0)
        return c->int8_ops;
    if (kind == KILN_PEAK_TENSOR && c->tensor_flops > 0)
        return c->tensor_flops;
    return c->fma_flops;
}

double kiln_roofline_fraction(const struct kiln_ceilings *c, double flops_per_s, double bytes_per_s,
                              double flops, double bytes, enum kiln_peak_kind peak) {
    if (!c || !c->valid)
        return 0.0;
    if (flops <= 0.0 || bytes <= 0.0)
        return c->read_bw > 0 ? bytes_per_s / c->read_bw : 0.0;
    const double intensity = flops / bytes;
    const double bw_bound = intensity * c->read_bw;
    const double top = kiln_roofline_peak(c, peak);
    const double attainable = bw_bound < top ? bw_bound : top;
    return attainable > 0 ? flops_per_s / attainable : 0.0;
}
