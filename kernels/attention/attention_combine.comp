#version 450
// attention, split-K combine (Vulkan): merges the per-chunk partials attention.comp wrote
// (DST_TYPE 1) into out [D, n_q, H] f32. src0 holds, per (split s, query i, head h), [m_s, l_s,
// acc_s[0 .. D)] with acc_s unnormalized; out = sum_s e^(m_s - M) acc_s / sum_s e^(m_s - M) l_s,
// M = max_s m_s (a split with no visible key has m = -inf and weighs 0). One 64-invocation
// workgroup per (query, head), invocations over the head dims.
#include "kiln_blocks.glsl"

layout(push_constant) uniform PC {
    uint p_base;
    uint o_base, o_nb1, o_nb2;
    uint D, n_q, H, splits;
} pc;

void main() {
    const uint g = group_index(), rows = pc.n_q * pc.H;
    if (g >= rows) return;
    const uint i = g % pc.n_q, h = g / pc.n_q;
    const uint p = pc.p_base >> 2, stride = pc.D + 2u;
    float M = -1.0 / 0.0;
    for (uint s = 0u; s < pc.splits; s++) M = max(M, uintBitsToFloat(src0[p + (s * rows + g) * stride]));
    float l = 0.0;
    for (uint s = 0u; s < pc.splits; s++) {
        const uint at = p + (s * rows + g) * stride;
        l += exp(uintBitsToFloat(src0[at]) - M) * uintBitsToFloat(src0[at + 1u]);
    }
    const uint orow = (pc.o_base + i * pc.o_nb1 + h * pc.o_nb2) >> 2;
    for (uint d = gl_LocalInvocationID.x; d < pc.D; d += gl_WorkGroupSize.x) {
        float a = 0.0;
        for (uint s = 0u; s < pc.splits; s++) {
            const uint at = p + (s * rows + g) * stride;
            a += exp(uintBitsToFloat(src0[at]) - M) * uintBitsToFloat(src0[at + 2u + d]);
        }
        dstw[orow + d] = floatBitsToUint(a / l);
    }
}
