// matmul GEMV with int8 dot products (CUDA), for Q4_0 and Q8_0 weights at n <= 8: as ggml's
// mmvq, the activations are first quantized to int8 blocks of 32 (d = max|x|/127, plus d * sum
// of the codes for Q4_0's "- 8"), then every 4 codes of W and x meet in one __dp4a. The rounding
// of x to int8 is the error kiln's ceiling for quantized matmul already allows (5e-4; ~3e-5 seen
// on the CPU's identical scheme). Layouts: matmul_cuda.cu's.
//   quantize_x_kernel: one thread per 32 elements of x -> struct xq (40 bytes, 4-aligned)
//   gemv_dp4a_kernel:  one warp per W row, 8 rows per block, lanes over the row's blocks; W codes
//                      read as 16-bit words (blocks are 2-aligned), x codes as 32-bit words
// v1. KILN_CUDA_NO_DP4A=1 (read by cuda_backend.c) keeps the float GEMV, to compare.
// v2: the column count a template parameter (no local memory).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backends/cuda/cuda_ops.h"
#include "kernels/common/blocks_cuda.cuh"
#include "kernels/matmul/gemv_columns_cuda.cuh"

using namespace kiln_cuda;

struct xq {
    int32_t q[8];  // 32 int8 codes
    float d, sum;  // scale, and d * (sum of the codes)
};

constexpr int DP4A_WARPS = 8, DP4A_MAX_N = 8;

// x [k, n, ne2, ne3] f32 -> xq blocks, (column, batch) major: block (bz * n + j) * (k / 32) + b.
__global__ void quantize_x_kernel(struct kiln_cuda_view x, struct xq *out) {
    const int64_t nb = x.ne[0] / 32, n = x.ne[1], total = nb * n * x.ne[2] * x.ne[3];
    for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total; t += (int64_t)gridDim.x * blockDim.x) {
        const int64_t b = t % nb, col = t / nb, j = col % n, bz = col / n;
        const int64_t i2 = bz % x.ne[2], i3 = bz / x.ne[2];
        const float *xr = reinterpret_cast<const float *>(x.data + j * x.nb[1] + i2 * x.nb[2] + i3 * x.nb[3]) + b * 32;
        float amax = 0.0f;
        for (int l = 0; l < 32; l++) amax = fmaxf(amax, fabsf(xr[l]));
        const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        struct xq blk;
        int sum = 0;
        for (int w = 0; w < 8; w++) {
            uint32_t packed = 0;
            for (int c = 0; c < 4; c++) {
                const int q = __float2int_rn(xr[4 * w + c] * id);
                sum += q;
                packed |= (uint32_t)(q & 0xff) << (8 * c);
            }
            blk.q[w] = (int32_t)packed;
        }
        blk.d = d;
        blk.sum = d * (float)sum;
        out[t] = blk;
    }
}

__device__ __forceinline__ int word_at(const uint8_t *p) {  // 4 bytes at a 2-aligned address
    const unsigned short *h = reinterpret_cast<const unsigned short *>(p);
    return (int)((uint32_t)h[0] | ((uint32_t)h[1] << 16));
}

