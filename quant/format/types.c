// The one traits table of kiln's element types (types.h). Ids and geometry follow
// spec/ggml-formats.md §3. Types without converters are listed so that GGUF files holding them
// can be read, listed and copied; `note` says what is missing.
#include "quant/format/types.h"

#include <string.h>
#include <strings.h>

#include "quant/format/fp16.h"
#include "quant/format/quant_ref.h"

static void f32_to_float(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}
static void f32_from_float(const float *src, void *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}
static void f16_to_float(const void *src, float *dst, int64_t n) { kiln_f16_to_f32_row(src, dst, n); }
static void f16_from_float(const float *src, void *dst, int64_t n) { kiln_f32_to_f16_row(src, dst, n); }
static void bf16_to_float(const void *src, float *dst, int64_t n) { kiln_bf16_to_f32_row(src, dst, n); }
static void bf16_from_float(const float *src, void *dst, int64_t n) { kiln_f32_to_bf16_row(src, dst, n); }

#define TODO_NOTE "not implemented yet (quantization-formats issue)"

static const struct kiln_type_traits traits[KILN_TYPE_COUNT] = {
    [KILN_TYPE_F32]  = { "f32",  1, 4, false, f32_to_float, f32_from_float, KILN_TYPE_F32, NULL },
    [KILN_TYPE_F16]  = { "f16",  1, 2, false, f16_to_float, f16_from_float, KILN_TYPE_F16, NULL },
    [KILN_TYPE_Q4_0] = { "q4_0", 32, 18, true, kiln_dequantize_q4_0_ref, kiln_quantize_q4_0_ref,
                         KILN_TYPE_Q8_0, NULL },
    [KILN_TYPE_Q4_1] = { "q4_1", 32, 20, true, kiln_dequantize_q4_1_ref, kiln_quantize_q4_1_ref,
                         KILN_TYPE_Q8_1, NULL },
    [KILN_TYPE_Q5_0] = { "q5_0", 32, 22, true, kiln_dequantize_q5_0_ref, kiln_quantize_q5_0_ref,
                         KILN_TYPE_Q8_0, NULL },
    [KILN_TYPE_Q5_1] = { "q5_1", 32, 24, true, kiln_dequantize_q5_1_ref, kiln_quantize_q5_1_ref,
                         KILN_TYPE_Q8_1, NULL },
    [KILN_TYPE_Q8_0] = { "q8_0", 32, 34, true, kiln_dequantize_q8_0_ref, kiln_quantize_q8_0_ref,
                         KILN_TYPE_Q8_0, NULL },
    [KILN_TYPE_Q8_1] = { "q8_1", 32, 36, true, NULL, kiln_quantize_q8_1_ref, KILN_TYPE_Q8_1,
                         "activation-only: no dequantization (as ggml)" },
    [KILN_TYPE_Q2_K] = { "q2_K", 256, 84, true, kiln_dequantize_q2_K_ref,
                         kiln_quantize_q2_K_ref, KILN_TYPE_Q8_K, NULL },
    [KILN_TYPE_Q3_K] = { "q3_K", 256, 110, true, kiln_dequantize_q3_K_ref,
                         kiln_quantize_q3_K_ref, KILN_TYPE_Q8_K, NULL },
    [KILN_TYPE_Q4_K] = { "q4_K", 256, 144, true, kiln_dequantize_q4_K_ref,
                         kiln_quantize_q4_K_ref, KILN_TYPE_Q8_K, NULL },
    [KILN_TYPE_Q5_K] = { "q5_K", 256, 176, true, kiln_dequantize_q5_K_ref,
                         kiln_quantize_q5_K_ref, KILN_TYPE_Q8_K, NULL },
    [KILN_TYPE_Q6_K] = { "q6_K", 256, 210, true, kiln_dequantize_q6_K_ref,
                         kiln_quantize_q6_K_ref, KILN_TYPE_Q8_K, NULL },
    [KILN_TYPE_Q8_K] = { "q8_K", 256, 292, true, NULL, kiln_quantize_q8_K_ref, KILN_TYPE_Q8_K,
                         "activation-only: no dequantization (as ggml)" },
    [KILN_TYPE_IQ2_XXS] = { "iq2_xxs", 256, 66, true, NULL, NULL, KILN_TYPE_Q8_K,
                            "not implemented (needs an importance matrix)" },
    [KILN_TYPE_IQ2_XS] = { "iq2_xs", 256, 74, true, NULL, NULL, KILN_TYPE_Q8_K,
                           "not implemented (needs an importance matrix)" },
    [KILN_TYPE_IQ3_XXS] = { "iq3_xxs", 256, 98, true, NULL, NULL, KILN_TYPE_Q8_K, "not implemented" },
    [KILN_TYPE_IQ1_S] = { "iq1_s", 256, 50, true, NULL, NULL, KILN_TYPE_Q8_K,
                          "not implemented (needs an importance matrix)" },
    [KILN_TYPE_IQ4_NL] = { "iq4_nl", 32, 18, true, kiln_dequantize_iq4_nl_ref, kiln_quantize_iq4_nl_ref,
                           KILN_TYPE_Q8_0, NULL },
    [KILN_TYPE_IQ3_S] = { "iq3_s", 256, 110, true, NULL, NULL, KILN_TYPE_Q8_K, "not implemented" },
    [KILN_TYPE_IQ2_S] = { "iq2_s", 256, 82, true, NULL, NULL, KILN_TYPE_Q8_K, "not implemented" },
    [KILN_TYPE_IQ4_XS] = { "iq4_xs", 256, 136, true, kiln_dequantize_iq4_xs_ref, kiln_quantize_iq4_xs_ref,
                           KILN_TYPE_Q8_K, NULL },
    [KILN_TYPE_I8]   = { "i8",  1, 1, false, NULL, NULL, KILN_TYPE_I8, "integer: no float conversion" },
    [KILN_TYPE_I16]  = { "i16", 1, 2, false, NULL, NULL, KILN_TYPE_I16, "integer: no float conversion" },
    [KILN_TYPE_I32]  = { "i32", 1, 4, false, NULL, NULL, KILN_TYPE_I32,
                         "integer: token ids and positions" },
    [KILN_TYPE_I64]  = { "i64", 1, 8, false, NULL, NULL, KILN_TYPE_I64, "integer: no float conversion" },
    [KILN_TYPE_F64]  = { "f64", 1, 8, false, NULL, NULL, KILN_TYPE_F64, "not implemented" },
    [KILN_TYPE_IQ1_M] = { "iq1_m", 256, 56, true, NULL, NULL, KILN_TYPE_Q8_K, "not implemented" },
    [KILN_TYPE_BF16] = { "bf16", 1, 2, false, bf16_to_float, bf16_from_float, KILN_TYPE_BF16, NULL },
    [KILN_TYPE_TQ1_0] = { "tq1_0", 256, 54, true, NULL, NULL, KILN_TYPE_Q8_K, "not implemented" },
    [KILN_TYPE_TQ2_0] = { "tq2_0", 256, 66, true, NULL, NULL, KILN_TYPE_Q8_K, "not implemented" },
    [KILN_TYPE_MXFP4] = { "mxfp4", 32, 17, true, NULL, NULL, KILN_TYPE_Q8_0, TODO_NOTE },
    [KILN_TYPE_NVFP4] = { "nvfp4", 64, 36, true, NULL, NULL, KILN_TYPE_Q8_0,
                          "not implemented (too new for most readers)" },
    [KILN_TYPE_Q1_0] = { "q1_0", 128, 18, true, NULL, NULL, KILN_TYPE_Q8_0,
                         "not implemented (too new for most readers)" },
    [KILN_TYPE_Q2_0] = { "q2_0", 64, 18, true, NULL, NULL, KILN_TYPE_Q8_0,
                         "not implemented (too new for most readers)" },
};

