// Block layouts for the CUDA kernels: element i of a row of any type kiln dequantizes, as the C
// reference computes it (quant/quant_ref_q32.c, quant_ref_k.c; layouts in quant/blocks.h), and
// f32 -> f16/bf16 with quant/fp16.c's rounding. The CUDA twin of kernels/common/kiln_blocks.glsl;
// `kiln ops --backend cuda` checks dequant and get_rows of every type bit for bit against the C.
// Products are written in the reference's order with __fmul_rn/__fadd_rn/__fsub_rn, which nvcc
// never contracts into an FMA, so the rest of the code keeps FMA contraction.
#pragma once

#include <cuda_fp16.h>
#include <stdint.h>

namespace kiln_cuda {

enum : int {
    T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q5_0 = 6, T_Q5_1 = 7, T_Q8_0 = 8,
    T_Q2_K = 10, T_Q3_K = 11, T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14, T_IQ4_NL = 20, T_IQ4_XS = 23,
    T_I32 = 26, T_BF16 = 30,
};

// IQ4_NL / IQ4_XS levels (kiln_iq4_values in quant/format/blocks.h).
__device__ __constant__ static const int8_t iq4_values[16] = { -127, -104, -83, -65, -49, -35, -22, -10,
                                                               1,    13,   25,  38,  53,  69,  89,  113 };

template <int T> struct block_of;
template <> struct block_of<T_F32> { static constexpr int elems = 1, bytes = 4; };
template <> struct block_of<T_F16> { static constexpr int elems = 1, bytes = 2; };
template <> struct block_of<T_BF16> { static constexpr int elems = 1, bytes = 2; };
template <> struct block_of<T_Q4_0> { static constexpr int elems = 32, bytes = 18; };
template <> struct block_of<T_Q4_1> { static constexpr int elems = 32, bytes = 20; };
template <> struct block_of<T_Q5_0> { static constexpr int elems = 32, bytes = 22; };
template <> struct block_of<T_Q5_1> { static constexpr int elems = 32, bytes = 24; };
template <> struct block_of<T_Q8_0> { static constexpr int elems = 32, bytes = 34; };
template <> struct block_of<T_Q2_K> { static constexpr int elems = 256, bytes = 84; };
template <> struct block_of<T_Q3_K> { static constexpr int elems = 256, bytes = 110; };
template <> struct block_of<T_Q4_K> { static constexpr int elems = 256, bytes = 144; };
template <> struct block_of<T_Q5_K> { static constexpr int elems = 256, bytes = 176; };
template <> struct block_of<T_Q6_K> { static constexpr int elems = 256, bytes = 210; };
template <> struct block_of<T_IQ4_NL> { static constexpr int elems = 32, bytes = 18; };
template <> struct block_of<T_IQ4_XS> { static constexpr int elems = 256, bytes = 136; };

__device__ __forceinline__ float half_at(const uint8_t *p) {
    const unsigned short h = (unsigned short)(p[0] | (p[1] << 8));
    return __half2float(__ushort_as_half(h));  // exact
}

__device__ __forceinline__ void scale_min_k4(const uint8_t *q, int j, int *d, int *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Element i of the row starting at `row`.
template <int T> __device__ __forceinline__ float decode(const uint8_t *row, int64_t i) {
    if (T == T_F32) return reinterpret_cast<const float *>(row)[i];
    if (T == T_F16) return half_at(row + 2 * i);
    if (T == T_BF16) {
        const unsigned int u = (unsigned int)(row[2 * i] | (row[2 * i + 1] << 8)) << 16;
        return __uint_as_float(u);
    }
    constexpr int BE = block_of<T>::elems, BB = block_of<T>::bytes;
    const uint8_t *b = row + (i / BE) * BB;
    const int e = (int)(i % BE);
    if (T == T_Q4_0) {
        const int q = e < 16 ? b[2 + e] & 15 : b[2 + e - 16] >> 4;
        return __fmul_rn((float)(q - 8), half_at(b));
    }
    if (T == T_Q4_1) {
        const int q = e < 16 ? b[4 + e] & 15 : b[4 + e - 16] >> 4;
        return __fadd_rn(__fmul_rn((float)q, half_at(b)), half_at(b + 2));
    }
    if (T == T_Q5_0 || T == T_Q5_1) {
        const int off = T == T_Q5_0 ? 2 : 4;
        const uint32_t qh = b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | ((uint32_t)b[off + 3] << 24);
        const uint8_t *qs = b + off + 4;
        const int lo = e < 16 ? qs[e] & 15 : qs[e - 16] >> 4;
        const int q = lo | (int)(((qh >> e) & 1u) << 4);
        if (T == T_Q5_0) return __fmul_rn((float)(q - 16), half_at(b));
        return __fadd_rn(__fmul_rn((float)q, half_at(b)), half_at(b + 2));
    }
    if (T == T_Q8_0) return __fmul_rn((float)(int8_t)b[2 + e], half_at(b));
    if (T == T_Q2_K) {  // scales[16] qs[64] d dmin
        const int h = e / 128, g = (e % 128) / 32, l = e % 32, sc = b[e / 16];
        const int q = (b[16 + 32 * h + l] >> (2 * g)) & 3;
        return __fsub_rn(__fmul_rn(__fmul_rn(half_at(b + 80), (float)(sc & 15)), (float)q),
                        __fmul_rn(half_at(b + 82), (float)(sc >> 4)));
    }
    if (T == T_Q3_K) {  // hmask[32] qs[64] scales[12] d
        const int h = e / 128, g = (e % 128) / 32, l = e % 32, j = e / 16;
        const int low = (b[32 + 32 * h + l] >> (2 * g)) & 3;
        const int hbit = (b[e % 32] >> (e / 32)) & 1;
        const uint8_t *s = b + 96;
        const int sl = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
        const int sh = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        return __fmul_rn(__fmul_rn(half_at(b + 108), (float)((sl | (sh << 4)) - 32)), (float)(low - (hbit ? 0 : 4)));
    }
    if (T == T_Q4_K || T == T_Q5_K) {  // d dmin scales[12] [qh[32]] qs[128]
        int sc, m;
        scale_min_k4(b + 4, e / 32, &sc, &m);
        const uint8_t *qs = b + (T == T_Q4_K ? 16 : 48);
        const int c = e / 64, l = e % 32;
        int q = (e % 64) < 32 ? qs[32 * c + l] & 15 : qs[32 * c + l] >> 4;
        if (T == T_Q5_K) q += 16 * ((b[16 + e % 32] >> (e / 32)) & 1);
        return __fsub_rn(__fmul_rn(__fmul_rn(half_at(b), (float)sc), (float)q), __fmul_rn(half_at(b + 2), (float)m));
    }
    if (T == T_IQ4_NL) {  // d qs[16]: as Q4_0, the code indexes the levels
        const int q = e < 16 ? b[2 + e] & 15 : b[2 + e - 16] >> 4;
        return __fmul_rn(half_at(b), (float)iq4_values[q]);
    }
    if (T == T_IQ4_XS) {  // d scales_h scales_l[4] qs[128]; 6-bit block scales - 32
        const int ib = e / 32, j = e % 32, qb = b[8 + 16 * ib + j % 16];
        const int q = j < 16 ? qb & 15 : qb >> 4;
        const int sh = b[2] | (b[3] << 8);
        const int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 15) | (((sh >> (2 * ib)) & 3) << 4);
        return __fmul_rn(__fmul_rn(half_at(b), (float)(ls - 32)), (float)iq4_values[q]);
    }
    // T_Q6_K: ql[128] qh[64] scales[16] (int8) d
    const int h = e / 128, r = e % 128, g = r / 32, l = r % 32;
    const uint8_t *ql = b + 64 * h;
    const int low = g == 0 ? ql[l] & 15 : g == 1 ? ql[32 + l] & 15 : g == 2 ? ql[l] >> 4 : ql[32 + l] >> 4;
    const int high = (b[128 + 32 * h + l] >> (2 * g)) & 3;
    return __fmul_rn(__fmul_rn(half_at(b + 208), (float)(int8_t)b[192 + e / 16]), (float)((low | (high << 4)) - 32));
}

// f32 -> f16 bits, round to nearest even, NaN -> quiet NaN with its sign (quant/fp16.c).
__device__ __forceinline__ unsigned short f32_to_f16_bits(float f) {
    const uint32_t bits = __float_as_uint(f);
    const uint32_t sign = (bits >> 16) & 0x8000u, absx = bits & 0x7fffffffu;
    if (absx > 0x7f800000u) return (unsigned short)(sign | 0x7e00u);
    if (absx >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);
    const uint32_t e = absx >> 23;
    if (e < 113) {
        if (e == 0) return (unsigned short)sign;
        const uint32_t m = (absx & 0x7fffffu) | 0x800000u, shift = 126 - e;
        if (shift > 24) return (unsigned short)sign;
        uint32_t h = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (h & 1))) h++;
        return (unsigned short)(sign | h);
    }
    uint32_t base = ((e - 112) << 10) | ((absx >> 13) & 0x3ffu);
    const uint32_t rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (base & 1))) base++;
    return (unsigned short)(sign | base);
}