// N (x columns, 1..8) is a template parameter so that acc[] stays in registers (v1 indexed it
// by the run-time n: a 32-byte stack frame on sm_90).
template <int T, int N>
__global__ void __launch_bounds__(32 * DP4A_WARPS)
gemv_dp4a_kernel(struct kiln_cuda_view w, const struct xq *xq, struct kiln_cuda_view y) {
    constexpr int n = N;
    const int lane = threadIdx.x & 31;
    const int64_t r = (int64_t)blockIdx.x * DP4A_WARPS + (threadIdx.x >> 5);
    if (r >= w.ne[1]) return;
    const int64_t nb = w.ne[0] / 32, bz = blockIdx.y;
    const uint8_t *row = w.data + r * w.nb[1];
    const struct xq *xcol = xq + bz * n * nb;
    float acc[N];
#pragma unroll
    for (int j = 0; j < N; j++) acc[j] = 0.0f;
    for (int64_t b = lane; b < nb; b += 32) {
        const uint8_t *blk = row + b * block_of<T>::bytes;
        const float dw = half_at(blk);
        int wv[8];
        if (T == T_Q4_0) {
            for (int i = 0; i < 4; i++) {
                const int v = word_at(blk + 2 + 4 * i);
                wv[i] = v & 0x0f0f0f0f;             // elements 4i .. 4i+3
                wv[i + 4] = (v >> 4) & 0x0f0f0f0f;  // elements 16+4i .. 16+4i+3
            }
        } else {
            for (int i = 0; i < 8; i++) wv[i] = word_at(blk + 2 + 4 * i);
        }
#pragma unroll
        for (int j = 0; j < n; j++) {
            const struct xq *xb = xcol + j * nb + b;
            int sumi = 0;
#pragma unroll
            for (int i = 0; i < 8; i++) sumi = __dp4a(wv[i], xb->q[i], sumi);
            // Q4_0's codes are stored +8: subtract 8 * sum(x codes) * dx once per block
            acc[j] += T == T_Q4_0 ? dw * (xb->d * (float)sumi - 8.0f * xb->sum) : dw * xb->d * (float)sumi;
        }
    }
    const int64_t i2 = bz % y.ne[2], i3 = bz / y.ne[2];
#pragma unroll
    for (int j = 0; j < n; j++) {
        float v = acc[j];
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        if (lane == 0) reinterpret_cast<float *>(y.data + j * y.nb[1] + i2 * y.nb[2] + i3 * y.nb[3])[r] = v;
    }
}

template <int T>
static void launch_dp4a(int n, dim3 grid, cudaStream_t s, const struct kiln_cuda_view &w, const struct xq *xq,
                        const struct kiln_cuda_view &y) {
    with_columns(n, [&](auto N) { gemv_dp4a_kernel<T, decltype(N)::value><<<grid, 32 * DP4A_WARPS, 0, s>>>(w, xq, y); });
}

// Bytes of scratch the activations take (cuda_backend.c reserves them in op->scratch).
extern "C" size_t kiln_cuda_dp4a_scratch(int64_t k, int64_t columns) {
    return (size_t)(k / 32) * (size_t)columns * sizeof(struct xq);
}

extern "C" int kiln_cuda_gemv_dp4a(const struct kiln_cuda_op *op, cudaStream_t s, const char **name) {
    const struct kiln_cuda_view &w = op->src[0], &x = op->src[1], &y = op->dst;
    const int n = (int)x.ne[1];
    const unsigned int batch = (unsigned int)(x.ne[2] * x.ne[3]);
    if (n < 1 || n > DP4A_MAX_N || (w.type != T_Q4_0 && w.type != T_Q8_0) || !op->scratch) return (int)cudaErrorInvalidValue;
    struct xq *xq = reinterpret_cast<struct xq *>(op->scratch);
    *name = "quantize_x_kernel";
    const int64_t blocks = x.ne[0] / 32 * n * (int64_t)batch;
    quantize_x_kernel<<<(unsigned int)((blocks + 255) / 256 < 65535 ? (blocks + 255) / 256 : 65535), 256, 0, s>>>(x, xq);
    if (cudaPeekAtLastError() != cudaSuccess) return (int)cudaGetLastError();
    *name = "gemv_dp4a_kernel";
    const dim3 grid((unsigned int)((w.ne[1] + DP4A_WARPS - 1) / DP4A_WARPS), batch);
    if (w.type == T_Q4_0)
        launch_dp4a<T_Q4_0>(n, grid, s, w, xq, y);
    else
        launch_dp4a<T_Q8_0>(n, grid, s, w, xq, y);
    return (int)cudaGetLastError();
}
