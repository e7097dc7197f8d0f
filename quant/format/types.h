// kiln element types and their traits.
//
// Numeric ids equal ggml's `ggml_type` (spec/ggml-formats.md §3), so a tensor's type goes to and
// from GGUF unchanged. One traits table (types.c) says for each id: name, block geometry, whether
// kiln implements it yet, the reference row quantizer/dequantizer, and the activation type its
// dot product pairs with on the CPU (ggml's vec_dot_type, spec §9.1).
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kiln_type {
    KILN_TYPE_F32     = 0,
    KILN_TYPE_F16     = 1,
    KILN_TYPE_Q4_0    = 2,
    KILN_TYPE_Q4_1    = 3,
    KILN_TYPE_Q5_0    = 6,
    KILN_TYPE_Q5_1    = 7,
    KILN_TYPE_Q8_0    = 8,
    KILN_TYPE_Q8_1    = 9,
    KILN_TYPE_Q2_K    = 10,
    KILN_TYPE_Q3_K    = 11,
    KILN_TYPE_Q4_K    = 12,
    KILN_TYPE_Q5_K    = 13,
    KILN_TYPE_Q6_K    = 14,
    KILN_TYPE_Q8_K    = 15,
    KILN_TYPE_IQ2_XXS = 16,
    KILN_TYPE_IQ2_XS  = 17,
    KILN_TYPE_IQ3_XXS = 18,
    KILN_TYPE_IQ1_S   = 19,
    KILN_TYPE_IQ4_NL  = 20,
    KILN_TYPE_IQ3_S   = 21,
    KILN_TYPE_IQ2_S   = 22,
    KILN_TYPE_IQ4_XS  = 23,
    KILN_TYPE_I8      = 24,
    KILN_TYPE_I16     = 25,
    KILN_TYPE_I32     = 26,
    KILN_TYPE_I64     = 27,
    KILN_TYPE_F64     = 28,
    KILN_TYPE_IQ1_M   = 29,
    KILN_TYPE_BF16    = 30,
    KILN_TYPE_TQ1_0   = 34,
    KILN_TYPE_TQ2_0   = 35,
    KILN_TYPE_MXFP4   = 39,
    KILN_TYPE_NVFP4   = 40,
    KILN_TYPE_Q1_0    = 41,
    KILN_TYPE_Q2_0    = 42,
    KILN_TYPE_COUNT   = 43,
    // Not a GGUF id: "any type" in kernel-table rows that are generic over a type.
    KILN_TYPE_ANY     = 1000,
};

// Converts n values of one row (n a multiple of the block size) between float and this type.
typedef void (*kiln_to_float_fn)(const void *src, float *dst, int64_t n);
typedef void (*kiln_from_float_fn)(const float *src, void *dst, int64_t n);

struct kiln_type_traits {
    const char *name;             // ggml_type_name: "f32", "q4_0", "q4_K"
    int block_size;               // elements per block (1 for plain types); 0 = unused id
    size_t type_size;             // bytes per block
    bool is_quantized;
    // What kiln implements for this type. A listed type with neither is known but not yet
    // implemented: kiln reads and writes such tensors as opaque bytes only.
    kiln_to_float_fn to_float;    // reference dequantize (exact, spec §1.4); NULL if not yet
    kiln_from_float_fn from_float; // reference quantize, byte-identical to ggml; NULL if not yet
    enum kiln_type vec_dot_type;  // activation type of the CPU dot product (spec §9.1)
    const char *note;             // why it is absent, for types not implemented
};

// Traits of a type id; NULL for ids that are not (or no longer) ggml types.
const struct kiln_type_traits *kiln_type_traits(enum kiln_type type);

// "q4_0", or "?" for an invalid id.
const char *kiln_type_name(enum kiln_type type);

// Parses a type name ("q4_0", "Q4_0", "f16"); false if unknown.
bool kiln_type_from_name(const char *name, enum kiln_type *out);

// Bytes of a row of n elements (n must be a multiple of the block size).
size_t kiln_row_size(enum kiln_type type, int64_t n);

int kiln_type_block_size(enum kiln_type type);
bool kiln_type_can_dequantize(enum kiln_type type);

// The quantizer with an importance matrix (one weight per element of a whole row of n: ggml's
// quantize_<type> with quant_weights); NULL for types whose bytes do not depend on one (f32, f16,
// bf16, q8_0: use kiln_quantize_fn) and types kiln cannot write.
typedef void (*kiln_from_float_weighted_fn)(const float *src, void *dst, int64_t n, const float *qw);
kiln_from_float_weighted_fn kiln_quantize_weighted_fn(enum kiln_type type);

// The fastest quantizer for a type on this CPU (quantize_fast.c); same bytes as from_float.
kiln_from_float_fn kiln_quantize_fn(enum kiln_type type);
bool kiln_type_can_quantize(enum kiln_type type);

#ifdef __cplusplus
}
#endif
