// The tensors of one block as GGUF names them, for every architecture kiln runs, with their shapes in units of the
// hyperparameters: one table for the checker (model_check.c) and the loader (model.c), so what
// is checked and what is loaded cannot disagree.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bench/model/model.h"

enum kiln_block_tensor {
    KILN_BLK_ATTN_NORM, KILN_BLK_Q, KILN_BLK_K, KILN_BLK_V, KILN_BLK_O,
    KILN_BLK_FFN_NORM, KILN_BLK_GATE, KILN_BLK_UP, KILN_BLK_DOWN,
    KILN_BLK_Q_BIAS, KILN_BLK_K_BIAS, KILN_BLK_V_BIAS,   // qwen2
    KILN_BLK_Q_NORM, KILN_BLK_K_NORM,                    // qwen3
    KILN_BLK_COUNT
};
enum kiln_model_dim { KILN_DIM_EMBD, KILN_DIM_Q, KILN_DIM_KV, KILN_DIM_FF, KILN_DIM_HEAD, KILN_DIM_ONE };

struct kiln_block_tensor_info {
    const char *suffix;            // "attn_q.weight": blk.N.<suffix>
    enum kiln_model_dim ne0, ne1;
    bool matrix;                   // a matmul weight (any dequantizable type); else f32 (norm, bias)
};
extern const struct kiln_block_tensor_info kiln_block_tensors[KILN_BLK_COUNT];

int64_t kiln_model_dim(const struct kiln_model_info *c, enum kiln_model_dim d);

// True if the tensor is part of this architecture's block: what hf_config.h says the
// architecture has (the converter writes from the same predicates).
static inline bool kiln_block_tensor_in(enum kiln_block_tensor t, enum kiln_arch arch) {
    switch (t) {
    case KILN_BLK_Q_BIAS: case KILN_BLK_K_BIAS: case KILN_BLK_V_BIAS: return kiln_arch_has_qkv_bias(arch);
    case KILN_BLK_Q_NORM: case KILN_BLK_K_NORM: return kiln_arch_has_qk_norm(arch);
    default: return true;
    }
}
