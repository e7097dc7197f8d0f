// Importance matrices as llama.cpp's llama-imatrix writes them and llama-quantize reads them
// (tools/quantize/quantize.cpp load_imatrix, common/imatrix-loader.cpp), for `--imatrix FILE`.
//   GGUF   general.type = imatrix; per weight W an f32 tensor "W.in_sum2" (sum over tokens of
//          the squared activation entering each column, ne0 * n_experts values) and "W.counts"
//          (tokens seen, one per expert); keys imatrix.datasets, imatrix.chunk_count,
//          imatrix.chunk_size. The importance of column i of expert j is in_sum2 / counts[j]
//          (1 where the expert saw no token), as llama-quantize computes it.
//   legacy .dat: int32 n_entries; per entry int32 len, name, int32 ncall, int32 nval, nval f32
//          (already averaged, times ncall); then optionally int32 chunk count, int32 len, dataset
//          name. The importance is value / ncall (the value itself when ncall is 0).
// Every value must be finite and not negative (a sum of squares); a file that breaks that, or is
// cut short, is refused naming the entry.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backends/status.h"

struct kiln_imatrix_entry {
    char *name;        // the weight's tensor name (blk.0.ffn_down.weight)
    float *values;     // n importances, the quantizers' per-column weights
    int64_t n;
    bool used;         // set by the converter when a tensor takes it
};

struct kiln_imatrix {
    struct kiln_imatrix_entry *entries;
    int n;
    char dataset[256];  // the first of imatrix.datasets (or the legacy trailer's), "" if none
    int32_t chunk_count;
    bool legacy;
};

// Reads `path` (either format). KILN_E_IO when it cannot be read, KILN_E_FORMAT with a message
// naming the file and the entry otherwise.
enum kiln_status kiln_imatrix_load(const char *path, struct kiln_imatrix **out);
void kiln_imatrix_free(struct kiln_imatrix *m);

// llama-quantize's --exclude-weights then --include-weights: entries whose name contains any of
// `exclude` are dropped; then, when n_include > 0, only those containing one of `include` kept.
void kiln_imatrix_filter(struct kiln_imatrix *m, const char *const *include, int n_include,
                         const char *const *exclude, int n_exclude);

struct kiln_imatrix_entry *kiln_imatrix_find(struct kiln_imatrix *m, const char *name);