__device__ __forceinline__ unsigned short f32_to_bf16_bits(float f) {
    const uint32_t bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((bits >> 16) | 0x40);
    return (unsigned short)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// Byte address of row (i1, i2, i3) of a view.
__device__ __forceinline__ uint8_t *row_at(uint8_t *data, const int64_t *nb, int64_t i1, int64_t i2, int64_t i3) {
    return data + i1 * nb[1] + i2 * nb[2] + i3 * nb[3];
}

}  // namespace kiln_cuda

// Instantiates BODY for the runtime type `type` as the compile-time constant T (every type kiln
// dequantizes); other types fall to `DEFAULT`.
#define KILN_CUDA_TYPE_SWITCH(type, BODY, DEFAULT)                                                 \
    switch (type) {                                                                                \
    case kiln_cuda::T_F32: { constexpr int T = kiln_cuda::T_F32; BODY; } break;                    \
    case kiln_cuda::T_F16: { constexpr int T = kiln_cuda::T_F16; BODY; } break;                    \
    case kiln_cuda::T_BF16: { constexpr int T = kiln_cuda::T_BF16; BODY; } break;                  \
    case kiln_cuda::T_Q4_0: { constexpr int T = kiln_cuda::T_Q4_0; BODY; } break;                  \
    case kiln_cuda::T_Q4_1: { constexpr int T = kiln_cuda::T_Q4_1; BODY; } break;                  \
    case kiln_cuda::T_Q5_0: { constexpr int T = kiln_cuda::T_Q5_0; BODY; } break;                  \
    case kiln_cuda::T_Q5_1: { constexpr int T = kiln_cuda::T_Q5_1; BODY; } break;                  \
    case kiln_cuda::T_Q8_0: { constexpr int T = kiln_cuda::T_Q8_0; BODY; } break;                  \
    case kiln_cuda::T_Q2_K: { constexpr int T = kiln_cuda::T_Q2_K; BODY; } break;                  \
    case kiln_cuda::T_Q3_K: { constexpr int T = kiln_cuda::T_Q3_K; BODY; } break;                  \
    case kiln_cuda::T_Q4_K: { constexpr int T = kiln_cuda::T_Q4_K; BODY; } break;                  \
    case kiln_cuda::T_Q5_K: { constexpr int T = kiln_cuda::T_Q5_K; BODY; } break;                  \
    case kiln_cuda::T_Q6_K: { constexpr int T = kiln_cuda::T_Q6_K; BODY; } break;                  \
    case kiln_cuda::T_IQ4_NL: { constexpr int T = kiln_cuda::T_IQ4_NL; BODY; } break;              \
    case kiln_cuda::T_IQ4_XS: { constexpr int T = kiln_cuda::T_IQ4_XS; BODY; } break;              \
    default: DEFAULT;                                                                              \
    }
