#version 450
// rope (Vulkan): rotary position embedding on x [D, H, n] f32 (src0) with positions pos [n] i32
// (src1), into dst [D, H, n]. One invocation per element pair: normal mode rotates (2i, 2i+1),
// neox mode (i, i + n_dims/2); dims at and past n_dims are copied (model_ops_ref.c).
//
// Accuracy: positions reach 32768+ and the reference is double, so theta = pos * base^(-2i/n)
// in f32 (error ~ pos * 1e-7 rad) and the driver's sin/cos (Vulkan only promises 2^-11 absolute)
// are both too coarse. Instead the angle is kept in turns as a 64-bit fixed-point fraction:
// src2 holds, per pair i, F_i = frac(base^(-2i/n) / 2pi) * 2^64 (host-computed in double,
// vk_launch.c), and pos * F_i mod 2^64 is exact integer arithmetic. Rounding to the nearest
// quarter turn leaves |r| <= pi/4, where Cephes' sinf/cosf polynomials are good to ~1 ulp.
#include "kiln_blocks.glsl"

layout(push_constant) uniform PC {
    uint x_base, x_nb1, x_nb2;
    uint p_base, f_base;
    uint d_base, d_nb1, d_nb2;
    uint D, H, n, n_dims, neox;
} pc;

// sin and cos of x in [-pi/4, pi/4] (Cephes sinf.c / cosf.c coefficients)
float sin_poly(float x) {
    const float z = x * x;
    return x + x * z * ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1);
}
float cos_poly(float x) {
    const float z = x * x;
    return 1.0 - 0.5 * z + z * z * ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2);
}

void main() {
    const uint half_d = pc.D / 2u;
    const uint idx = group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (idx >= half_d * pc.H * pc.n) return;
    const uint p = idx % half_d, h = (idx / half_d) % pc.H, t = idx / (half_d * pc.H);
    const uint x = (pc.x_base + h * pc.x_nb1 + t * pc.x_nb2) >> 2;
    const uint d = (pc.d_base + h * pc.d_nb1 + t * pc.d_nb2) >> 2;
    if (2u * p >= pc.n_dims) {  // past the rotated dims: copied, in both modes
        dstw[d + 2u * p] = src0[x + 2u * p];
        dstw[d + 2u * p + 1u] = src0[x + 2u * p + 1u];
        return;
    }
    const uint i0 = pc.neox != 0u ? p : 2u * p;
    const uint i1 = pc.neox != 0u ? p + pc.n_dims / 2u : 2u * p + 1u;
    // turns = pos * F mod 2^64, as (hi, lo) 32-bit words; pos may be negative (two's complement)
    const uint pos = src1[(pc.p_base >> 2) + t];
    const uint f_lo = src2[(pc.f_base >> 2) + 2u * p], f_hi = src2[(pc.f_base >> 2) + 2u * p + 1u];
    uint lo, hi;
    umulExtended(pos, f_lo, hi, lo);
    hi += pos * f_hi;
    if (int(pos) < 0) hi -= f_lo;  // the sign extension of pos times F's low word
    // nearest quarter turn q, remainder r in [-1/8, 1/8) turn: top 32 bits of the signed rest
    const uint q = ((hi + 0x20000000u) >> 30) & 3u;
    const int rest = int(hi + 0x20000000u - (((hi + 0x20000000u) >> 30) << 30)) - 0x20000000;
    const float r = (float(rest) + float(lo) * 2.3283064365386963e-10) * 1.4629180792671596e-09;
    const float s0 = sin_poly(r), c0 = cos_poly(r);
    const float s = q == 0u ? s0 : q == 1u ? c0 : q == 2u ? -s0 : -c0;
    const float c = q == 0u ? c0 : q == 1u ? -s0 : q == 2u ? -c0 : s0;
    const float x0 = uintBitsToFloat(src0[x + i0]), x1 = uintBitsToFloat(src0[x + i1]);
    dstw[d + i0] = floatBitsToUint(x0 * c - x1 * s);
    dstw[d + i1] = floatBitsToUint(x0 * s + x1 * c);
}
