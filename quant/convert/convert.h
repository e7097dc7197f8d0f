// The converter library behind `kiln convert` and `kiln quantize`: a Hugging Face Llama folder
// (config.json + safetensors) or a GGUF file in, a GGUF v3 file out.
//   names     HF -> GGUF as llama.cpp's converter (spec §5.3), llama.* metadata (§5.1)
//   q/k rows  permuted from HF's rotate-half layout to llama's adjacent pairs (§5.3)
//   types     1-D tensors stay f32; 2-D weights get the target type, or the type an override
//             names; a row length that is not a whole number of blocks falls back to f16 (said)
//   bytes     each row converted to f32 exactly, then the reference quantizer: the bytes equal
//             "convert to f16/bf16 GGUF, then llama-quantize" (§5.4). Rows are split across
//             threads, so the output does not depend on the thread count.
// The output streams one tensor at a time (memory: one tensor plus the inputs' mappings),
// is written to a temporary name and renamed when complete; the inputs are never modified.
#pragma once

#include <stdbool.h>

#include "quant/format/types.h"

// llama.cpp's K-quant mixes (spec §5.4): the target type for most weights, Q6_K for output.weight
// (token_embd.weight when the embeddings are tied) and for the attn_v / ffn_down weights of the
// layers use_more_bits() picks.
enum kiln_convert_mix { KILN_MIX_NONE, KILN_MIX_Q4_K_M, KILN_MIX_Q5_K_M };

struct kiln_convert_options {
    enum kiln_type type;       // target type of 2-D weights (the mix's base type with a mix)
    enum kiln_convert_mix mix;
    int threads;               // 0 = one per core
    bool dry_run;              // print the plan and the output size, write nothing
    const char *overrides;     // "ffn_down=q8_0,blk\\.[0-3]\\.attn_v=f16": regex=type, last match wins
    int progress;              // 1 always, 0 never, -1 on a TTY (default)
};

enum kiln_status kiln_convert_hf(const char *hf_dir, const char *out_path, const struct kiln_convert_options *o);
enum kiln_status kiln_quantize_gguf(const char *in_path, const char *out_path, const struct kiln_convert_options *o);

// llama.cpp's general.file_type for a target type or mix (spec §3), -1 if it has none.
int kiln_llama_ftype(enum kiln_type type, enum kiln_convert_mix mix);

// Parses a --type value: a type name (q4_0, q6_K, ...) or a mix (q4_k_m, q5_k_m).
bool kiln_convert_parse_type(const char *text, enum kiln_type *type, enum kiln_convert_mix *mix);
