// The op benchmarks of one device, as `kiln bench ops|roofline` and the Python package's
// kiln.bench_ops run them: the roofline probes (unless told not to), then every (op, type,
// shape) case through the harness (bench/ops/bench_ops.h), then the device's comparators
// (cuBLAS on CUDA) on the same case; each entry appended to a Google Benchmark document and,
// where `out` is set, printed as a table row.
#pragma once

#include <cjson/cJSON.h>
#include <stdio.h>

#include "bench/ops/bench_ops.h"
#include "bench/report/report.h"
#include "bench/timing/roofline.h"

struct kiln_bench_ops_request {
    const char *ops;     // "matmul,attention,dequant" list; NULL = all three
    const char *types;   // type list, "all", or NULL = the default set (what users deploy)
    const char *set;     // shape set name; NULL = "default"
    struct kiln_bench_case shape;  // one shape instead of a set, where have_shape
    bool have_shape;
    bool roofline_only, no_roofline;
    struct kiln_bench_config cfg;
    enum kiln_report_format format;
    FILE *out;           // rows as they finish; NULL = none
};

// Appends to doc's "benchmarks"; `family` counts on across devices. On failure the message
// names the case (kiln_last_error()).
enum kiln_status kiln_bench_ops_device(struct kiln_device *dev, const struct kiln_bench_ops_request *rq,
                                       cJSON *doc, struct kiln_ceilings *ceil, int *family);

// A --shape given alone: KILN_E_INVALID unless it is a matmul, attention or dequant shape.
enum kiln_status kiln_bench_ops_check_shape(const struct kiln_bench_ops_request *rq);
