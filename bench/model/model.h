// The Llama-family model runner: a GGUF model loaded onto one device through the dispatch
// layer, memory planned once (weights, an f16 K/V cache, activations for the largest batch),
// and the forward pass built from kiln's ops — batches (prefill) and single tokens (decode)
// take the same path.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backends/ops.h"
#include "quant/file/hf_config.h"

struct kiln_model;
struct kiln_gguf;

struct kiln_model_info {
    enum kiln_arch arch;  // general.architecture: llama, qwen2, qwen3 (hf_config.h)
    int64_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, head_dim, n_ctx, n_batch;
    int64_t rope_dims;    // llama.rope.dimension_count (the head size when absent)
    int64_t n_ctx_train;  // llama.context_length (0 when absent); only bounds --ctx, never allocated
    float rms_eps, rope_base;
    // rope_freqs.weight (Llama 3.1+'s rope scaling), read at the check: one divisor per pair.
    bool has_rope_freqs;
    float rope_freqs[KILN_ROPE_MAX_PAIRS];
    uint64_t weight_bytes, kv_bytes, activation_bytes;
    int64_t n_matmul_weights, n_repacked;  // matmul weights, and those loaded repacked (layout.c)
    uint64_t matmul_bytes, matmul_quantized_bytes;  // their bytes, and those of quantized types
    char name[64];
};

// Checks that an opened GGUF is a model kiln runs (llama, qwen2, qwen3) exactly as its metadata says, and
// fills `info`'s hyperparameters (not n_ctx/n_batch/sizes). Allocates nothing: a file whose
// metadata disagrees with its tensors is refused before anything is sized (model_check.c lists
// what is checked). Errors name the file and the key or tensor.
enum kiln_status kiln_model_check(const struct kiln_gguf *g, struct kiln_model_info *info);
// general.architecture is one kiln runs (what kiln_model_check then checks in full).
bool kiln_model_is_runnable(const struct kiln_gguf *g);

// Loads `path` (llama, qwen2 or qwen3 architecture) onto `device` with a context of n_ctx tokens and batches of
// up to n_batch tokens. Errors name the file and the missing/mistyped key or tensor.
enum kiln_status kiln_model_load(const char *path, struct kiln_device *device, int64_t n_ctx,
                                 int64_t n_batch, struct kiln_model **out);
void kiln_model_free(struct kiln_model *m);
const struct kiln_model_info *kiln_model_get_info(const struct kiln_model *m);

// Runs tokens[0..n) at positions pos0.. (the K/V cache must hold pos0 + n), enqueued on `s`.
// With `logits` (n x n_vocab floats, row per token) the logits are downloaded (a sync);
// `last_only` downloads only the last token's row into logits[0..n_vocab).
// Decode steps (one token) run as one captured graph where the device has graph capture
// (CUDA); on by default, off to measure what it saves.
void kiln_model_set_graphs(struct kiln_model *m, bool on);

// The matmuls that ran a slow path (the dequantize-then-float fallback, or the reference kernel:
// no SIMD kernel for their type and shape on the device) since the last call, which is then reset: the tensors
// ("blk.*.ffn_down.weight (q3_K), output.weight (q6_K)"), the calls, and their seconds (-1 where
// the device runs ops asynchronously, so a call's time is not its op's).
struct kiln_model_fallback {
    int64_t calls;
    double seconds;
    char tensors[400];
};
void kiln_model_fallback_take(struct kiln_model *m, struct kiln_model_fallback *out);

// Calls fn after every matmul of a batch of at least 16 tokens (llama-imatrix's threshold) with
// the weight's GGUF name (blk.N.ffn_down.weight, output.weight), its input activations x
// [k, n] (f32, token by token, downloaded to the host: one sync per matmul) and `layer` (-1 for
// output.weight). What kiln imatrix collects; fn's error stops the forward pass. NULL: off.
typedef enum kiln_status (*kiln_model_observer_fn)(void *ctx, int64_t layer, const char *weight, const float *x,
                                                   int64_t k, int64_t n);
void kiln_model_set_observer(struct kiln_model *m, kiln_model_observer_fn fn, void *ctx);

enum kiln_status kiln_model_forward(struct kiln_model *m, struct kiln_stream *s, const int32_t *tokens,
                                    int64_t n, int64_t pos0, float *logits, bool last_only);
