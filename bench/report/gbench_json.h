// Google Benchmark JSON (spec/benchmark-json.md §1), written with cJSON.
//
// Numbers are attached as raw text: doubles as "%.16e" (17 significant digits, exactly as GB
// prints them, so they round-trip; cJSON 1.7.15's own printing does not), integers as decimal.
// A non-finite double is written as null (valid JSON; GB's bare NaN token is not). Custom
// context keys are strings, as GB's are, and sorted. Files are written to a temporary name and
// renamed into place, so no reader ever sees half a report.
#pragma once

#include <cjson/cJSON.h>

#include "bench/ops/bench_ops.h"
#include "bench/timing/roofline.h"

struct kiln_gbench_device {
    const char *name;
    const struct kiln_ceilings *ceilings;  // NULL if not measured
};

// A new document {"context": {...}, "benchmarks": []}.
cJSON *kiln_gbench_new(const char *executable, const struct kiln_gbench_device *devices, int n_devices);
cJSON *kiln_gbench_benchmarks(cJSON *doc);

// Appends an op benchmark's entries: one per repetition, then mean, median, stddev, cv when
// there are >= 2 repetitions; or one error/skip entry. `ceilings` gives roofline_fraction.
void kiln_gbench_add_entry(cJSON *benchmarks, const struct kiln_bench_entry *e,
                           const struct kiln_ceilings *ceilings);

// Appends a roofline probe's entries ("roofline/read/cpu/bytes:...").
void kiln_gbench_add_probe(cJSON *benchmarks, const struct kiln_probe_result *p, const char *device,
                           int family);

// Writes the document to `path` (temp file + rename); "-" = stdout.
enum kiln_status kiln_gbench_save(const cJSON *doc, const char *path);

// Fails early (before a long run) if `path` cannot be written.
enum kiln_status kiln_gbench_check_writable(const char *path);

// A double as GB prints it ("%.16e"), or "null".
void kiln_gbench_format_double(double v, char *buf, size_t size);

#include "bench/model/bench_model.h"

// A model benchmark's entries (`model/<model>/<type>/<device>/pp512`): one per repetition
// (an iteration = the whole test: ppN's prompt or tgN's N decode steps; times in ms, cpu_time =
// real_time) and the four aggregates. Counters: bytes_per_second (decode: bytes a token reads x
// tokens/s), kv_bytes, memory_peak_bytes (kiln's device peak), model_bytes, roofline_fraction
// (decode: of the read bandwidth), rss_peak_bytes, tokens_per_second, ttft (seconds to the first
// token: the prompt for ppN, one step for tgN).
void kiln_gbench_add_model(cJSON *benchmarks, const char *run_name, const char *label, int family,
                           const struct kiln_model_bench *b, double model_bytes, double kv_bytes,
                           const struct kiln_ceilings *ceilings, enum kiln_peak_kind peak);
