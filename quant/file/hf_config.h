// The shape of a model kiln converts and runs: read from a Hugging Face config.json, written by
// `kiln synth`, or taken from a named preset with real models' shapes.
//
// Architectures (what config.json's "architectures" names, and the GGUF architecture llama.cpp
// gives it):
//   llama  LlamaForCausalLM, MistralForCausalLM: GQA, rope on interleaved pairs after the
//          converter's q/k permutation, optional explicit head_dim, rope_scaling of type llama3
//          (frequency factors, written as rope_freqs.weight), tied or untied embeddings
//   qwen2  Qwen2ForCausalLM: q/k/v projection biases, neox rope (HF's rotate_half, unpermuted)
//   qwen3  Qwen3ForCausalLM: RMSNorm over each head of q and k before rope (q_norm/k_norm),
//          explicit head_dim (not hidden/heads), neox rope, no biases
// What changes the graph and kiln does not implement (another architecture, sliding-window
// attention, other rope scaling kinds, experts, biases where the architecture has none,
// pre-quantized weights, another activation) is refused by name, never read as something else.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/status.h"

enum kiln_arch {
    KILN_ARCH_LLAMA = 0,
    KILN_ARCH_QWEN2,
    KILN_ARCH_QWEN3,
    KILN_ARCH_COUNT
};

// "llama", "qwen2", "qwen3": general.architecture and the GGUF key prefix.
const char *kiln_arch_name(enum kiln_arch arch);
// From a GGUF general.architecture value; false if kiln does not run it.
bool kiln_arch_from_name(const char *name, size_t len, enum kiln_arch *out);

struct kiln_model_config {
    char name[64];
    enum kiln_arch arch;
    char hf_arch[48];            // "LlamaForCausalLM", written back by kiln synth
    int64_t hidden, layers, heads, kv_heads, ffn, vocab, max_pos;
    int64_t head_dim;            // explicit in config.json, or hidden / heads
    bool head_dim_explicit;      // config.json gave head_dim (GGUF: attention.key_length)
    double rms_eps, rope_theta;
    bool tie_embeddings;
    // rope_scaling {"rope_type": "llama3", ...}: per-frequency divisors (rope_freqs.weight).
    bool rope_llama3;
    double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int64_t rope_original_max_pos;
    // Context positions past which the model would attend differently than kiln computes (a
    // sliding window as large as the context or larger is the same model): 0 = none.
    int64_t sliding_window;
};

// What the architecture's graph has.
bool kiln_arch_has_qkv_bias(enum kiln_arch arch);  // qwen2
bool kiln_arch_has_qk_norm(enum kiln_arch arch);   // qwen3

// config.json of a Hugging Face folder. A missing, mistyped or contradictory field is an error
// naming it; so is any field that changes the graph in a way kiln does not implement. Fields
// that do not change the computed model (ids of special tokens, dtype, generation defaults) are
// accepted; unknown fields whose names do not suggest the graph are listed in `notes` (may be
// NULL) for the caller to print.
enum kiln_status kiln_model_config_load(const char *dir, struct kiln_model_config *out,
                                        char *notes, size_t notes_size);
enum kiln_status kiln_model_config_save(const struct kiln_model_config *c, const char *path);

// The Hugging Face tensors the config implies, in file order (name and numpy shape): what
// `kiln synth` writes and what `kiln convert` requires, no more and no less.
struct kiln_hf_tensor {
    char name[96];
    int ndim;
    int64_t shape[2];
};
// Fills up to max entries; returns the count.
int kiln_hf_tensors(const struct kiln_model_config *c, struct kiln_hf_tensor *out, int max);

// Llama 3's rope frequency factors for rotary pair i of head_dim/2 (HF's
// _compute_llama3_parameters, llama.cpp's rope_freqs): theta_i is divided by the factor.
float kiln_llama3_rope_factor(const struct kiln_model_config *c, int64_t i);

// Presets (shapes from the published config.json files): micro (1 block, tied: tens of KB, the
// fuzzers' seeds), tiny (a few MB, for tests), bench-2l (TinyLlama-1.1B's shapes with 2 layers:
// quantization throughput), llama-1b, tinyllama-1.1b, llama-2-7b, llama-3-8b, llama-3.1-8b,
// llama-3.2-1b, mistral-7b, qwen2.5-0.5b, qwen2.5-7b, qwen3-0.6b, qwen3-8b, and tiny test
// shapes of each architecture's special parts (tiny-llama3, tiny-qwen2, tiny-qwen3). False if
// unknown.
bool kiln_model_preset(const char *name, struct kiln_model_config *out);
const char *kiln_model_preset_names(void);
