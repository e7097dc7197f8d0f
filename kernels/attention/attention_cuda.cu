// attention (CUDA): causal grouped-query attention, prefill and decode, as ops.h defines it.
//   q [D, n_q, H] f32, k/v [D, n_kv, H_kv] f16 or f32, out [D, n_q, H] f32; head h reads kv head
//   h / (H / H_kv); key j visible to query i iff !causal or j <= pos0 + i. D <= 256.
// v1: flash-style, one 128-thread block per (query, head): keys in tiles of 128, one thread
//     scores one key (q in shared memory), the tile's max rescales the running sums (online
//     softmax), then each thread accumulates its output dims over the tile's probabilities with
//     V rows read coalesced. f32 throughout. No tensor cores yet.
// v2: split-K for long decodes (flash-decoding, as attention.comp v2): with op->splits > 1 each
//     block takes one chunk of keys and writes its partial (m, l, unnormalized output) to
//     op->scratch; attention_combine_kernel merges them.
// Prefill on sm_80+ takes attention_fa2_cuda.cu (tensor cores) first, decode (D 64/128, GQA
// groups up to 8) attention_decode_cuda.cu (a warp per key, the group sharing each K/V row);
// this kernel stays as the exact f32 rung of the oracle ladder, for the shapes those decline.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backends/cuda/cuda_ops.h"
#include "kernels/common/blocks_cuda.cuh"

using namespace kiln_cuda;

constexpr int ATT_THREADS = 128, ATT_MAX_D = 256;

template <int T>
__device__ __forceinline__ float kv_at(const uint8_t *row, int d) {
    return T == T_F16 ? __half2float(reinterpret_cast<const __half *>(row)[d]) : reinterpret_cast<const float *>(row)[d];
}

template <int T>
__global__ void attention_kernel(struct kiln_cuda_view q, struct kiln_cuda_view k, struct kiln_cuda_view v,
                                 struct kiln_cuda_view o, float scale, int pos0, int causal, int chunk,
                                 float *partial) {
    const int D = (int)q.ne[0], n_q = (int)q.ne[1], H = (int)q.ne[2];
    const int n_kv = (int)k.ne[1], H_kv = (int)k.ne[2];
    const int rows = n_q * H, split = chunk > 0 ? (int)blockIdx.x / rows : 0, g = (int)blockIdx.x % rows;
    const int i = g % n_q, h = g / n_q, hk = h / (H / H_kv);
    const int tid = threadIdx.x;
    __shared__ float qs[ATT_MAX_D];
    __shared__ float p[ATT_THREADS];
    __shared__ float red[ATT_THREADS / 32];
    const float *qr = reinterpret_cast<const float *>(q.data + i * q.nb[1] + h * q.nb[2]);
    for (int d = tid; d < D; d += ATT_THREADS) qs[d] = qr[d];
    __syncthreads();
    const int n_all = causal ? min(n_kv, pos0 + i + 1) : n_kv;
    const int j_lo = chunk > 0 ? split * chunk : 0;
    const int n_vis = chunk > 0 ? min(n_all, j_lo + chunk) : n_all;
    float m = -INFINITY, l = 0.0f;
    float acc[ATT_MAX_D / ATT_THREADS] = { 0.0f, 0.0f };
    for (int j0 = j_lo; j0 < n_vis; j0 += ATT_THREADS) {
        const int j = j0 + tid;
        float s = -INFINITY;
        if (j < n_vis) {
            const uint8_t *kr = k.data + j * k.nb[1] + hk * k.nb[2];
            float dot = 0.0f;
            for (int d = 0; d < D; d++) dot += qs[d] * kv_at<T>(kr, d);
            s = dot * scale;
        }
        float mb = s;  // the tile's max: warp shuffles, then across the warps
        for (int off = 16; off > 0; off >>= 1) mb = fmaxf(mb, __shfl_xor_sync(0xffffffffu, mb, off));
        if ((tid & 31) == 0) red[tid >> 5] = mb;
        __syncthreads();
        mb = m;
        for (int w = 0; w < ATT_THREADS / 32; w++) mb = fmaxf(mb, red[w]);
        const float corr = expf(m - mb);  // 0 on the first tile (m = -inf)
        p[tid] = s == -INFINITY ? 0.0f : expf(s - mb);
        __syncthreads();
        const int nt = min(ATT_THREADS, n_vis - j0);
        float psum = 0.0f;
        for (int t = 0; t < nt; t++) psum += p[t];
        l = l * corr + psum;
        for (int c = 0; c * ATT_THREADS + tid < D; c++) {
            const int d = c * ATT_THREADS + tid;
            float a = acc[c] * corr;
            for (int t = 0; t < nt; t++) a += p[t] * kv_at<T>(v.data + (j0 + t) * v.nb[1] + hk * v.nb[2], d);
            acc[c] = a;
        }
        m = mb;
        __syncthreads();
    }
    if (partial) {  // [m, l, acc[0 .. D)] of this (split, query, head)
        float *p = partial + ((size_t)split * rows + g) * (D + 2);
        if (tid == 0) { p[0] = m; p[1] = l; }
        for (int c = 0; c * ATT_THREADS + tid < D; c++) p[2 + c * ATT_THREADS + tid] = acc[c];
        return;
    }
    float *orow = reinterpret_cast<float *>(o.data + i * o.nb[1] + h * o.nb[2]);
    for (int c = 0; c * ATT_THREADS + tid < D; c++) orow[c * ATT_THREADS + tid] = acc[c] / l;
}

