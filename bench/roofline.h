// A device's measured ceilings (`kiln bench roofline`): read bandwidth, copy bandwidth (read +
// write bytes), and peak FMA FLOP/s, each the best repetition of a probe kernel timed by the
// harness on buffers several times larger than the last-level cache. Benchmarks report their
// achieved rate as a fraction of the roofline min(peak_flops, intensity x read_bw) measured
// in the same run.
#pragma once

#include "bench/harness.h"

struct kiln_ceilings {
    double read_bw;     // bytes/s
    double copy_bw;     // bytes/s, read + write
    double fma_flops;   // FLOP/s
    double probe_bytes; // working set of the bandwidth probes
    bool valid;
};

// What one probe measured, for the JSON entries (`roofline/<probe>/<device>`).
struct kiln_probe_result {
    const char *probe;         // "read", "copy", "fma"
    struct kiln_bench_result r;
    double bytes, flops;       // per iteration
};

enum kiln_status kiln_roofline_measure(struct kiln_stream *s, const struct kiln_bench_config *cfg,
                                       struct kiln_ceilings *out, struct kiln_probe_result probes[3]);

// The attainable FLOP/s at this arithmetic intensity (FLOPs per byte), and the fraction of it a
// result reached: min(peak, intensity * read_bw). For flops == 0 (pure data movement) the
// fraction is of the read bandwidth.
double kiln_roofline_fraction(const struct kiln_ceilings *c, double flops_per_s, double bytes_per_s,
                              double flops, double bytes);
