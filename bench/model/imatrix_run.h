// Computing an importance matrix with kiln's runner, as llama.cpp's llama-imatrix does
// (tools/imatrix/imatrix.cpp): the tokens cut into chunks of n_ctx (the first token of each
// replaced by BOS when the vocabulary adds one), each chunk run from position 0 in batches of
// up to 512 tokens (llama's micro-batch); after every matmul of a batch of at least 16 tokens,
// for each weight blk.* (and output.weight when asked), sum[i] += x[i]^2 over the batch's
// tokens in order (f32, as llama's collector) and count += tokens. Written in llama's GGUF
// imatrix format (quant/convert/imatrix.h), which kiln quantize --imatrix and llama-quantize read.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"

struct kiln_imatrix_run_options {
    int64_t n_ctx;          // tokens per chunk (llama-imatrix -c; 512 default)
    int64_t n_chunks;       // at most this many chunks; <= 0: every whole chunk of the tokens
    bool process_output;    // also collect output.weight (llama-imatrix --process-output)
    int progress;           // 1 always, 0 never, -1 on a TTY
    const char *dataset;    // imatrix.datasets[0]: what the tokens came from (a file name)
    int32_t bos;            // each chunk's first token becomes this (the vocabulary's BOS when it
                            // adds one, as llama-imatrix); -1: left as it is
};

struct kiln_imatrix_run_stats {
    int64_t chunks, tokens, entries;
    double seconds;         // the forward passes (and the collection), not the load
    double ppl;             // perplexity over the second half of each chunk, as llama-imatrix
};

enum kiln_status kiln_imatrix_compute(const char *model_path, struct kiln_device *dev, const int32_t *tokens,
                                      int64_t n_tokens, const struct kiln_imatrix_run_options *o,
                                      const char *out_path, struct kiln_imatrix_run_stats *stats);
