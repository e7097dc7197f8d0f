// libkiln.so: kiln's public C API, for programs and for the Python package (python/kiln, over
// ctypes). Besides this file the library exports the device and op interface of
// backends/backend.h and backends/ops.h (kiln_init, devices, buffers, tensors, streams,
// kiln_matmul ...) and kiln_last_error() / kiln_status_name() of backends/status.h; nothing
// else (api/libkiln.map).
//
// Conventions, chosen so a foreign-function caller needs no struct layouts:
//   - every call returns 0 (KILN_OK) or a negative enum kiln_status, and on failure leaves a
//     one-line message in kiln_last_error() (per thread);
//   - options are a JSON object text (NULL or "" = all defaults); unknown keys are an error
//     naming the key, so a misspelt option is never silently ignored;
//   - results are JSON texts the library allocates: free them with kiln_api_free();
//   - no call exits, aborts or prints to stdout; progress and notes go to stderr, or to the
//     progress callback; calls are serialised by one lock (the device layer is per process).
// The JSON shapes are documented beside each call and in python/kiln/__init__.py's types.
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Bumped when a call's signature or a result's shape changes incompatibly.
#define KILN_API_VERSION 1

int kiln_api_version(void);
// "0.1.0 (412a413d0fab)": the library version and the commit it was built from.
const char *kiln_api_build(void);
const char *kiln_last_error(void);
void kiln_api_free(void *p);

// {"threads": N, "backend": "cpu,vulkan"} -> kiln info --json's object.
int kiln_api_info(const char *options, char **out);

// A GGUF file -> {"path", "version", "alignment", "file_size", "metadata": {key: value},
// "tensors": [{"name", "type", "shape", "bytes", "offset"}], "types": {type: {"tensors",
// "elements", "bytes", "bpw"}}, "bpw", "model": {"architecture", "n_layer", ...} or null}.
// Metadata arrays longer than 64 become {"type", "length"}; "check": false skips the model check.
int kiln_api_inspect(const char *path, const char *options, char **out);

// Called after each tensor; a non-zero return cancels (the call fails, no output is left).
typedef int (*kiln_api_progress_fn)(void *user, int done, int total, const char *tensor,
                                    uint64_t bytes_done, uint64_t bytes_total);

// SRC (a Hugging Face folder, or a GGUF file) -> DST (GGUF) of a type or mix, as kiln convert /
// kiln quantize. Options: "type" (default "f16" for a folder, required for a GGUF), "threads",
// "imatrix", "tensor_type" ("regex=type,..."), "pure", "output_tensor_type",
// "token_embedding_type", "leave_output_tensor", "dry_run". Result (out may be NULL):
// {"bytes_in", "bytes_out", "elements", "bpw", "rel_rmse", "seconds"}.
int kiln_api_convert(const char *src, const char *dst, const char *options, kiln_api_progress_fn progress,
                     void *user, char **out);

// Op benchmarks -> a Google Benchmark JSON document (as kiln bench ops --json writes).
// Options: "op" ("matmul,dequant"; default all), "type" (list or "all"), "shape"
// ("m=4096,n=1,k=4096"), "shapes" (a shape set), "backend" (default: every non-emulated device),
// "threads", "min_time", "repetitions", "max_cv", "roofline" (default true), "cache_hot" (one
// copy of W, reused: names end in /hot), "json" (also write
// the file), "db" (also append to a results history).
int kiln_api_bench_ops(const char *options, char **out);

// Model benchmarks -> a Google Benchmark JSON document (kiln bench model --json). Options:
// "model" (a GGUF path), "pp", "tg", "depth", "reps", "backend", "threads", "roofline",
// "graphs", "json", "db".
int kiln_api_bench_model(const char *options, char **out);

// BASE vs NEW (files or "db:REF") -> {"summary", "threshold", "alpha", "geomean_change", "rows":
// [{"name", "verdict", "old_median_s", "new_median_s", "change", "p_value", ...}], "markdown"}.
// Options: "threshold", "alpha", "cpu", "db", "machine", "junit" (also write JUnit XML),
// "base_label", "new_label" (what the reports call each side; default: BASE and NEW).
int kiln_api_compare(const char *base, const char *cand, const char *options, char **out);

// Appends a Google Benchmark JSON document to the results history DB (created if absent);
// *run_id (may be NULL) gets the stored run's id. `source` says what stored it.
int kiln_api_history_store(const char *db, const char *gbench_json, const char *source, int64_t *run_id);

// The series of a results history, with change points: [{"name", "machine", "points": [{"run",
// "commit", "date", "median_s", "reps", "change", "unconfirmed", "step", "p_value"}]}].
// Options: "name" (regex), "machine", "threshold", "alpha", "window".
int kiln_api_history(const char *db, const char *options, char **out);

// A GGUF model loaded on one device for kiln.run(): options "backend" (default cpu), "threads",
// "ctx" (default 512).
struct kiln_api_model;
int kiln_api_model_open(const char *path, const char *options, struct kiln_api_model **out);
// {"n_vocab", "n_ctx", "n_layer", "n_embd", "device", "architecture"}
int kiln_api_model_info(const struct kiln_api_model *m, char **out);
// The logits of every position of `tokens` (n_tokens x n_vocab floats, row-major, into `logits`,
// which holds `capacity` floats), from a fresh context.
int kiln_api_model_logits(struct kiln_api_model *m, const int32_t *tokens, int64_t n_tokens, float *logits,
                          int64_t capacity);
void kiln_api_model_close(struct kiln_api_model *m);

#ifdef __cplusplus
}
#endif
