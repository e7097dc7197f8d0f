// A device's measured ceilings (`kiln bench roofline`): read bandwidth, copy bandwidth (read +
// write bytes), peak FMA FLOP/s with the widest vectors the device has, and peak int8
// dot-product op/s (2 per multiply-add; 0 where the device has no probe), each the best
// repetition of a probe kernel timed by the harness on buffers several times larger than the
// last-level cache; the read bandwidth's worst repetition is kept too, as its spread.
// Benchmarks report their achieved rate as a fraction of the roofline min(peak, intensity x
// read_bw) measured in the same run, where the peak is the int8 one for quantized weights (what
// the fastest kernels for them run on: ggml's and kiln's integer dot products) and the FMA one for
// float weights; on a device with a matrix-unit probe (CUDA mma.sync), rows that run on tensor
// cores (their inputs rounded to f16: gemm_tc, mma, fa2, cuBLAS) are fractions of that peak.
#pragma once

#include "bench/timing/harness.h"

struct kiln_ceilings {
    double read_bw;     // bytes/s
    double copy_bw;     // bytes/s, read + write
    double fma_flops;   // FLOP/s
    double int8_ops;    // int8 dot-product op/s (0: not measured on this device)
    double tensor_flops; // f16 matrix-unit FLOP/s (CUDA mma.sync; 0: not measured on this device)
    double read_bw_worst; // the slowest read repetition (spread = read_bw / read_bw_worst - 1)
    int read_reps;
    const char *fma_isa, *int8_isa, *tensor_isa;  // what the compute probes issued (NULL: unknown)
    double probe_bytes; // working set of the bandwidth probes
    bool valid;
};

// Which compute peak a result is a fraction of.
enum kiln_peak_kind { KILN_PEAK_FMA, KILN_PEAK_INT8, KILN_PEAK_TENSOR };

// What one probe measured, for the JSON entries (`roofline/<probe>/<device>`).
struct kiln_probe_result {
    const char *probe;         // "read", "copy", "fma", "int8", "tensor"
    struct kiln_bench_result r;
    double bytes, flops;       // per iteration (flops: integer ops for int8)
    bool skipped;              // not measured on this device (int8 or tensor without a probe)
};

// probes[KILN_PROBE_COUNT]: read, copy, fma, int8, tensor.
enum kiln_status kiln_roofline_measure(struct kiln_stream *s, const struct kiln_bench_config *cfg,
                                       struct kiln_ceilings *out, struct kiln_probe_result *probes);

// The compute peak of that kind (the FMA one where no int8 or tensor peak was measured).
double kiln_roofline_peak(const struct kiln_ceilings *c, enum kiln_peak_kind kind);

// The attainable FLOP/s at this arithmetic intensity (FLOPs per byte), and the fraction of it a
// result reached: min(peak, intensity * read_bw). For flops == 0 (pure data movement) the
// fraction is of the read bandwidth.
double kiln_roofline_fraction(const struct kiln_ceilings *c, double flops_per_s, double bytes_per_s,
                              double flops, double bytes, enum kiln_peak_kind peak);
