// Reference quantize/dequantize for the 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q8_1 (spec/ggml-formats.md §6.1-6.6). Output is byte-identical to ggml's quantize_row_*_ref.
//
// Bit-exactness rules (spec §1.2-1.3): float32 arithmetic in the order written, no FMA
// contraction (this file is compiled with -ffp-contract=off), each type's own rounding rule.
//
// Non-finite input (decided here, matching x86 ggml): ggml converts float to int with a C cast,
// which is undefined for NaN and out-of-range values; on x86 the conversion yields INT32_MIN and
// the narrowing keeps its low byte (0). kiln emulates exactly that with trunc_to_i32(), so
// NaN/Inf inputs give the same bytes as x86 ggml and never undefined behaviour: a NaN element
// does not take part in the block max and encodes as code 0 (Q4/Q5) or 0 (Q8); an Inf makes the
// block's scale Inf and the other codes follow ggml's arithmetic.
#include <float.h>
#include <math.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/quant_ref.h"

// x86 cvttss2si semantics: truncate toward zero; NaN or out of int32 range -> INT32_MIN.
static inline int32_t trunc_to_i32(float v) {
    if (!(v > -2147483904.0f && v < 2147483648.0f))
        return INT32_MIN;
    return (int32_t)v;
}

// The bytes C's (int8_t)/(uint8_t) casts of a float give on x86 gcc: int32 conversion, then the
// low 8 bits (implementation-defined in C, defined as modulo 2^8 by gcc).
static inline int8_t cast_i8(float v) { return (int8_t)(uint8_t)(uint32_t)trunc_to_i32(v); }
static inline uint8_t cast_u8(float v) { return (uint8_t)(uint32_t)trunc_to_i32(v); }

static inline int min_int(int a, int b) { return a < b ? a : b; }

// Block max (spec §6): amax and the signed value of the first element whose |x| is strictly
// greater than the running amax.
static void block_absmax(const float *x, int n, float *amax_out, float *max_out) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        float v = x[j];
        if (amax < fabsf(v)) {
            amax = fabsf(v);
            max = v;
        }
    }
    *amax_out = amax;
    *max_out = max;
}

static void block_minmax(const float *x, int n, float *min_out, float *max_out) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    *min_out = min;
    *max_out = max;
}

