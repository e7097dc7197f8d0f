// kiln's shared GLSL include for the Vulkan compute kernels: the buffer bindings every kernel
// uses, byte-level access to them, and the block layouts of every type kiln dequantizes — the
// GLSL twin of quant/blocks.h and the *_ref dequantizers (quant/quant_ref_q32.c, quant_ref_k.c).
// `kiln ops --backend vulkan` checks dequant/get_rows of every type against the C reference
// bit for bit, which is the test that these layouts match the C ones.
//
// Bindings (backends/vulkan/vk_launch.c binds them in this order):
//   0 src0  the weights / table / source of any type: read through the decoders below
//   1 src1  second source (x, K, ids, w, up, b)
//   2 src2  third source (V)
//   3 dstw  the destination
// Every buffer is an array of 32-bit words, so a view may start at any byte: the descriptor is
// bound at an offset aligned to minStorageBufferOffsetAlignment and the view's remaining byte
// offset ("base") comes in push constants. Sub-word writes (f16, bf16, quantized blocks) go
// through atomics on the containing word, so neighbouring views and rows stay intact without
// needing 8/16-bit storage.
//
// Specialization constants shared by all kernels: 0 = workgroup size (local_size_x_id),
// 1 = TYPE (kiln_type id of src0), 2 = DST_TYPE, 3 = USE_SUBGROUP (subgroupAdd/Max available).

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TYPE = 0;
layout(constant_id = 2) const uint DST_TYPE = 0;
layout(constant_id = 3) const bool USE_SUBGROUP = false;

layout(std430, binding = 0) readonly buffer Src0 { uint src0[]; };
layout(std430, binding = 1) readonly buffer Src1 { uint src1[]; };
#ifndef KILN_SRC2_IS_STATUS  // get_rows binds the stream's status word there instead
layout(std430, binding = 2) readonly buffer Src2 { uint src2[]; };
#endif
layout(std430, binding = 3) buffer Dst { uint dstw[]; };

// kiln_type ids (quant/types.h; GGUF's numbering)
const uint T_F32 = 0u, T_F16 = 1u, T_Q4_0 = 2u, T_Q4_1 = 3u, T_Q5_0 = 6u, T_Q5_1 = 7u,
           T_Q8_0 = 8u, T_Q2_K = 10u, T_Q3_K = 11u, T_Q4_K = 12u, T_Q5_K = 13u, T_Q6_K = 14u,
           T_IQ4_NL = 20u, T_IQ4_XS = 23u, T_BF16 = 30u;

// IQ4_NL / IQ4_XS levels (kiln_iq4_values in quant/format/blocks.h).
const int IQ4_VALUES[16] = int[16](-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);

// Elements per block and bytes per block of TYPE (spec constants fold these).
uint block_elems(uint t) {
    if (t == T_F32 || t == T_F16 || t == T_BF16) return 1u;
    if ((t >= T_Q2_K && t <= T_Q6_K) || t == T_IQ4_XS) return 256u;
    return 32u;
}
uint block_bytes(uint t) {
    switch (t) {
    case T_F32: return 4u;
    case T_F16: case T_BF16: return 2u;
    case T_Q4_0: return 18u;
    case T_Q4_1: return 20u;
    case T_Q5_0: return 22u;
    case T_Q5_1: return 24u;
    case T_Q8_0: return 34u;
    case T_Q2_K: return 84u;
    case T_Q3_K: return 110u;
    case T_Q4_K: return 144u;
    case T_Q5_K: return 176u;
    case T_Q6_K: return 210u;
    case T_IQ4_NL: return 18u;
    case T_IQ4_XS: return 136u;
    }
    return 0u;
}

// ---- reading src0 at byte addresses ----
uint rd8(uint a) { return (src0[a >> 2] >> ((a & 3u) * 8u)) & 0xffu; }
int rds8(uint a) { return int(rd8(a) << 24) >> 24; }
uint rd16(uint a) {
    if ((a & 1u) == 0u)
        return (src0[a >> 2] >> ((a & 2u) * 8u)) & 0xffffu;
    return rd8(a) | (rd8(a + 1u) << 8);
}
uint rd32(uint a) { return rd16(a) | (rd16(a + 2u) << 16); }
float rdh(uint a) { return unpackHalf2x16(rd16(a)).x; }  // f16 -> f32 is exact

