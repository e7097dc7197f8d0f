#version 450
// Roofline probes (Vulkan): the kernels that measure a device's ceilings (backend.h).
//   OP 0 read: every invocation sums 16-byte words of src (grid-stride), the sum goes to
//        dst[group] only if it equals a value it never takes, so the reads cannot be dropped.
//   OP 1 fma:  8 independent vec4 FMA chains per invocation, `iters` times (64 FLOP per
//        iteration), result written the same guarded way.
// (The copy probe is vkCmdCopyBuffer: the driver's own copy engine path.)
layout(local_size_x_id = 0) in;
layout(constant_id = 2) const uint OP = 0;
layout(std430, binding = 0) readonly buffer Src { uvec4 src[]; };
layout(std430, binding = 3) buffer Dst { float dst[]; };
layout(push_constant) uniform PC { uint n_vec4, iters; float seed; } pc;

void main() {
    const uint gid = gl_GlobalInvocationID.x, stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (OP == 0u) {
        uvec4 s = uvec4(0u);
        for (uint i = gid; i < pc.n_vec4; i += stride) s ^= src[i];
        if (s.x == 0xdeadbeefu && s.y == 0x01234567u) dst[gl_WorkGroupID.x] = float(s.z);
        return;
    }
    vec4 a[8];
    for (int c = 0; c < 8; c++) a[c] = vec4(pc.seed + float(gid + uint(c)));
    const vec4 mul = vec4(0.999999), add = vec4(1e-7);
    for (uint it = 0u; it < pc.iters; it++)
        for (int c = 0; c < 8; c++) a[c] = fma(a[c], mul, add);
    vec4 t = vec4(0.0);
    for (int c = 0; c < 8; c++) t += a[c];
    if (t.x == -1.0) dst[gl_WorkGroupID.x] = t.y;
}