__global__ void attention_combine_kernel(const float *partial, struct kiln_cuda_view o, int D, int n_q, int H,
                                         int splits) {
    const int rows = n_q * H, g = blockIdx.x, i = g % n_q, h = g / n_q;
    const size_t stride = (size_t)D + 2;
    float M = -INFINITY;
    for (int s = 0; s < splits; s++) M = fmaxf(M, partial[((size_t)s * rows + g) * stride]);
    float l = 0.0f;
    for (int s = 0; s < splits; s++) {
        const float *p = partial + ((size_t)s * rows + g) * stride;
        l += expf(p[0] - M) * p[1];
    }
    float *orow = reinterpret_cast<float *>(o.data + i * o.nb[1] + h * o.nb[2]);
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float a = 0.0f;
        for (int s = 0; s < splits; s++) {
            const float *p = partial + ((size_t)s * rows + g) * stride;
            a += expf(p[0] - M) * p[2 + d];
        }
        orow[d] = a / l;
    }
}

extern "C" int kiln_cuda_attention_fa2(const struct kiln_cuda_op *op, cudaStream_t s, const char **name);
extern "C" int kiln_cuda_attention_decode(const struct kiln_cuda_op *op, cudaStream_t s, int splits, int chunk,
                                          float *partial);

extern "C" int kiln_cuda_attention(const struct kiln_cuda_op *op, cudaStream_t s, const char **name) {
    if (op->variant == KILN_CUDA_ATT_FA2) return kiln_cuda_attention_fa2(op, s, name);
    const struct kiln_cuda_view &q = op->src[0];
    const unsigned int rows = (unsigned int)(q.ne[1] * q.ne[2]);
    const bool split = op->splits > 1 && op->scratch;
    const unsigned int blocks = split ? rows * (unsigned int)op->splits : rows;
    float *partial = split ? op->scratch : nullptr;
    const int chunk = split ? op->chunk : 0;
    *name = "attention_kernel";
    if (op->variant == KILN_CUDA_ATT_DECODE) {
        *name = "decode_kernel";
        const int e = kiln_cuda_attention_decode(op, s, split ? op->splits : 1, chunk, partial);
        if (e) return e;
    } else if (q.ne[0] > ATT_MAX_D) {
        return (int)cudaErrorInvalidValue;
    } else if (op->src[1].type == T_F16)
        attention_kernel<T_F16><<<blocks, ATT_THREADS, 0, s>>>(q, op->src[1], op->src[2], op->dst, op->scale, op->pos0,
                                                               op->causal, chunk, partial);
    else
        attention_kernel<T_F32><<<blocks, ATT_THREADS, 0, s>>>(q, op->src[1], op->src[2], op->dst, op->scale, op->pos0,
                                                               op->causal, chunk, partial);
    if (split && cudaPeekAtLastError() == cudaSuccess) {
        *name = "attention_combine_kernel";
        attention_combine_kernel<<<rows, ATT_THREADS, 0, s>>>(partial, op->dst, (int)q.ne[0], (int)q.ne[1],
                                                              (int)q.ne[2], op->splits);
    }
    return (int)cudaGetLastError();
}