const struct kiln_type_traits *kiln_type_traits(enum kiln_type type) {
    if ((unsigned)type >= KILN_TYPE_COUNT || traits[type].block_size == 0)
        return NULL;
    return &traits[type];
}

const char *kiln_type_name(enum kiln_type type) {
    if (type == KILN_TYPE_ANY)
        return "any";
    const struct kiln_type_traits *t = kiln_type_traits(type);
    return t ? t->name : "?";
}

bool kiln_type_from_name(const char *name, enum kiln_type *out) {
    for (int i = 0; i < KILN_TYPE_COUNT; i++) {
        if (traits[i].block_size && strcasecmp(traits[i].name, name) == 0) {
            *out = (enum kiln_type)i;
            return true;
        }
    }
    return false;
}

int kiln_type_block_size(enum kiln_type type) {
    const struct kiln_type_traits *t = kiln_type_traits(type);
    return t ? t->block_size : 0;
}

size_t kiln_row_size(enum kiln_type type, int64_t n) {
    const struct kiln_type_traits *t = kiln_type_traits(type);
    return t ? t->type_size * (size_t)(n / t->block_size) : 0;
}

bool kiln_type_can_dequantize(enum kiln_type type) {
    const struct kiln_type_traits *t = kiln_type_traits(type);
    return t && t->to_float;
}

bool kiln_type_can_quantize(enum kiln_type type) {
    const struct kiln_type_traits *t = kiln_type_traits(type);
    return t && t->from_float;
}
