#version 450
// matmul GEMV (Vulkan): y[j][r] = sum_i W[r][i] * x[j][i] for n <= 8 columns of x (decode).
// W [k, m] of any type kiln dequantizes (src0, TYPE), x [k, n] f32 (src1), y [m, n] f32 (dst);
// dims 2-3 of x and y are batch dims (workgroup z), W is shared.
// One workgroup per output row r: its invocations stride over the row (so neighbours read
// neighbouring bytes), each keeping n partial sums, then one workgroup reduction per column.
// v1: Q4_0 and Q8_0 decode a whole block per step (one scale load, 16/32 codes); other types
//     go element by element through decode_elem (dequantization fused, W read once).
// v2: built a second time with KILN_STORAGE_16_8 (matmul_gemv16): where the device has 16- and
//     8-bit storage (storageBuffer16BitAccess, storageBuffer8BitAccess), F16 weights, Q4_0 code
//     pairs and scales load as 16-bit values and Q8_0 codes as int8 — one narrow load each
//     instead of a 32-bit load, shift and mask. vk_launch.c picks it at run time (even row
//     offsets required); the plain build is the path for devices without those features.
#extension GL_KHR_shader_subgroup_arithmetic : enable
#include "kiln_blocks.glsl"
#ifdef KILN_STORAGE_16_8
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_8bit_storage : require
// views of binding 0 (aliases of src0): byte offsets must be even for the 16-bit ones
layout(std430, binding = 0) readonly buffer W16 { uint16_t w16[]; };
layout(std430, binding = 0) readonly buffer WH { float16_t wh[]; };
layout(std430, binding = 0) readonly buffer W8 { int8_t w8[]; };
#endif

layout(push_constant) uniform PC {
    uint w_base, w_nb1;
    uint x_base, x_nb1, x_nb2, x_nb3;
    uint y_base, y_nb1, y_nb2, y_nb3;
    uint m, n, k, ne2;
} pc;

const uint MAX_N = 8u;
shared float partial[MAX_N][64];

float xval(uint xrow, uint i) { return uintBitsToFloat(src1[xrow + i]); }

void main() {
    const uint r = group_index();
    if (r >= pc.m) return;  // uniform per workgroup
    const uint bz = gl_WorkGroupID.z, i2 = bz % pc.ne2, i3 = bz / pc.ne2;
    const uint tid = gl_LocalInvocationID.x, nt = gl_WorkGroupSize.x;
    const uint row = pc.w_base + r * pc.w_nb1;
    uint xrow[MAX_N];
    for (uint j = 0u; j < pc.n; j++)
        xrow[j] = (pc.x_base + j * pc.x_nb1 + i2 * pc.x_nb2 + i3 * pc.x_nb3) >> 2;
    float acc[MAX_N];
    for (uint j = 0u; j < MAX_N; j++) acc[j] = 0.0;

    if (TYPE == T_Q4_0 || TYPE == T_Q8_0) {
        const uint nb = pc.k / 32u, bb = block_bytes(TYPE);
        for (uint b = tid; b < nb; b += nt) {
            const uint at = row + b * bb;
#ifdef KILN_STORAGE_16_8
            const float d = float(wh[at >> 1]);
#else
            const float d = rdh(at);
#endif
            float s[MAX_N];
            for (uint j = 0u; j < pc.n; j++) s[j] = 0.0;
            if (TYPE == T_Q4_0) {
                for (uint l = 0u; l < 16u; l += 2u) {
#ifdef KILN_STORAGE_16_8
                    const uint q = uint(w16[(at >> 1) + 1u + l / 2u]);
#else
                    const uint q = rd16(at + 2u + l);  // codes l, l+1 (low) and l+16, l+17 (high)
#endif
                    const float q0 = float(int(q & 15u) - 8), q1 = float(int((q >> 8) & 15u) - 8);
                    const float q2 = float(int((q >> 4) & 15u) - 8), q3 = float(int(q >> 12) - 8);
                    for (uint j = 0u; j < pc.n; j++) {
                        const uint xi = xrow[j] + b * 32u + l;
                        s[j] += q0 * xval(xi, 0u) + q1 * xval(xi, 1u) + q2 * xval(xi, 16u) + q3 * xval(xi, 17u);
                    }
                }
            } else {
                for (uint l = 0u; l < 32u; l += 2u) {
#ifdef KILN_STORAGE_16_8
                    const float q0 = float(int(w8[at + 2u + l])), q1 = float(int(w8[at + 3u + l]));
#else
                    const uint q = rd16(at + 2u + l);
                    const float q0 = float(int(q << 24) >> 24), q1 = float(int(q << 16) >> 24);
#endif
                    for (uint j = 0u; j < pc.n; j++) {
                        const uint xi = xrow[j] + b * 32u + l;
                        s[j] += q0 * xval(xi, 0u) + q1 * xval(xi, 1u);
                    }
                }
            }
            for (uint j = 0u; j < pc.n; j++) acc[j] += d * s[j];
        }
    } else {
        for (uint i = tid; i < pc.k; i += nt) {
#ifdef KILN_STORAGE_16_8
            const float w = TYPE == T_F16 ? float(wh[(row >> 1) + i]) : decode_elem(row, i);
#else
            const float w = decode_elem(row, i);
#endif
            for (uint j = 0u; j < pc.n; j++) acc[j] += w * xval(xrow[j], i);
        }
    }

    // reduction: per subgroup, then across the (at most 64 / subgroup size) subgroups
    for (uint j = 0u; j < pc.n; j++) {
        if (USE_SUBGROUP) {
            const float v = subgroupAdd(acc[j]);
            if (gl_SubgroupInvocationID == 0u) partial[j][gl_SubgroupID] = v;
        } else {
            partial[j][tid] = acc[j];
        }
    }
    barrier();
    const uint parts = USE_SUBGROUP ? gl_NumSubgroups : nt;
    if (tid < pc.n) {
        float s = 0.0;
        for (uint p = 0u; p < parts; p++) s += partial[tid][p];
        dstw[((pc.y_base + tid * pc.y_nb1 + i2 * pc.y_nb2 + i3 * pc.y_nb3) >> 2) + r] = floatBitsToUint(s);
    }
}
