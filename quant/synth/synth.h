// Synthetic models: a Hugging Face-style folder of any architecture kiln runs (hf_config.h) (config.json + model.safetensors in f16,
// or bf16 as most checkpoints published since 2023 are)
// with real shapes and seeded random weights (N(0, 0.02) projections, norms near 1), since no
// model can be downloaded here and speed does not depend on the values. Written tensor by
// tensor (memory bounded by one tensor), to temporary names renamed when complete.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "quant/file/hf_config.h"

// Tied embeddings (no lm_head.weight) when c->tie_embeddings.
enum kiln_status kiln_synth_write(const struct kiln_model_config *c, const char *dir, uint64_t seed, bool bf16);
