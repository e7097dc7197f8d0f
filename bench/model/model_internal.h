// The runner's state, shared by the loader (model.c) and the graph files (graph_*.c).
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bench/model/model.h"
#include "bench/model/model_tensors.h"

#define KILN_MODEL_MAX_ARENAS 512

struct layer {
    struct kiln_tensor w[KILN_BLK_COUNT];  // the block's weights (model_tensors.h; absent: buffer NULL)
    struct kiln_tensor k_cache, v_cache;
};

// The matmuls that took a slow path (the dequantize-then-float fallback, or the reference kernel:
// no SIMD row for the type) since the last kiln_model_fallback_take: which weights (a bit per
// block tensor, KILN_BLK_COUNT for output), their types, the calls, and on a host device (CPU
// ops run when enqueued) their time.
struct fallback_record {
    uint32_t which;
    enum kiln_type type[KILN_BLK_COUNT + 1];
    int64_t calls;
    double seconds;
};

struct kiln_model {
    struct kiln_model_info info;
    struct fallback_record fallback;
    struct kiln_device *dev;
    struct kiln_buffer *weights[KILN_MODEL_MAX_ARENAS], *cache, *act;
    int n_arenas;
    bool no_graphs;  // kiln_model_set_graphs(false): no graph capture of decode steps
    kiln_model_observer_fn observe;  // kiln_model_set_observer: matmul inputs to the host
    void *observe_ctx;
    float *observe_buf;              // the downloaded activations (n_batch x the widest k)
    size_t observe_cap;
    char path[512];  // for errors
    struct kiln_tensor token_embd, output_norm, output;
    struct layer *layers;
    // activations, each sized for n_batch tokens
    struct kiln_tensor x, cur, q, k, v, attn, ffn_g, ffn_u, logits, pos, ids;
};

// One block of the forward pass on x [n_embd, n] at positions pos0.. (graph_<arch>.c).
typedef enum kiln_status (*kiln_graph_layer_fn)(struct kiln_model *m, struct kiln_stream *s, const struct layer *L,
                                                int64_t n, int64_t pos0);
enum kiln_status kiln_graph_llama_layer(struct kiln_model *m, struct kiln_stream *s, const struct layer *L,
                                        int64_t n, int64_t pos0);
enum kiln_status kiln_graph_qwen2_layer(struct kiln_model *m, struct kiln_stream *s, const struct layer *L,
                                        int64_t n, int64_t pos0);
enum kiln_status kiln_graph_qwen3_layer(struct kiln_model *m, struct kiln_stream *s, const struct layer *L,
                                        int64_t n, int64_t pos0);

// ---- the pieces the architectures share (graph_common.c) ----

// The first n columns of an activation tensor.
struct kiln_tensor kiln_graph_cols(const struct kiln_tensor *t, int64_t n);
// [head_dim, heads, n] view of a [heads*head_dim, n] activation.
struct kiln_tensor kiln_graph_heads(const struct kiln_tensor *t, int64_t head_dim, int64_t heads, int64_t n);
// y = x W^T, noting a slow path (`which`: the block tensor, KILN_BLK_COUNT = output).
enum kiln_status kiln_graph_matmul(struct kiln_model *m, struct kiln_stream *s, const struct kiln_tensor *y,
                                   const struct kiln_tensor *w, const struct kiln_tensor *x, int which);
// cur = rmsnorm(x) * attn_norm; q, k, v = W{q,k,v} . cur (into m->q, m->k, m->v).
enum kiln_status kiln_graph_qkv(struct kiln_model *m, struct kiln_stream *s, const struct layer *L, int64_t n);
// rope on q and k (mode; the model's frequency factors), k and v into the f16 cache at pos0..,
// causal GQA attention over the cache, x += Wo . out.
enum kiln_status kiln_graph_attend(struct kiln_model *m, struct kiln_stream *s, const struct layer *L, int64_t n,
                                   int64_t pos0, enum kiln_rope_mode mode);
// cur = rmsnorm(x) * ffn_norm; x += Wdown . (silu(Wgate . cur) * (Wup . cur)).
enum kiln_status kiln_graph_ffn(struct kiln_model *m, struct kiln_stream *s, const struct layer *L, int64_t n);