static void store_u32_le(uint8_t out[4], uint32_t v) {
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t load_u32_le(const uint8_t in[4]) {
    return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
}

void kiln_quantize_q4_0_ref(const float *x, void *out, int64_t n) {
    struct kiln_block_q4_0 *y = out;
    for (int64_t b = 0; b < n / KILN_QK4_0; b++, x += KILN_QK4_0) {
        float amax, max;
        block_absmax(x, KILN_QK4_0, &amax, &max);
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        for (int j = 0; j < KILN_QK4_0 / 2; j++) {
            const float x0 = x[j] * id;
            const float x1 = x[j + KILN_QK4_0 / 2] * id;
            const uint8_t q0 = (uint8_t)min_int(15, cast_i8(x0 + 8.5f));
            const uint8_t q1 = (uint8_t)min_int(15, cast_i8(x1 + 8.5f));
            y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void kiln_dequantize_q4_0_ref(const void *in, float *y, int64_t n) {
    const struct kiln_block_q4_0 *x = in;
    for (int64_t b = 0; b < n / KILN_QK4_0; b++, y += KILN_QK4_0) {
        const float d = kiln_f16_to_f32(x[b].d);
        for (int j = 0; j < KILN_QK4_0 / 2; j++) {
            y[j] = (float)((x[b].qs[j] & 0x0F) - 8) * d;
            y[j + KILN_QK4_0 / 2] = (float)((x[b].qs[j] >> 4) - 8) * d;
        }
    }
}

void kiln_quantize_q4_1_ref(const float *x, void *out, int64_t n) {
    struct kiln_block_q4_1 *y = out;
    for (int64_t b = 0; b < n / KILN_QK4_1; b++, x += KILN_QK4_1) {
        float min, max;
        block_minmax(x, KILN_QK4_1, &min, &max);
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        y[b].m = kiln_f32_to_f16(min);
        for (int j = 0; j < KILN_QK4_1 / 2; j++) {
            const float x0 = (x[j] - min) * id;
            const float x1 = (x[j + KILN_QK4_1 / 2] - min) * id;
            const uint8_t q0 = (uint8_t)min_int(15, cast_i8(x0 + 0.5f));
            const uint8_t q1 = (uint8_t)min_int(15, cast_i8(x1 + 0.5f));
            y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void kiln_dequantize_q4_1_ref(const void *in, float *y, int64_t n) {
    const struct kiln_block_q4_1 *x = in;
    for (int64_t b = 0; b < n / KILN_QK4_1; b++, y += KILN_QK4_1) {
        const float d = kiln_f16_to_f32(x[b].d);
        const float m = kiln_f16_to_f32(x[b].m);
        for (int j = 0; j < KILN_QK4_1 / 2; j++) {
            y[j] = (float)(x[b].qs[j] & 0x0F) * d + m;
            y[j + KILN_QK4_1 / 2] = (float)(x[b].qs[j] >> 4) * d + m;
        }
    }
}

void kiln_quantize_q5_0_ref(const float *x, void *out, int64_t n) {
    struct kiln_block_q5_0 *y = out;
    for (int64_t b = 0; b < n / KILN_QK5_0; b++, x += KILN_QK5_0) {
        float amax, max;
        block_absmax(x, KILN_QK5_0, &amax, &max);
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < KILN_QK5_0 / 2; j++) {
            const float x0 = x[j] * id;
            const float x1 = x[j + KILN_QK5_0 / 2] * id;
            const uint8_t q0 = (uint8_t)min_int(31, cast_i8(x0 + 16.5f));
            const uint8_t q1 = (uint8_t)min_int(31, cast_i8(x1 + 16.5f));
            y[b].qs[j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
            qh |= ((q0 & 0x10u) >> 4) << j;
            qh |= ((q1 & 0x10u) >> 4) << (j + KILN_QK5_0 / 2);
        }
        store_u32_le(y[b].qh, qh);
    }
}

void kiln_dequantize_q5_0_ref(const void *in, float *y, int64_t n) {
    const struct kiln_block_q5_0 *x = in;
    for (int64_t b = 0; b < n / KILN_QK5_0; b++, y += KILN_QK5_0) {
        const float d = kiln_f16_to_f32(x[b].d);
        const uint32_t qh = load_u32_le(x[b].qh);
        for (int j = 0; j < KILN_QK5_0 / 2; j++) {
            // Codes as int before subtracting: qh is unsigned (spec §8's pitfall).
            const int q0 = (int)((x[b].qs[j] & 0x0F) | (((qh >> j) & 1u) << 4));
            const int q1 = (int)((x[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
            y[j] = (float)(q0 - 16) * d;
            y[j + KILN_QK5_0 / 2] = (float)(q1 - 16) * d;
        }
    }
}

void kiln_quantize_q5_1_ref(const float *x, void *out, int64_t n) {
    struct kiln_block_q5_1 *y = out;
    for (int64_t b = 0; b < n / KILN_QK5_1; b++, x += KILN_QK5_1) {
        float min, max;
        block_minmax(x, KILN_QK5_1, &min, &max);
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        y[b].m = kiln_f32_to_f16(min);
        uint32_t qh = 0;
        for (int j = 0; j < KILN_QK5_1 / 2; j++) {
            const float x0 = (x[j] - min) * id;
            const float x1 = (x[j + KILN_QK5_1 / 2] - min) * id;
            const uint8_t q0 = cast_u8(x0 + 0.5f);  // no clamp to 31, as ggml (spec §6.6)
            const uint8_t q1 = cast_u8(x1 + 0.5f);
            y[b].qs[j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
            qh |= ((q0 & 0x10u) >> 4) << j;
            qh |= ((q1 & 0x10u) >> 4) << (j + KILN_QK5_1 / 2);
        }
        store_u32_le(y[b].qh, qh);
    }
}

void kiln_dequantize_q5_1_ref(const void *in, float *y, int64_t n) {
    const struct kiln_block_q5_1 *x = in;
    for (int64_t b = 0; b < n / KILN_QK5_1; b++, y += KILN_QK5_1) {
        const float d = kiln_f16_to_f32(x[b].d);
        const float m = kiln_f16_to_f32(x[b].m);
        const uint32_t qh = load_u32_le(x[b].qh);
        for (int j = 0; j < KILN_QK5_1 / 2; j++) {
            const int q0 = (int)((x[b].qs[j] & 0x0F) | (((qh >> j) & 1u) << 4));
            const int q1 = (int)((x[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
            y[j] = (float)q0 * d + m;
            y[j + KILN_QK5_1 / 2] = (float)q1 * d + m;
        }
    }
}

void kiln_quantize_q8_0_ref(const float *x, void *out, int64_t n) {
    struct kiln_block_q8_0 *y = out;
    for (int64_t b = 0; b < n / KILN_QK8_0; b++, x += KILN_QK8_0) {
        float amax, max;
        block_absmax(x, KILN_QK8_0, &amax, &max);
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        for (int j = 0; j < KILN_QK8_0; j++)
            y[b].qs[j] = cast_i8(roundf(x[j] * id));  // roundf: half away from zero (spec §1.2)
    }
}

void kiln_dequantize_q8_0_ref(const void *in, float *y, int64_t n) {
    const struct kiln_block_q8_0 *x = in;
    for (int64_t b = 0; b < n / KILN_QK8_0; b++, y += KILN_QK8_0) {
        const float d = kiln_f16_to_f32(x[b].d);
        for (int j = 0; j < KILN_QK8_0; j++)
            y[j] = (float)x[b].qs[j] * d;
    }
}

void kiln_quantize_q8_1_ref(const float *x, void *out, int64_t n) {
    struct kiln_block_q8_1 *y = out;
    for (int64_t b = 0; b < n / KILN_QK8_1; b++, x += KILN_QK8_1) {
        float amax, max;
        block_absmax(x, KILN_QK8_1, &amax, &max);
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = kiln_f32_to_f16(d);
        int sum = 0;
        for (int j = 0; j < KILN_QK8_1; j++) {
            y[b].qs[j] = cast_i8(roundf(x[j] * id));
            sum += y[b].qs[j];
        }
        y[b].s = kiln_f32_to_f16((float)sum * d);
    }
}
