// The shape of a Llama-family model: read from a Hugging Face config.json, written by
// `kiln synth`, or taken from a named preset with real models' shapes.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backends/status.h"

struct kiln_model_config {
    char name[64];
    int64_t hidden, layers, heads, kv_heads, ffn, vocab, max_pos;
    double rms_eps, rope_theta;
    bool tie_embeddings;
};

// config.json of a Hugging Face folder; a missing or mistyped field is an error naming it
// (num_key_value_heads, tie_word_embeddings, max_position_embeddings, rope_theta have defaults).
enum kiln_status kiln_model_config_load(const char *dir, struct kiln_model_config *out);
enum kiln_status kiln_model_config_save(const struct kiln_model_config *c, const char *path);

// Presets: micro (1 block, tied embeddings: tens of KB, the fuzzers' seeds), tiny (a few MB, for tests), bench-2l (TinyLlama-1.1B's shapes with 2 layers,
// 440 MB: quantization throughput), llama-1b (Llama-3.2-1B), tinyllama-1.1b, llama-2-7b,
// llama-3-8b. False if unknown.
bool kiln_model_preset(const char *name, struct kiln_model_config *out);
const char *kiln_model_preset_names(void);