// Q4_K/Q5_K's 6-bit scale and min codes of sub-block j (get_scale_min_k4 in quant_ref_k.c).
uvec2 scale_min_k4(uint sc, uint j) {
    if (j < 4u)
        return uvec2(rd8(sc + j) & 63u, rd8(sc + j + 4u) & 63u);
    return uvec2((rd8(sc + j + 4u) & 15u) | ((rd8(sc + j - 4u) >> 6) << 4),
                 (rd8(sc + j + 4u) >> 4) | ((rd8(sc + j) >> 6) << 4));
}

// Element i of the row that starts at byte `row` of src0. Exactly the C reference's arithmetic,
// product by product, with `precise` so no FMA contraction changes a bit.
float decode_elem(uint row, uint i) {
    if (TYPE == T_F32) return uintBitsToFloat(src0[(row >> 2) + i]);
    if (TYPE == T_F16) return rdh(row + 2u * i);
    if (TYPE == T_BF16) return uintBitsToFloat(rd16(row + 2u * i) << 16);
    const uint be = block_elems(TYPE);
    const uint b = row + (i / be) * block_bytes(TYPE);
    const uint e = i % be;
    precise float y;
    if (TYPE == T_Q4_0) {
        const uint q = e < 16u ? rd8(b + 2u + e) & 15u : rd8(b + 2u + e - 16u) >> 4;
        y = float(int(q) - 8) * rdh(b);
    } else if (TYPE == T_Q4_1) {
        const uint q = e < 16u ? rd8(b + 4u + e) & 15u : rd8(b + 4u + e - 16u) >> 4;
        y = float(q) * rdh(b) + rdh(b + 2u);
    } else if (TYPE == T_Q5_0) {
        const uint lo = e < 16u ? rd8(b + 6u + e) & 15u : rd8(b + 6u + e - 16u) >> 4;
        const uint q = lo | (((rd32(b + 2u) >> e) & 1u) << 4);
        y = float(int(q) - 16) * rdh(b);
    } else if (TYPE == T_Q5_1) {
        const uint lo = e < 16u ? rd8(b + 8u + e) & 15u : rd8(b + 8u + e - 16u) >> 4;
        const uint q = lo | (((rd32(b + 4u) >> e) & 1u) << 4);
        y = float(q) * rdh(b) + rdh(b + 2u);
    } else if (TYPE == T_Q8_0) {
        y = float(rds8(b + 2u + e)) * rdh(b);
    } else if (TYPE == T_Q2_K) {  // scales[16] qs[64] d dmin
        const uint h = e / 128u, g = (e % 128u) / 32u, l = e % 32u, sc = rd8(b + e / 16u);
        const uint q = (rd8(b + 16u + 32u * h + l) >> (2u * g)) & 3u;
        y = rdh(b + 80u) * float(sc & 15u) * float(q) - rdh(b + 82u) * float(sc >> 4);
    } else if (TYPE == T_Q3_K) {  // hmask[32] qs[64] scales[12] d
        const uint h = e / 128u, g = (e % 128u) / 32u, l = e % 32u, j = e / 16u;
        const uint low = (rd8(b + 32u + 32u * h + l) >> (2u * g)) & 3u;
        const uint hbit = (rd8(b + e % 32u) >> (e / 32u)) & 1u;
        const uint s = b + 96u;
        const uint sl = j < 8u ? rd8(s + j) & 15u : rd8(s + j - 8u) >> 4;
        const uint sh = (rd8(s + 8u + j % 4u) >> (2u * (j / 4u))) & 3u;
        const int scale = int(sl | (sh << 4)) - 32;
        y = rdh(b + 108u) * float(scale) * float(int(low) - (hbit != 0u ? 0 : 4));
    } else if (TYPE == T_Q4_K || TYPE == T_Q5_K) {  // d dmin scales[12] [qh[32]] qs[128]
        const uvec2 sm = scale_min_k4(b + 4u, e / 32u);
        const uint qs = b + (TYPE == T_Q4_K ? 16u : 48u);
        const uint c = e / 64u, l = e % 32u;
        uint q = (e % 64u) < 32u ? rd8(qs + 32u * c + l) & 15u : rd8(qs + 32u * c + l) >> 4;
        if (TYPE == T_Q5_K)
            q += 16u * ((rd8(b + 16u + e % 32u) >> (e / 32u)) & 1u);
        y = rdh(b) * float(sm.x) * float(q) - rdh(b + 2u) * float(sm.y);
    } else if (TYPE == T_IQ4_NL) {  // d qs[16]: as Q4_0, the code indexes the levels
        const uint q = e < 16u ? rd8(b + 2u + e) & 15u : rd8(b + 2u + e - 16u) >> 4;
        y = rdh(b) * float(IQ4_VALUES[q]);
    } else if (TYPE == T_IQ4_XS) {  // d scales_h scales_l[4] qs[128]; 6-bit block scales - 32
        const uint ib = e / 32u, j = e % 32u, qb = rd8(b + 8u + 16u * ib + j % 16u);
        const uint q = j < 16u ? qb & 15u : qb >> 4;
        const uint ls = ((rd8(b + 4u + ib / 2u) >> (4u * (ib % 2u))) & 15u) | (((rd16(b + 2u) >> (2u * ib)) & 3u) << 4);
        precise float dl = rdh(b) * float(int(ls) - 32);
        y = dl * float(IQ4_VALUES[q]);
    } else {  // T_Q6_K: ql[128] qh[64] scales[16] (int8) d
        const uint h = e / 128u, r = e % 128u, g = r / 32u, l = r % 32u;
        const uint ql = b + 64u * h;
        const uint low = g == 0u ? rd8(ql + l) & 15u : g == 1u ? rd8(ql + 32u + l) & 15u
                       : g == 2u ? rd8(ql + l) >> 4 : rd8(ql + 32u + l) >> 4;
        const uint high = (rd8(b + 128u + 32u * h + l) >> (2u * g)) & 3u;
        y = rdh(b + 208u) * float(rds8(b + 192u + e / 16u)) * float(int(low | (high << 4)) - 32);
    }
    return y;
}

