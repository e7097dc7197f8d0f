// IEEE half (fp16) and bfloat16 conversions (spec/ggml-formats.md §1.1).
//
// f32 -> f16: round to nearest, ties to even, correct half subnormals, overflow to ±inf, NaN kept
// as a quiet NaN with its sign (0x7E00 | sign, as ggml). f16 -> f32 is exact.
// f32 -> bf16: ggml's rule (RNE on the top 16 bits; NaN forced quiet). bf16 -> f32 is exact.
// The scalar functions are the reference; the row functions use F16C on x86 when the CPU has it
// (same bits for every non-NaN input, checked by tests/test_fp16.c).
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint16_t kiln_half;
typedef uint16_t kiln_bf16;

static inline float kiln_bits_to_f32(uint32_t bits) {
    union { uint32_t u; float f; } v = { .u = bits };
    return v.f;
}

static inline uint32_t kiln_f32_to_bits(float f) {
    union { float f; uint32_t u; } v = { .f = f };
    return v.u;
}

float kiln_f16_to_f32(kiln_half h);
kiln_half kiln_f32_to_f16(float f);

static inline float kiln_bf16_to_f32(kiln_bf16 h) { return kiln_bits_to_f32((uint32_t)h << 16); }

static inline kiln_bf16 kiln_f32_to_bf16(float f) {
    uint32_t bits = kiln_f32_to_bits(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u)
        return (kiln_bf16)((bits >> 16) | 0x40);  // NaN: keep sign and payload top, force quiet
    return (kiln_bf16)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// Row conversions; pick F16C at run time where present.
void kiln_f16_to_f32_row(const kiln_half *src, float *dst, int64_t n);
void kiln_f32_to_f16_row(const float *src, kiln_half *dst, int64_t n);
void kiln_bf16_to_f32_row(const kiln_bf16 *src, float *dst, int64_t n);
void kiln_f32_to_bf16_row(const float *src, kiln_bf16 *dst, int64_t n);

// The scalar reference rows, and the F16C versions (x86 only; declared here so tests can compare them with the scalar path).
void kiln_f16_to_f32_row_scalar(const kiln_half *src, float *dst, int64_t n);
void kiln_f32_to_f16_row_scalar(const float *src, kiln_half *dst, int64_t n);
void kiln_f16_to_f32_row_f16c(const kiln_half *src, float *dst, int64_t n);
void kiln_f32_to_f16_row_f16c(const float *src, kiln_half *dst, int64_t n);

#ifdef __cplusplus
}
#endif
