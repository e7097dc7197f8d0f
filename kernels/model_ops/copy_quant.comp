#version 450
// copy to a quantized destination (Vulkan): each invocation quantizes one 32-element block of a
// row read from src0 (f32, f16, bf16 or any decodable TYPE) into DST_TYPE q8_0 or q4_0, with
// the reference quantizers' arithmetic (quant/quant_ref_q32.c): q8_0 d = amax/127, q = round
// half away from zero (x/d); q4_0 d = max/-8, q = min(15, trunc(x/d + 8.5)). GPU division is
// not correctly rounded, so a code may differ at a tie: the check's ceiling (bench/tolerance.c)
// allows that. Bytes are written with word atomics (kiln_blocks.glsl).
#include "kiln_blocks.glsl"

layout(push_constant) uniform PC {
    uint s_base, s_nb1, s_nb2, s_nb3;
    uint d_base, d_nb1, d_nb2, d_nb3;
    uint ne0, ne1, ne2, ne3;
} pc;

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
        const float d = amax / 127.0;
        const float id = d != 0.0 ? 1.0 / d : 0.0;
        wr16(b, f32_to_f16(d));
        for (uint j = 0u; j < 32u; j++) {
            const float v = x[j] * id;
            const float q = sign(v) * floor(abs(v) + 0.5);  // roundf: half away from zero
            wr8(b + 2u + j, uint(int(q)) & 0xffu);
        }
    } else {  // T_Q4_0
        const uint b = drow + ib * 18u;
        const float d = vmax / -8.0;
        const float id = d != 0.0 ? 1.0 / d : 0.0;
        wr16(b, f32_to_f16(d));
        for (uint j = 0u; j < 16u; j++) {
            const uint q0 = uint(min(15, int(x[j] * id + 8.5)));
            const uint q1 = uint(min(15, int(x[j + 16u] * id + 8.5)));
            wr8(b + 2u + j, q0 | (q1 << 4));
        }
    }
}
