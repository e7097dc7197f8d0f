// Scalar reference fp16 conversions and the run-time choice of the row converters (fp16.h).
#include "quant/format/fp16.h"

#include "backends/cpu/cpu_features.h"

float kiln_f16_to_f32(kiln_half h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) // inf, or NaN made quiet with its payload kept (as ggml)
        return kiln_bits_to_f32(sign | 0x7f800000u | (mant ? 0x400000u | (mant << 13) : 0));
    if (exp == 0) {
        if (mant == 0)
            return kiln_bits_to_f32(sign);
        // Subnormal half: mant * 2^-24, exact in float.
        float v = (float)mant * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return kiln_bits_to_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

kiln_half kiln_f32_to_f16(float f) {
    uint32_t bits = kiln_f32_to_bits(f);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    uint32_t absx = bits & 0x7fffffffu;
    if (absx > 0x7f800000u)
        return sign | 0x7e00u;            // NaN -> quiet NaN, payload dropped (as ggml)
    if (absx >= 0x477ff000u)
        return sign | 0x7c00u;            // |x| >= 65520 rounds to inf (and inf stays inf)
    uint32_t exp = absx >> 23;
    if (exp < 113) {                      // below 2^-14: a half subnormal (or zero)
        if (exp == 0)
            return sign;                  // float subnormals are far below half's range
        uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - exp;       // value / 2^-24 = m * 2^-(126 - exp)
        if (shift > 24)
            return sign;
        uint32_t h = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (h & 1)))
            h++;
        return sign | (uint16_t)h;
    }
    uint32_t base = ((exp - 112) << 10) | ((absx >> 13) & 0x3ffu);
    uint32_t rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (base & 1)))
        base++;                           // a carry into the exponent is still correct
    return sign | (uint16_t)base;
}

void kiln_f16_to_f32_row_scalar(const kiln_half *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = kiln_f16_to_f32(src[i]);
}

void kiln_f32_to_f16_row_scalar(const float *src, kiln_half *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = kiln_f32_to_f16(src[i]);
}

void kiln_f16_to_f32_row(const kiln_half *src, float *dst, int64_t n) {
    if (kiln_cpu_has(KILN_CPU_F16C))
        kiln_f16_to_f32_row_f16c(src, dst, n);
    else
        kiln_f16_to_f32_row_scalar(src, dst, n);
}

void kiln_f32_to_f16_row(const float *src, kiln_half *dst, int64_t n) {
    if (kiln_cpu_has(KILN_CPU_F16C))
        kiln_f32_to_f16_row_f16c(src, dst, n);
    else
        kiln_f32_to_f16_row_scalar(src, dst, n);
}

void kiln_bf16_to_f32_row(const kiln_bf16 *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = kiln_bf16_to_f32(src[i]);
}

void kiln_f32_to_bf16_row(const float *src, kiln_bf16 *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = kiln_f32_to_bf16(src[i]);
}
