// llama.cpp's file types ("mixes": Q4_K_M, Q3_K_S, ...) and llama-quantize's per-tensor type
// rules, so that `kiln quantize IN OUT q3_k_m` writes the types `llama-quantize IN OUT Q3_K_M`
// writes, tensor by tensor (src/llama-quant.cpp of llama-cpp-python 0.3.36's vendor tree:
// llama_tensor_get_type and tensor_type_fallback; the peer check is scripts/peer-quantize-check.sh).
//
// A mix names a base type (most 2-D weights) and rules by tensor category:
//   output.weight (token_embd.weight when tied)   Q6_K, or Q8_0 for Q8_0 files and odd widths
//   attn_v                                         more bits in some layers (use_more_bits, or
//                                                  the first 2 / 4 layers), by GQA ratio for Q2_K
//   ffn_down                                       more bits in some layers
//   attn_output                                    one step up for Q2_K, Q3_K_M, Q3_K_L
// then the fallback for rows that are not whole blocks (Q4_K -> Q5_0, ..., then F16).
// The rules for architectures and types kiln does not implement (Falcon, mixtures of experts,
// IQ1/IQ2/IQ3, ternary, MXFP4) are left out: those files are refused before the rules run.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "quant/format/types.h"

// llama.cpp's llama_ftype values (general.file_type) that kiln writes.
enum kiln_ftype {
    KILN_FTYPE_NONE = -1,  // no general.file_type (a single type that is none of llama.cpp's)
    KILN_FTYPE_F32 = 0, KILN_FTYPE_F16 = 1, KILN_FTYPE_Q4_0 = 2, KILN_FTYPE_Q4_1 = 3,
    KILN_FTYPE_Q8_0 = 7, KILN_FTYPE_Q5_0 = 8, KILN_FTYPE_Q5_1 = 9, KILN_FTYPE_Q2_K = 10,
    KILN_FTYPE_Q3_K_S = 11, KILN_FTYPE_Q3_K_M = 12, KILN_FTYPE_Q3_K_L = 13, KILN_FTYPE_Q4_K_S = 14,
    KILN_FTYPE_Q4_K_M = 15, KILN_FTYPE_Q5_K_S = 16, KILN_FTYPE_Q5_K_M = 17, KILN_FTYPE_Q6_K = 18,
    KILN_FTYPE_Q2_K_S = 21, KILN_FTYPE_IQ4_NL = 25, KILN_FTYPE_IQ4_XS = 30, KILN_FTYPE_BF16 = 32,
};

struct kiln_mix {
    const char *name;        // llama-quantize's name: "Q4_K_M"
    enum kiln_ftype ftype;
    enum kiln_type base;     // the type of most 2-D weights
    const char *what;        // one line for --help
};

// A mix by llama-quantize's name or alias (case-insensitive: "q4_k_m", "Q4_K" = Q4_K_M, "q8_0",
// "f16"); NULL if none.
const struct kiln_mix *kiln_mix_find(const char *name);
// The mix of a file type; NULL if kiln has none.
const struct kiln_mix *kiln_mix_of(enum kiln_ftype ftype);
// Every mix, for --help: "F32, F16, BF16, Q8_0, ...".
const char *kiln_mix_names(void);

// llama-quantize's broad tensor categories (tensor_get_category): by name.
enum kiln_tensor_category {
    KILN_CAT_TOKEN_EMBD, KILN_CAT_ATTN_Q, KILN_CAT_ATTN_V, KILN_CAT_ATTN_K, KILN_CAT_ATTN_QKV,
    KILN_CAT_ATTN_KV_B, KILN_CAT_ATTN_OUTPUT, KILN_CAT_FFN_UP, KILN_CAT_FFN_GATE, KILN_CAT_FFN_DOWN,
    KILN_CAT_OUTPUT, KILN_CAT_OTHER,
};
enum kiln_tensor_category kiln_tensor_category(const char *name);

// What the rules read of the model.
struct kiln_mix_model {
    int64_t n_layers;         // block_count
    int64_t n_head, n_head_kv;
    bool tied;                // no output.weight: token_embd.weight is also the output
    bool is_70b;              // llama.cpp's LLM_TYPE_70B (llama/qwen2 with 80 layers: attn_v bumped)
    bool has_imatrix;
};

// The user's choices around the mix (llama-quantize's options of the same names).
struct kiln_mix_choice {
    enum kiln_ftype ftype;
    enum kiln_type base;          // the mix's base type (or the single type)
    bool pure;                    // --pure: every weight gets `base` (then the fallback)
    bool leave_output;            // --leave-output-tensor: output.weight keeps its type
    enum kiln_type output_type;   // --output-tensor-type, KILN_TYPE_COUNT = the mix's
    enum kiln_type token_embd_type; // --token-embedding-type, KILN_TYPE_COUNT = the mix's
};

// llama-quantize's tensor_allows_quantization: a 2-D+ tensor named *weight, not a norm, not
// output.weight under leave_output. Others keep their type (1-D ones are f32 in kiln's files).
bool kiln_mix_allows_quantization(const char *name, uint32_t n_dims, bool leave_output);

// The mix's type for one quantizable tensor of ne0 columns, before --tensor-type overrides
// and the fallback. index/count: the tensor's rank among the tensors of its category in
// llama.cpp's order (kiln_mix_order), and how many there are (attn_v counts these; ffn_down
// uses the block count, as llama.cpp).
enum kiln_type kiln_mix_rule(const struct kiln_mix_choice *c, const struct kiln_mix_model *m,
                             enum kiln_tensor_category cat, int64_t ne0, int64_t index, int64_t count);
// True when the early choices (--output-tensor-type, --token-embedding-type) decide the type:
// then neither overrides nor the fallback apply (as llama_tensor_get_type's early returns).
bool kiln_mix_early(const struct kiln_mix_choice *c, enum kiln_tensor_category cat, enum kiln_type *out);

// llama.cpp's fallback for a row of ne0 columns that is not whole blocks of t (Q4_K -> Q5_0,
// Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0, IQ4_XS -> IQ4_NL), then F16.
enum kiln_type kiln_mix_fallback(enum kiln_type t, int64_t ne0);

// Tensors llama-quantize will not write without an importance matrix (Q2_K in a Q2_K_S file).
bool kiln_mix_requires_imatrix(const char *name, enum kiln_type t, enum kiln_ftype ftype);

// llama.cpp's tensor order (weight_name_comparer): non-block tensors first, then by block
// number, then by name. strcmp-like.
int kiln_mix_order(const char *a, const char *b);
