// One model's benchmarks on one device, as `kiln bench model` and kiln.bench_model run them:
// the roofline first (on the empty device, so the memory peak is the model's alone), the load,
// then ppN and tgN (llama-bench's tests), each appended to a Google Benchmark list as
// model/<model>/<type>/<device>/<test> and printed as a table row with its roofline line and
// any slow-path note where `out` is set.
#pragma once

#include <cjson/cJSON.h>
#include <stdio.h>

#include "bench/model/bench_model.h"
#include "bench/timing/roofline.h"

struct kiln_bench_model_request {
    const char *path;        // the GGUF file
    const char *name;        // the run name's model part; NULL: the model's own name
    const char *type_label;  // the run name's type part; NULL: "gguf"
    long pp, tg, depth, reps;
    bool no_roofline, no_graphs;
    FILE *out;               // the table; NULL = nothing printed
};

void kiln_bench_model_header(FILE *out);
enum kiln_status kiln_bench_model_device(struct kiln_device *dev, const struct kiln_bench_model_request *rq,
                                         cJSON *list, struct kiln_ceilings *ceil, int *family);
