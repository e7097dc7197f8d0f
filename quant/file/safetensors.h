// Hugging Face safetensors reader: one file, or a sharded model through
// model.safetensors.index.json. Each file is mmapped; the 8-byte LE header length and the JSON
// header (parsed with cJSON) are validated — dtype, shape, and data offsets that lie inside the
// data area, match the shape, and do not overlap — before any tensor is handed out.
// Supported dtypes: F32, F16, BF16 (what LLM checkpoints hold); others are a clear error.
#pragma once

#include <stdint.h>

#include "backends/status.h"
#include "quant/format/types.h"

struct kiln_st_tensor {
    char name[256];
    enum kiln_type type;     // F32, F16, BF16
    int ndim;
    int64_t shape[8];        // numpy order: shape[ndim - 1] is contiguous
    const void *data;
    uint64_t nbytes;
};

struct kiln_st_model {
    struct kiln_st_tensor *tensors;
    int n_tensors;
    struct st_file *files;
    int n_files;
};

// Opens `dir/model.safetensors.index.json` if present (all its shards), else every
// `dir/*.safetensors`; or `path` itself when it names a .safetensors file.
enum kiln_status kiln_st_open(const char *path, struct kiln_st_model *out);
void kiln_st_close(struct kiln_st_model *m);
const struct kiln_st_tensor *kiln_st_find(const struct kiln_st_model *m, const char *name);
