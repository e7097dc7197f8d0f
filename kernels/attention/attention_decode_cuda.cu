// decode attention (CUDA): the op of attention_cuda.cu for one query (n_q = 1: a decode step),
// q [D, 1, H] f32, k/v [D, n_kv, H_kv] f16 or f32, out [D, 1, H] f32, D = 64 or 128, a GQA group
// G = H / H_kv of at most 8 heads. f32 arithmetic throughout: the exact class, no rounding.
//
// Design (v1):
//   block   one per (kv head, split): the G query heads of the group share every K/V row read
//           (v1, attention_cuda.cu, reads each row once per query head: G x the bytes).
//   warps   4 warps take the block's keys round-robin, one key at a time per warp: the 32 lanes
//           read the key's K row as one coalesced run (D / 32 contiguous elements a lane), each
//           lane's partial dots for the G heads are summed by a butterfly of shuffles, then the
//           warp's online softmax (its own max and sum per head) and V's row, read the same
//           coalesced way, accumulate in registers (D / 32 outputs a lane per head). v1 had one
//           thread per key walking its whole K row: 32 lanes touching 32 rows per load.
//   merge   the 4 warps' (max, sum, output) merge through shared memory; with split-K (long
//           caches, op->splits > 1) each block writes the partial [m, l, acc] of attention_cuda.cu
//           v2 for its heads, which attention_combine_kernel merges; otherwise the output.
// G (rounded up to 1, 2, 4 or 8; the real group size gn masks the rest), D / 32 and the K/V
// type are template parameters, so every per-head array is indexed by unrolled constants and
// stays in registers (ctest cuda_no_local_memory checks it).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backends/cuda/cuda_ops.h"
#include "kernels/common/blocks_cuda.cuh"

using namespace kiln_cuda;