// ---- float conversions, bit-exact with quant/fp16.c (packHalf2x16's rounding is not specified) ----
uint f32_to_f16(float f) {
    const uint bits = floatBitsToUint(f);
    const uint sign = (bits >> 16) & 0x8000u;
    const uint absx = bits & 0x7fffffffu;
    if (absx > 0x7f800000u) return sign | 0x7e00u;
    if (absx >= 0x477ff000u) return sign | 0x7c00u;
    const uint e = absx >> 23;
    if (e < 113u) {
        if (e == 0u) return sign;
        const uint m = (absx & 0x7fffffu) | 0x800000u;
        const uint shift = 126u - e;
        if (shift > 24u) return sign;
        uint h = m >> shift;
        const uint rem = m & ((1u << shift) - 1u), halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (h & 1u) != 0u)) h++;
        return sign | h;
    }
    uint base = ((e - 112u) << 10) | ((absx >> 13) & 0x3ffu);
    const uint rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (base & 1u) != 0u)) base++;
    return sign | base;
}
uint f32_to_bf16(float f) {
    const uint bits = floatBitsToUint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return ((bits >> 16) | 0x40u) & 0xffffu;
    return ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16) & 0xffffu;
}

// ---- writing the destination ----
// A whole aligned word, a 16-bit half or a byte; sub-word writes are atomic on their word so
// that invocations writing the other bytes of it (or nobody, for guard bytes) are not disturbed.
void wr32(uint a, uint v) { dstw[a >> 2] = v; }
void wr16(uint a, uint v) {
    if ((a & 1u) != 0u) {
        const uint s = (a & 3u) * 8u;  // a == 1 or 3 (mod 4): byte pieces
        atomicAnd(dstw[a >> 2], ~(0xffu << s));
        atomicOr(dstw[a >> 2], (v & 0xffu) << s);
        const uint a1 = a + 1u, s1 = (a1 & 3u) * 8u;
        atomicAnd(dstw[a1 >> 2], ~(0xffu << s1));
        atomicOr(dstw[a1 >> 2], ((v >> 8) & 0xffu) << s1);
        return;
    }
    const uint s = (a & 2u) * 8u;
    atomicAnd(dstw[a >> 2], ~(0xffffu << s));
    atomicOr(dstw[a >> 2], (v & 0xffffu) << s);
}
void wr8(uint a, uint v) {
    const uint s = (a & 3u) * 8u;
    atomicAnd(dstw[a >> 2], ~(0xffu << s));
    atomicOr(dstw[a >> 2], (v & 0xffu) << s);
}
// A float element of type DST_TYPE (f32, f16 or bf16) at byte a.
void store_float(uint a, float v) {
    if (DST_TYPE == T_F32) wr32(a, floatBitsToUint(v));
    else if (DST_TYPE == T_F16) wr16(a, f32_to_f16(v));
    else wr16(a, f32_to_bf16(v));
}

// Linear workgroup index of a dispatch spread over x and y (vk_launch.c splits counts > 65535).
uint group_index() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }
