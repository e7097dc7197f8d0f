// attention: causal multi-head attention with grouped-query heads, flash-style on fast paths.
//
// Tensors (GGUF order): q [D, n_q, H] f32; k, v [D, n_kv, H_kv] f16 or f32; out [D, n_q, H] f32.
// Query head h reads kv head h / (H / H_kv). Query i sits at position pos0 + i; with `causal`
// it sees keys j <= pos0 + i, otherwise all n_kv keys.
//   out[h][i] = sum_j softmax_j(scale * q[h][i] . k[g][j]) * v[g][j]
// Any strides: the model runner's q is a view of the QKV projection output ([D, H, n] memory
// order seen as [D, n, H]) and its K/V are views of the cache.
#pragma once

#include "backends/cpu/cpu_kernel.h"

// The oracle: full scores in double, exact softmax (no online rescaling).
extern const struct kiln_cpu_kernel kiln_attention_ref;

// Flash-style AVX2 (online softmax over key blocks), for f16 and f32 K/V.
extern const struct kiln_cpu_kernel kiln_attention_f16_avx2, kiln_attention_f32_avx2;
enum kiln_status kiln_attention_supports_avx2(const struct kiln_op *op);  // D % 8 == 0, D <= 256
// AVX-512 (attention_avx512.c): D % 16 == 0, D <= 256.
extern const struct kiln_cpu_kernel kiln_attention_f16_avx512, kiln_attention_f32_avx512;
enum kiln_status kiln_attention_supports_avx512(const struct kiln_op *op);

// Keys visible to query i (the count of keys j = 0.. it attends to).
static inline int64_t kiln_attention_visible(const struct kiln_op *op, int64_t i) {
    const struct kiln_attention_params *p = &op->params.attention;
    const int64_t n_kv = op->src[1].ne[1];
    if (!p->causal)
        return n_kv;
    const int64_t last = p->pos0 + i + 1;
    return last < n_kv ? last : n_kv;
}
