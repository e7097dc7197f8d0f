#version 450
// swiglu and add (Vulkan), elementwise over 4-D f32 views with strided rows:
//   OP 0 (add):    dst = a + b
//   OP 1 (swiglu): dst = silu(a) * b = a / (1 + exp(-a)) * b
// src0 a, src1 b, dst. OP is spec constant DST_TYPE's slot (id 2), one pipeline each.
#include "kiln_blocks.glsl"

layout(push_constant) uniform PC {
    uint a_base, a_nb1, a_nb2, a_nb3;
    uint b_base, b_nb1, b_nb2, b_nb3;
    uint d_base, d_nb1, d_nb2, d_nb3;
    uint ne0, ne1, ne2, ne3;
} pc;

void main() {
    const uint idx = group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (idx >= pc.ne0 * pc.ne1 * pc.ne2 * pc.ne3) return;
    const uint i = idx % pc.ne0;
    uint r = idx / pc.ne0;
    const uint i1 = r % pc.ne1; r /= pc.ne1;
    const uint i2 = r % pc.ne2, i3 = r / pc.ne2;
    const float a = uintBitsToFloat(src0[((pc.a_base + i1 * pc.a_nb1 + i2 * pc.a_nb2 + i3 * pc.a_nb3) >> 2) + i]);
    const float b = uintBitsToFloat(src1[((pc.b_base + i1 * pc.b_nb1 + i2 * pc.b_nb2 + i3 * pc.b_nb3) >> 2) + i]);
    const float y = DST_TYPE == 0u ? a + b : a / (1.0 + exp(-a)) * b;
    dstw[((pc.d_base + i1 * pc.d_nb1 + i2 * pc.d_nb2 + i3 * pc.d_nb3) >> 2) + i] = floatBitsToUint(y);
}
