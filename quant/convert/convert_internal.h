// What convert.c (planning, quantizing, writing) shares with convert_hf.c (Hugging Face folders).
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "quant/convert/convert.h"
#include "quant/convert/imatrix.h"
#include "quant/file/gguf.h"

// One output tensor and where its rows come from.
struct job {
    char name[64];
    enum kiln_type src_type, dst_type;
    const uint8_t *src;
    int64_t cols, rows;        // GGUF ne[0], and ne[1] * ne[2] * ne[3]
    uint32_t n_dims;
    int64_t ne[4];
    int64_t perm_heads;        // > 0: rows permuted, heads of rows / perm_heads rows each
    const float *imatrix;      // the column importances (ne[0] per expert, ne[2] experts) or NULL
    double err2, ref2;         // filled while writing
};

struct plan {
    struct job *jobs;
    int n;
    struct kiln_mix_model model;  // what the mix's rules read (layers, heads, tied, imatrix)
    const char *arch;             // general.architecture, for the mix's refusals
    int64_t n_experts;            // expert_count (mixes refuse experts)
    struct kiln_imatrix *imatrix; // --imatrix, after --include/--exclude-weights; NULL if none
    struct kiln_pool *pool;
    int progress;
    int (*on_progress)(void *user, int done, int total, const char *tensor, uint64_t bytes_done,
                       uint64_t bytes_total);
    void *progress_user;
    double start;
    uint64_t bytes_done, bytes_total;
};

// Adds output tensor `name` (GGUF ne[], n_dims) read from `data` of src_type; its type is chosen
// when the plan runs (the mix's rules need every name). perm_heads > 0: rows permuted from HF's
// rotate-half layout.
enum kiln_status kiln_convert_add_job(struct plan *p, const struct kiln_convert_options *o, const char *name,
                                      enum kiln_type src_type, const void *data, uint32_t n_dims,
                                      const int64_t *ne, int64_t perm_heads);
// Chooses each tensor's type, then writes the planned tensors after the metadata already in `w`
// (or prints the plan: dry run).
enum kiln_status kiln_convert_run(struct plan *p, struct kiln_gguf_writer *w, const struct kiln_convert_options *o,
                                  const char *out_path);
