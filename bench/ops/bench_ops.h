// Op benchmarks (`kiln bench ops`): each case is an op, a type and a shape, run on one device
// through the dispatch layer exactly as a user's call would (kiln_op_run: the best kernel, or
// the fallback), first checked against the reference on that shape, then timed by the harness
// with its inputs rotated across copies whose total exceeds the last-level cache.
#pragma once

#include "backends/kernel.h"
#include "bench/timing/harness.h"
#include "bench/timing/roofline.h"

struct kiln_bench_case {
    enum kiln_op_kind op;     // matmul, attention or dequant
    enum kiln_type type;      // weights (matmul), K/V (attention), source (dequant)
    enum kiln_type out_type;  // dequant destination
    int64_t m, n, k;          // matmul W [k, m], x [k, n]; dequant k = row length, m = rows
    int64_t d, q, kv, h, h_kv;  // attention: head dim, queries, context, heads, kv heads
    char set[48];             // where the shape comes from ("llama-8b ffn_down"), or ""
    const struct kiln_kernel *kernel;  // time exactly this row (a comparator); NULL = dispatch
};

struct kiln_bench_entry {
    struct kiln_bench_case c;
    char run_name[200];       // "matmul/q4_0/cpu/m:4096/n:1/k:14336"
    char label[200];          // kernel and path taken
    const char *device;
    int family, instance;     // Google Benchmark's family_index / per_family_instance_index
    bool skipped;             // not run: message says why (failed check, unsupported)
    bool error;               // the check failed: the kernel was not timed
    char message[240];
    double nmse;              // of the check on this shape
    double bytes, flops;      // per iteration
    enum kiln_peak_kind peak; // the compute peak its fraction is of (int8 for quantized matmul W)
    struct kiln_bench_result r;
};

// Parses "m=4096,n=1,k=14336" (matmul), "d=128,q=1,kv=4096,h=32,hkv=4" (attention) or
// "k=4096,m=64" (dequant) into c's shape. False with a message on stderr if malformed.
bool kiln_bench_parse_shape(const char *text, struct kiln_bench_case *c);

// Named shape sets: "default" (the headline cases), "llama-1b", "llama-7b",
// "llama-8b", "ci" (tiny shapes for tests). Returns the count (at most max), -1 if unknown.
int kiln_bench_shape_set(const char *name, enum kiln_op_kind op, struct kiln_bench_case *out, int max);
const char *kiln_bench_shape_set_names(void);

// Checks and times one case on the stream's device. A failed check or an unsupported case is
// recorded in the entry (skipped/error), not returned as an error; harness failures are.
enum kiln_status kiln_bench_run(struct kiln_stream *s, const struct kiln_bench_case *c,
                                const struct kiln_bench_config *cfg, struct kiln_bench_entry *e);

// Builds the run name of a case on a device.
void kiln_bench_case_name(const struct kiln_bench_case *c, const char *device, char *buf, size_t size);
