// decode8: 8 consecutive elements of a quantized row at once, bit for bit decode<T>'s values
// (blocks_cuda.cuh), for the mma GEMM's shared-memory fill (matmul_mma_cuda.cu). Its own header
// so that tests/cuda/decode8_host_test.cc can compile it for the host and compare it with
// decode<T> element by element on every type: no GPU needed.
#pragma once

#include "kernels/common/blocks_cuda.cuh"

namespace kiln_cuda {

// The types whose 8-element chunks decode8 takes whole.
template <int T> __host__ __device__ constexpr bool has_decode8() {
    return T != T_F32 && T != T_F16 && T != T_BF16;  // every quantized type
}

// Elements i .. i + 7 of a row (i a multiple of 8, all below k): they share one block and one
// (sub-block) scale, so the scales are read and multiplied once and the codes come as bytes in a
// row. The products are decode<T>'s, in its order (__fmul_rn/__fsub_rn), so the f16 rounding
// that follows sees the same floats as the reference's.
template <int T>
__device__ __forceinline__ void decode8(const uint8_t *row, int64_t i, float (&v)[8]) {
    const uint8_t *b = row + (i / block_of<T>::elems) * block_of<T>::bytes;
    const int e = (int)(i % block_of<T>::elems);
    if (T == T_Q4_0 || T == T_Q8_0) {
        const float d = half_at(b);
#pragma unroll
        for (int l = 0; l < 8; l++) {
            const int q = T == T_Q8_0 ? (int)(int8_t)b[2 + e + l]
                                      : (e < 16 ? b[2 + e + l] & 15 : b[2 + e + l - 16] >> 4) - 8;
            v[l] = __fmul_rn((float)q, d);
        }
    } else if (T == T_Q4_1 || T == T_Q5_0 || T == T_Q5_1 || T == T_IQ4_NL) {  // one 32-block
        const int off = T == T_Q4_1 || T == T_Q5_1 ? 4 : 2;  // bytes of d (and m) before the codes
        const float d = half_at(b), mn = T == T_Q4_1 || T == T_Q5_1 ? half_at(b + 2) : 0.0f;
        uint32_t qh = 0;
        if (T == T_Q5_0 || T == T_Q5_1)
            qh = b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | ((uint32_t)b[off + 3] << 24);
        const uint8_t *qs = b + off + (T == T_Q5_0 || T == T_Q5_1 ? 4 : 0) + e % 16;
#pragma unroll
        for (int l = 0; l < 8; l++) {
            int q = e < 16 ? qs[l] & 15 : qs[l] >> 4;
            if (T == T_Q5_0 || T == T_Q5_1) q |= (int)(((qh >> (e + l)) & 1u) << 4);
            if (T == T_Q4_1 || T == T_Q5_1) v[l] = __fadd_rn(__fmul_rn((float)q, d), mn);
            else if (T == T_Q5_0) v[l] = __fmul_rn((float)(q - 16), d);
            else v[l] = __fmul_rn(d, (float)iq4_values[q]);
        }
    } else if (T == T_IQ4_XS) {  // 32-element sub-blocks, a 6-bit scale each
        const int ib = e / 32, j = e % 32;
        const int sh = b[2] | (b[3] << 8);
        const int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 15) | (((sh >> (2 * ib)) & 3) << 4);
        const float dl = __fmul_rn(half_at(b), (float)(ls - 32));
        const uint8_t *qb = b + 8 + 16 * ib + j % 16;
#pragma unroll
        for (int l = 0; l < 8; l++) v[l] = __fmul_rn(dl, (float)iq4_values[j < 16 ? qb[l] & 15 : qb[l] >> 4]);
    } else if (T == T_Q2_K || T == T_Q3_K) {  // 16-element sub-blocks
        const int h = e / 128, g = (e % 128) / 32, l0 = e % 32;
        if (T == T_Q2_K) {  // scales[16] qs[64] d dmin
            const int sc = b[e / 16];
            const float a = __fmul_rn(half_at(b + 80), (float)(sc & 15)), dm = __fmul_rn(half_at(b + 82), (float)(sc >> 4));
            const uint8_t *qs = b + 16 + 32 * h + l0;
#pragma unroll
            for (int l = 0; l < 8; l++) v[l] = __fsub_rn(__fmul_rn(a, (float)((qs[l] >> (2 * g)) & 3)), dm);
        } else {  // hmask[32] qs[64] scales[12] d
            const int j = e / 16;
            const uint8_t *s = b + 96;
            const int sl = j < 8 ? s[j] & 15 : s[j - 8] >> 4, shi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
            const float a = __fmul_rn(half_at(b + 108), (float)((sl | (shi << 4)) - 32));
            const uint8_t *qs = b + 32 + 32 * h + l0, *hm = b + l0;
#pragma unroll
            for (int l = 0; l < 8; l++) {
                const int low = (qs[l] >> (2 * g)) & 3, hbit = (hm[l] >> (e / 32)) & 1;
                v[l] = __fmul_rn(a, (float)(low - (hbit ? 0 : 4)));
            }
        }
    } else if (T == T_Q4_K || T == T_Q5_K) {  // sub-block e / 32: one 6-bit scale and min
        int sc, mn;
        scale_min_k4(b + 4, e / 32, &sc, &mn);
        const float ds = __fmul_rn(half_at(b), (float)sc), dm = __fmul_rn(half_at(b + 2), (float)mn);
        const uint8_t *qs = b + (T == T_Q4_K ? 16 : 48) + 32 * (e / 64) + e % 32;
        const bool high = (e % 64) >= 32;
#pragma unroll
        for (int l = 0; l < 8; l++) {
            int q = high ? qs[l] >> 4 : qs[l] & 15;
            if (T == T_Q5_K) q += 16 * ((b[16 + e % 32 + l] >> (e / 32)) & 1);
            v[l] = __fsub_rn(__fmul_rn(ds, (float)q), dm);
        }
    } else {  // T_Q6_K: 16-element sub-blocks, one int8 scale
        const int h = e / 128, g = (e % 128) / 32, l0 = e % 32;
        const float ds = __fmul_rn(half_at(b + 208), (float)(int8_t)b[192 + e / 16]);
        const uint8_t *ql = b + 64 * h + (g & 1) * 32 + l0, *qh = b + 128 + 32 * h + l0;
#pragma unroll
        for (int l = 0; l < 8; l++) {
            const int low = g < 2 ? ql[l] & 15 : ql[l] >> 4, hb = (qh[l] >> (2 * g)) & 3;
            v[l] = __fmul_rn(ds, (float)((low | (hb << 4)) - 32));
        }
    }
}

}  // namespace kiln_cuda
