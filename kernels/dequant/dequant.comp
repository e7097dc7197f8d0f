#version 450
// dequant (Vulkan): dst[i] = decode(src0 row r, element i) for every element of a 4-D view.
// src0 any type kiln dequantizes (TYPE), dst f32/f16 (DST_TYPE) — also the copy kernel for
// float destinations (copy.comp handles quantized ones). One invocation per element; rows are
// strided (nb1..nb3 in bytes), elements contiguous within a row.
// v1: per-element decode through kiln_blocks.glsl; exact (spec §1.4) by construction.
#include "kiln_blocks.glsl"

layout(push_constant) uniform PC {
    uint s_base, s_nb1, s_nb2, s_nb3;
    uint d_base, d_nb1, d_nb2, d_nb3;
    uint ne0, ne1, ne2, ne3;
} pc;

void main() {
    const uint idx = group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    const uint total = pc.ne0 * pc.ne1 * pc.ne2 * pc.ne3;
    if (idx >= total) return;
    const uint i = idx % pc.ne0;
    uint r = idx / pc.ne0;
    const uint i1 = r % pc.ne1; r /= pc.ne1;
    const uint i2 = r % pc.ne2, i3 = r / pc.ne2;
    const uint srow = pc.s_base + i1 * pc.s_nb1 + i2 * pc.s_nb2 + i3 * pc.s_nb3;
    const uint drow = pc.d_base + i1 * pc.d_nb1 + i2 * pc.d_nb2 + i3 * pc.d_nb3;
    const uint dsize = DST_TYPE == T_F32 ? 4u : 2u;
    store_float(drow + i * dsize, decode_elem(srow, i));
}
