#version 450
// rmsnorm (Vulkan): y = x / sqrt(mean(x^2) + eps) * w, one workgroup per row of a 4-D f32 view.
// src0 x, src1 w [ne0] f32 (optional: HAS_W via push constant), dst y. The sum of squares is a
// workgroup reduction: subgroupAdd where the device has subgroup arithmetic (USE_SUBGROUP),
// shared memory otherwise.
#extension GL_KHR_shader_subgroup_arithmetic : enable
#include "kiln_blocks.glsl"

layout(push_constant) uniform PC {
    uint x_base, x_nb1, x_nb2, x_nb3;
    uint w_base, has_w;
    uint d_base, d_nb1, d_nb2, d_nb3;
    uint ne0, ne1, ne2, ne3;
    float eps;
} pc;

shared float partial[256];

float workgroup_sum(float v) {
    if (USE_SUBGROUP) {
        v = subgroupAdd(v);
        if (gl_SubgroupInvocationID == 0u) partial[gl_SubgroupID] = v;
        barrier();
        float s = 0.0;
        for (uint i = 0u; i < gl_NumSubgroups; i++) s += partial[i];
        barrier();
        return s;
    }
    partial[gl_LocalInvocationID.x] = v;
    barrier();
    for (uint w = gl_WorkGroupSize.x / 2u; w > 0u; w /= 2u) {
        if (gl_LocalInvocationID.x < w)
            partial[gl_LocalInvocationID.x] += partial[gl_LocalInvocationID.x + w];
        barrier();
    }
    const float s = partial[0];
    barrier();
    return s;
}

void main() {
    uint r = group_index();
    if (r >= pc.ne1 * pc.ne2 * pc.ne3) return;  // uniform per workgroup
    const uint i1 = r % pc.ne1; r /= pc.ne1;
    const uint i2 = r % pc.ne2, i3 = r / pc.ne2;
    const uint x = (pc.x_base + i1 * pc.x_nb1 + i2 * pc.x_nb2 + i3 * pc.x_nb3) >> 2;
    const uint d = (pc.d_base + i1 * pc.d_nb1 + i2 * pc.d_nb2 + i3 * pc.d_nb3) >> 2;
    float ss = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < pc.ne0; i += gl_WorkGroupSize.x) {
        const float v = uintBitsToFloat(src0[x + i]);
        ss += v * v;
    }
    ss = workgroup_sum(ss);
    const float scale = 1.0 / sqrt(ss / float(pc.ne0) + pc.eps);
    for (uint i = gl_LocalInvocationID.x; i < pc.ne0; i += gl_WorkGroupSize.x) {
        float v = uintBitsToFloat(src0[x + i]) * scale;
        if (pc.has_w != 0u) v *= uintBitsToFloat(src1[(pc.w_base >> 2) + i]);
        dstw[d + i] = floatBitsToUint(v);
    }
}
