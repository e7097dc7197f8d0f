// The quality a quantization costs, measured on the model itself (llama.cpp's perplexity tool
// reports the same three): over a token sequence, at every position, the KL divergence of the
// quantized model's next-token distribution from the base model's, whether their top-1 tokens
// agree, and the change of the probability of the actual next token (RMS of delta-p).
#pragma once

#include <stdint.h>

#include "backends/backend.h"

struct kiln_eval_result {
    int64_t positions;
    double mean_kl, max_kl;
    double top1_agreement;   // fraction of positions
    double rms_dp;           // over positions whose next token is known
};

enum kiln_status kiln_eval_models(const char *base_path, const char *quant_path, struct kiln_device *dev,
                                  const int32_t *tokens, int64_t n, int64_t chunk, struct kiln_eval_result *out);