namespace {

constexpr int DEC_WARPS = 4, DEC_MAX_G = 8;

template <int T, int DPL>
__device__ __forceinline__ void load_row(const uint8_t *row, int lane, float (&out)[DPL]) {
    if (T == T_F16) {
        const __half2 *h = reinterpret_cast<const __half2 *>(row) + lane * (DPL / 2);
#pragma unroll
        for (int e = 0; e < DPL / 2; e++) {
            const float2 f = __half22float2(h[e]);
            out[2 * e] = f.x;
            out[2 * e + 1] = f.y;
        }
    } else {
        const float *f = reinterpret_cast<const float *>(row) + lane * DPL;
#pragma unroll
        for (int e = 0; e < DPL; e++) out[e] = f[e];
    }
}

template <int T, int DPL, int G>
__global__ void __launch_bounds__(32 * DEC_WARPS)
decode_kernel(struct kiln_cuda_view q, struct kiln_cuda_view k, struct kiln_cuda_view v, struct kiln_cuda_view o,
              float scale, int pos0, int causal, int chunk, float *partial, int gn) {
    constexpr int D = 32 * DPL;
    __shared__ float sm_m[DEC_WARPS][G], sm_l[DEC_WARPS][G];
    __shared__ float sm_acc[DEC_WARPS][G][D];
    const int H_kv = (int)k.ne[2], n_kv = (int)k.ne[1], H = (int)q.ne[2];
    const int hk = (int)blockIdx.x % H_kv, split = (int)blockIdx.x / H_kv;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int n_all = causal ? min(n_kv, pos0 + 1) : n_kv;
    const int j_lo = chunk > 0 ? split * chunk : 0, j_hi = chunk > 0 ? min(n_all, j_lo + chunk) : n_all;

    float qv[G][DPL], acc[G][DPL], m[G], l[G];
#pragma unroll
    for (int g = 0; g < G; g++) {
        const float *qr = reinterpret_cast<const float *>(q.data + (int64_t)(hk * gn + (g < gn ? g : 0)) * q.nb[2]) +
                          lane * DPL;
#pragma unroll
        for (int e = 0; e < DPL; e++) {
            qv[g][e] = qr[e];
            acc[g][e] = 0.0f;
        }
        m[g] = -INFINITY;
        l[g] = 0.0f;
    }
    const uint8_t *kb = k.data + (int64_t)hk * k.nb[2], *vb = v.data + (int64_t)hk * v.nb[2];
#pragma unroll 1
    for (int j = j_lo + warp; j < j_hi; j += DEC_WARPS) {
        float kf[DPL], vf[DPL];
        load_row<T, DPL>(kb + (int64_t)j * k.nb[1], lane, kf);
        load_row<T, DPL>(vb + (int64_t)j * v.nb[1], lane, vf);
#pragma unroll
        for (int g = 0; g < G; g++) {
            if (g >= gn) break;  // the instance's G rounds the group up to a power of two
            float dot = 0.0f;
#pragma unroll
            for (int e = 0; e < DPL; e++) dot += qv[g][e] * kf[e];
#pragma unroll
            for (int off = 16; off > 0; off >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, off);
            const float s = dot * scale, mn = fmaxf(m[g], s);
            const float corr = expf(m[g] - mn), p = expf(s - mn);  // corr = 0 on the first key
            l[g] = l[g] * corr + p;
            m[g] = mn;
#pragma unroll
            for (int e = 0; e < DPL; e++) acc[g][e] = acc[g][e] * corr + p * vf[e];
        }
    }
#pragma unroll
    for (int g = 0; g < G; g++) {
        if (lane == 0) {
            sm_m[warp][g] = m[g];
            sm_l[warp][g] = l[g];
        }
#pragma unroll
        for (int e = 0; e < DPL; e++) sm_acc[warp][g][lane * DPL + e] = acc[g][e];
    }
    __syncthreads();
    // Merge: thread t takes (head g, dims d) pairs; a warp that saw no key has m = -inf, l = 0.
    for (int c = threadIdx.x; c < gn * D; c += 32 * DEC_WARPS) {
        const int g = c / D, d = c % D, h = hk * gn + g;
        float M = -INFINITY;
#pragma unroll
        for (int w = 0; w < DEC_WARPS; w++) M = fmaxf(M, sm_m[w][g]);
        float L = 0.0f, A = 0.0f;
        if (M != -INFINITY) {
#pragma unroll
            for (int w = 0; w < DEC_WARPS; w++) {
                const float f = expf(sm_m[w][g] - M);
                L += f * sm_l[w][g];
                A += f * sm_acc[w][g][d];
            }
        }
        if (partial) {  // [m, l, acc[0 .. D)] of (split, head h): attention_cuda.cu's layout, n_q = 1
            float *p = partial + ((size_t)split * H + h) * (D + 2);
            if (d == 0) { p[0] = M; p[1] = L; }
            p[2 + d] = A;
        } else {
            reinterpret_cast<float *>(o.data + (int64_t)h * o.nb[2])[d] = A / L;
        }
    }
}

template <int T, int DPL>
int launch_g(int G, unsigned int blocks, cudaStream_t s, const struct kiln_cuda_op *op, int chunk, float *partial) {
    const struct kiln_cuda_view &q = op->src[0], &k = op->src[1], &v = op->src[2];
#define KILN_DEC(g_)                                                                                                  \
    case g_:                                                                                                          \
        decode_kernel<T, DPL, g_><<<blocks, 32 * DEC_WARPS, 0, s>>>(q, k, v, op->dst, op->scale, op->pos0, op->causal, \
                                                                  chunk, partial, G);                                 \
        break;
    // Groups of 3, 5, 6, 7 run the next power of two's instance with the rest masked: the odd
    // sizes as their own instances got an 8-byte stack frame from ptxas (sm_80/90, nvcc 13).
    switch (G <= 1 ? 1 : G <= 2 ? 2 : G <= 4 ? 4 : 8) {
        KILN_DEC(1) KILN_DEC(2) KILN_DEC(4) KILN_DEC(8)
    default: return (int)cudaErrorInvalidValue;
    }
#undef KILN_DEC
    return 0;
}

}  // namespace

// Launches the decode kernel: H_kv x splits blocks (splits = 1 without partials).
extern "C" int kiln_cuda_attention_decode(const struct kiln_cuda_op *op, cudaStream_t s, int splits, int chunk,
                                          float *partial) {
    const struct kiln_cuda_view &q = op->src[0], &k = op->src[1];
    const int D = (int)q.ne[0], H = (int)q.ne[2], H_kv = (int)k.ne[2];
    if (q.ne[1] != 1 || H % H_kv || H / H_kv > DEC_MAX_G) return (int)cudaErrorInvalidValue;
    const unsigned int blocks = (unsigned int)(H_kv * splits);
    const int G = H / H_kv;
    int e = (int)cudaErrorInvalidValue;
    if (k.type == T_F16 && D == 64) e = launch_g<T_F16, 2>(G, blocks, s, op, chunk, partial);
    else if (k.type == T_F16 && D == 128) e = launch_g<T_F16, 4>(G, blocks, s, op, chunk, partial);
    else if (k.type == T_F32 && D == 64) e = launch_g<T_F32, 2>(G, blocks, s, op, chunk, partial);
    else if (k.type == T_F32 && D == 128) e = launch_g<T_F32, 4>(G, blocks, s, op, chunk, partial);
    return e ? e : (int)cudaGetLastError();
}
