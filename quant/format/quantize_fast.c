// The quantizer the converter uses for a type: a SIMD version where kiln has one and the CPU
// can run it (byte-identical to the reference by construction and by test), else the reference.
#include "backends/cpu/cpu_features.h"
#include "quant/format/quant_k_internal.h"
#include "quant/format/quant_ref.h"
#include "quant/format/types.h"

kiln_from_float_fn kiln_quantize_fn(enum kiln_type type) {
    if (kiln_cpu_has(KILN_CPU_AVX2)) {
        if (type == KILN_TYPE_Q4_K)
            return kiln_quantize_q4_K_avx2;
        if (type == KILN_TYPE_Q5_K)
            return kiln_quantize_q5_K_avx2;
        if (type == KILN_TYPE_Q6_K)
            return kiln_quantize_q6_K_avx2;
        if (type == KILN_TYPE_Q2_K)
            return kiln_quantize_q2_K_avx2;
        if (type == KILN_TYPE_Q3_K)
            return kiln_quantize_q3_K_avx2;
        if (type == KILN_TYPE_Q8_0)
            return kiln_quantize_q8_0_avx2;
        if (type == KILN_TYPE_Q4_0)
            return kiln_quantize_q4_0_avx2;
        if (type == KILN_TYPE_Q4_1)
            return kiln_quantize_q4_1_avx2;
        if (type == KILN_TYPE_Q5_0)
            return kiln_quantize_q5_0_avx2;
        if (type == KILN_TYPE_Q5_1)
            return kiln_quantize_q5_1_avx2;
        if (type == KILN_TYPE_IQ4_XS)
            return kiln_quantize_iq4_xs_avx2_plain;
        if (type == KILN_TYPE_IQ4_NL)
            return kiln_quantize_iq4_nl_avx2_plain;
    }
    const struct kiln_type_traits *t = kiln_type_traits(type);
    return t ? t->from_float : NULL;
}

kiln_from_float_weighted_fn kiln_quantize_weighted_fn(enum kiln_type type) {
    if (kiln_cpu_has(KILN_CPU_AVX2)) {
        switch (type) {
        case KILN_TYPE_IQ4_XS: return kiln_quantize_iq4_xs_avx2;
        case KILN_TYPE_IQ4_NL: return kiln_quantize_iq4_nl_avx2;
        case KILN_TYPE_Q6_K: return kiln_quantize_q6_K_avx2_weighted;
        case KILN_TYPE_Q4_0: return kiln_quantize_q4_0_avx2_weighted;
        case KILN_TYPE_Q5_0: return kiln_quantize_q5_0_avx2_weighted;
        case KILN_TYPE_Q2_K: return kiln_quantize_q2_K_avx2_weighted;
        case KILN_TYPE_Q3_K: return kiln_quantize_q3_K_avx2_weighted;
        case KILN_TYPE_Q4_K: return kiln_quantize_q4_K_avx2_weighted;
        case KILN_TYPE_Q5_K: return kiln_quantize_q5_K_avx2_weighted;
        case KILN_TYPE_Q4_1: return kiln_quantize_q4_1_avx2_weighted;
        case KILN_TYPE_Q5_1: return kiln_quantize_q5_1_avx2_weighted;
        default: break;
        }
    }
    switch (type) {
    case KILN_TYPE_Q2_K: return kiln_quantize_q2_K_weighted;
    case KILN_TYPE_Q3_K: return kiln_quantize_q3_K_weighted;
    case KILN_TYPE_Q4_K: return kiln_quantize_q4_K_weighted;
    case KILN_TYPE_Q5_K: return kiln_quantize_q5_K_weighted;
    case KILN_TYPE_Q6_K: return kiln_quantize_q6_K_weighted;
    case KILN_TYPE_Q4_0: return kiln_quantize_q4_0_weighted;
    case KILN_TYPE_Q4_1: return kiln_quantize_q4_1_weighted;
    case KILN_TYPE_Q5_0: return kiln_quantize_q5_0_weighted;
    case KILN_TYPE_Q5_1: return kiln_quantize_q5_1_weighted;
    case KILN_TYPE_IQ4_NL: return kiln_quantize_iq4_nl_weighted;
    case KILN_TYPE_IQ4_XS: return kiln_quantize_iq4_xs_weighted;
    default: return NULL;
    }
}
