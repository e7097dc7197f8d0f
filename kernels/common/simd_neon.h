// Small NEON helpers shared by the Arm kernel files (AArch64, Advanced SIMD is baseline).
#pragma once

#include <arm_neon.h>
#include <stdint.h>

// The 32 codes of a Q4_0 block as two int8x16 in [-8, 7]: elements 0..15 (low nibbles) and
// 16..31 (high nibbles).
static inline void kiln_unpack_q4_0_neon(const uint8_t *qs, int8x16_t *lo, int8x16_t *hi) {
    const uint8x16_t packed = vld1q_u8(qs);
    const int8x16_t eight = vdupq_n_s8(8);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(0x0F))), eight);
    *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(packed, 4)), eight);
}

// fp16 bits -> float, one value (vcvt on a 4-lane vector; baseline Armv8 has it).
static inline float kiln_f16_to_f32_neon(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

// 4 halves -> 4 floats.
static inline float32x4_t kiln_load_f16x4(const uint16_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}
