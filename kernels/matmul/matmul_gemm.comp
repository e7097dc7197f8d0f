#version 450
// matmul GEMM (Vulkan): y[j][r] = sum_i W[r][i] * x[j][i] for any n (prefill); same tensors
// and push constants as matmul_gemv.comp. Each 256-invocation workgroup computes a 64 (m) x 64
// (n) tile of y, 4 x 4 outputs per invocation, stepping through k in slices of 16: the W slice
// is dequantized on its way into shared memory (decode_elem: any type), the x slice copied,
// then every invocation runs its 4 x 4 outer products from shared memory.
// v1: plain shared-memory tiling (the portable path; cooperative-matrix GEMM is not written yet).
#include "kiln_blocks.glsl"

layout(push_constant) uniform PC {
    uint w_base, w_nb1;
    uint x_base, x_nb1, x_nb2, x_nb3;
    uint y_base, y_nb1, y_nb2, y_nb3;
    uint m, n, k, ne2;
} pc;

const uint BM = 64u, BN = 64u, BK = 16u;
shared float ws[BK][BM + 1u];
shared float xs[BK][BN + 1u];

void main() {
    const uint tiles_m = (pc.m + BM - 1u) / BM;
    const uint t = group_index();
    const uint m0 = (t % tiles_m) * BM, n0 = (t / tiles_m) * BN;
    if (n0 >= pc.n) return;  // uniform per workgroup
    const uint bz = gl_WorkGroupID.z, i2 = bz % pc.ne2, i3 = bz / pc.ne2;
    const uint tid = gl_LocalInvocationID.x;
    const uint tr = (tid % 16u) * 4u, tc = (tid / 16u) * 4u;  // this invocation's 4 x 4 block
    const uint xb = pc.x_base + i2 * pc.x_nb2 + i3 * pc.x_nb3;
    float acc[4][4];
    for (uint a = 0u; a < 4u; a++)
        for (uint c = 0u; c < 4u; c++) acc[a][c] = 0.0;

    for (uint k0 = 0u; k0 < pc.k; k0 += BK) {
        // 64 x 16 elements of each operand, 4 per invocation; rows past m/n and k read as 0
        for (uint e = tid; e < BM * BK; e += 256u) {
            const uint rr = e / BK, kk = e % BK;
            const uint r = m0 + rr, i = k0 + kk;
            ws[kk][rr] = (r < pc.m && i < pc.k) ? decode_elem(pc.w_base + r * pc.w_nb1, i) : 0.0;
            const uint j = n0 + rr;
            xs[kk][rr] = (j < pc.n && i < pc.k) ? uintBitsToFloat(src1[((xb + j * pc.x_nb1) >> 2) + i]) : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < BK; kk++) {
            float wv[4], xv[4];
            for (uint a = 0u; a < 4u; a++) { wv[a] = ws[kk][tr + a]; xv[a] = xs[kk][tc + a]; }
            for (uint a = 0u; a < 4u; a++)
                for (uint c = 0u; c < 4u; c++) acc[a][c] += wv[a] * xv[c];
        }
        barrier();
    }
    for (uint c = 0u; c < 4u; c++) {
        const uint j = n0 + tc + c;
        if (j >= pc.n) break;
        const uint yrow = (pc.y_base + j * pc.y_nb1 + i2 * pc.y_nb2 + i3 * pc.y_nb3) >> 2;
        for (uint a = 0u; a < 4u; a++) {
            const uint r = m0 + tr + a;
            if (r < pc.m) dstw[yrow + r] = floatBitsToUint(acc[a][c]);
        }
    }
}
