#version 450
// copy to a quantized destination (Vulkan): each invocation quantizes one 32-element block of a
// row read from src0 (f32, f16, bf16 or any decodable TYPE) into DST_TYPE q8_0 or q4_0, with
// the reference quantizers' arithmetic (quant/format/quant_ref_q32.c): q8_0 d = amax/127, q = round
// half away from zero (x * (1/d)); q4_0 d = max/-8, q = min(15, trunc(x * (1/d) + 8.5)), aiming
// at the reference's bytes. roundf is done exactly (floor(|v| + 0.5), v1's way, rounds
// 0.49999997 up because |v| + 0.5 itself rounds to 1), products are kept from fusing into the
// next operation (`precise`), and GLSL's division (allowed 2.5 ulp; Mesa lowers it to a
// reciprocal and a product) gets one fma residual correction. On lavapipe one code in 8192 of
// bf16 data (a value at x/d = -63.5) still lands one step away, so the check's ceiling
// (bench/check/tolerance.c) allows a code one step off.
// Bytes are written with word atomics (kiln_blocks.glsl).
// Versions: v1 floor(|v| + 0.5) and plain division (NMSE 3.6e-7 on lavapipe's bf16 case); v2
// (this) exact rounding, corrected division (6.1e-8: one code).
#include "kiln_blocks.glsl"

layout(push_constant) uniform PC {
    uint s_base, s_nb1, s_nb2, s_nb3;
    uint d_base, d_nb1, d_nb2, d_nb3;
    uint ne0, ne1, ne2, ne3;
} pc;

// a / b correctly rounded: the residual a - q b is exact with fma, and one step on it fixes
// the last bit of an approximate quotient.
float div_rn(float a, float b) {
    precise float q = a / b;
    precise float r = fma(-q, b, a);
    precise float c = fma(r, 1.0 / b, q);
    return c;
}

// C's roundf: half away from zero, exactly.
float round_away(float v) {
    const float t = trunc(v);
    precise float frac = v - t;  // exact (Sterbenz)
    return abs(frac) >= 0.5 ? t + sign(v) : t;
}

void main() {
    const uint blocks = pc.ne0 / 32u;
    const uint idx = group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (idx >= blocks * pc.ne1 * pc.ne2 * pc.ne3) return;
    const uint ib = idx % blocks;
    uint r = idx / blocks;
    const uint i1 = r % pc.ne1; r /= pc.ne1;
    const uint i2 = r % pc.ne2, i3 = r / pc.ne2;
    const uint srow = pc.s_base + i1 * pc.s_nb1 + i2 * pc.s_nb2 + i3 * pc.s_nb3;
    const uint drow = pc.d_base + i1 * pc.d_nb1 + i2 * pc.d_nb2 + i3 * pc.d_nb3;
    float x[32];
    float amax = 0.0, vmax = 0.0;
    for (uint j = 0u; j < 32u; j++) {
        x[j] = decode_elem(srow, ib * 32u + j);
        if (abs(x[j]) > amax) { amax = abs(x[j]); vmax = x[j]; }
    }
    if (DST_TYPE == T_Q8_0) {
        const uint b = drow + ib * 34u;
        const float d = div_rn(amax, 127.0);
        const float id = d != 0.0 ? div_rn(1.0, d) : 0.0;
        wr16(b, f32_to_f16(d));
        for (uint j = 0u; j < 32u; j++) {
            precise float v = x[j] * id;  // rounded once, as in C (no fma into v - t)
            const float q = round_away(v);
            wr8(b + 2u + j, uint(int(q)) & 0xffu);
        }
    } else {  // T_Q4_0
        const uint b = drow + ib * 18u;
        const float d = div_rn(vmax, -8.0);
        const float id = d != 0.0 ? div_rn(1.0, d) : 0.0;
        wr16(b, f32_to_f16(d));
        for (uint j = 0u; j < 16u; j++) {
            // precise: two roundings as in C, never one fused multiply-add
            precise float v0 = x[j] * id, v1 = x[j + 16u] * id;
            precise float t0 = v0 + 8.5, t1 = v1 + 8.5;
            const uint q0 = uint(min(15, int(t0)));
            const uint q1 = uint(min(15, int(t1)));
            wr8(b + 2u + j, q0 | (q1 << 4));
        }
    }
}
