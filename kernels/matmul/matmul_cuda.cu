// matmul (CUDA): y[j][r] = sum_i W[r][i] x[j][i]; W [k, m] of any type kiln dequantizes, x [k, n]
// f32, y [m, n] f32, dims 2-3 of x and y batch dims (W shared). Blocks: blocks_cuda.cuh.
//   gemv    (n <= 8, decode): one warp per W row, 8 rows per block; lanes stride over the row
//           (neighbouring lanes read neighbouring bytes), Q4_0/Q8_0 a whole block per step
//           (one scale, codes in 16-bit loads, x in float4 loads), other types element by
//           element; warp-shuffle reduction.
//   gemm    exact f32 SIMT tiles: 64 x 64 outputs per 256-thread block, 4 x 4 per thread, k in
//           slices of 16, the W slice dequantized into shared memory on load.
//   gemm_tc tensor cores: WMMA 16x16x16 f16 x f16 -> f32, 64 x 64 outputs per 4-warp block,
//           k in slices of 32 with W dequantized and x rounded to f16 on their way into shared
//           memory; the f16 rounding of the inputs is why its ceiling is ggml's 5e-4.
// v1. Next: activations quantized to int8 for dp4a in gemv (ggml's mmvq), 16-byte loads,
//     cp.async double buffering and mma.sync/wgmma in gemm_tc.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include "backends/cuda/cuda_ops.h"
#include "kernels/common/blocks_cuda.cuh"
#include "kernels/matmul/gemv_columns_cuda.cuh"

using namespace kiln_cuda;

constexpr int GEMV_WARPS = 8, MAX_N = 8;

// N (the number of x columns, 1..MAX_N) is a template parameter: every per-column array is
// indexed by unrolled compile-time indices and lives in registers (v1 indexed them by the
// run-time n, which put them in local memory: a 96-byte stack frame on sm_90). Launches pick
// the instance through with_columns (gemv_columns_cuda.cuh).
template <int T, int N>
__global__ void __launch_bounds__(32 * GEMV_WARPS)
gemv_kernel(struct kiln_cuda_view w, struct kiln_cuda_view x, struct kiln_cuda_view y) {
    const int lane = threadIdx.x & 31;
    const int64_t r = (int64_t)blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5);
    const int64_t m = w.ne[1], k = w.ne[0];
    if (r >= m) return;
    const int64_t bz = blockIdx.y, i2 = bz % x.ne[2], i3 = bz / x.ne[2];
    const uint8_t *row = w.data + r * w.nb[1];
    const uint8_t *x0 = x.data + i2 * x.nb[2] + i3 * x.nb[3];
    const int64_t xs = x.nb[1];
    float acc[N];
#pragma unroll
    for (int j = 0; j < N; j++) acc[j] = 0.0f;
    if (T == T_Q4_0 || T == T_Q8_0) {
        // Codes in 16-bit loads (blocks are 2-aligned: 18 and 34 bytes), x in float4 loads where
        // every x row is 16-byte aligned (the model's activations are), scalar loads otherwise.
        constexpr int BB = block_of<T>::bytes;
        const bool x16 = ((reinterpret_cast<uintptr_t>(x0) | (uintptr_t)(N > 1 ? xs : 0)) & 15) == 0;
        for (int64_t b = lane; b < k / 32; b += 32) {
            const uint8_t *blk = row + b * BB;
            const float d = half_at(blk);
            const unsigned short *q16 = reinterpret_cast<const unsigned short *>(blk + 2);
            float wq[32];
            if (T == T_Q4_0) {
#pragma unroll
                for (int l = 0; l < 8; l++) {
                    const unsigned int q = q16[l];  // bytes 2l, 2l+1: codes 2l, 2l+1 low, +16 high
                    wq[2 * l] = (float)((int)(q & 15) - 8);
                    wq[2 * l + 1] = (float)((int)((q >> 8) & 15) - 8);
                    wq[2 * l + 16] = (float)((int)((q >> 4) & 15) - 8);
                    wq[2 * l + 17] = (float)((int)(q >> 12) - 8);
                }
            } else {
#pragma unroll
                for (int l = 0; l < 16; l++) {
                    const unsigned int q = q16[l];
                    wq[2 * l] = (float)(int8_t)(q & 0xff);
                    wq[2 * l + 1] = (float)(int8_t)(q >> 8);
                }
            }
#pragma unroll
            for (int j = 0; j < N; j++) {
                const float *xb = reinterpret_cast<const float *>(x0 + j * xs) + b * 32;
                float sj = 0.0f;
                if (x16) {
#pragma unroll
                    for (int l = 0; l < 32; l += 4) {
                        const float4 xv = *reinterpret_cast<const float4 *>(xb + l);
                        sj += wq[l] * xv.x + wq[l + 1] * xv.y + wq[l + 2] * xv.z + wq[l + 3] * xv.w;
                    }
                } else {
#pragma unroll
                    for (int l = 0; l < 32; l++) sj += wq[l] * xb[l];
                }
                acc[j] += d * sj;
            }
        }
    } else {
        for (int64_t i = lane; i < k; i += 32) {
            const float wv = decode<T>(row, i);
#pragma unroll
            for (int j = 0; j < N; j++) acc[j] += wv * reinterpret_cast<const float *>(x0 + j * xs)[i];
        }
    }
#pragma unroll
    for (int j = 0; j < N; j++) {
        float v = acc[j];
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        if (lane == 0)
            reinterpret_cast<float *>(y.data + j * y.nb[1] + i2 * y.nb[2] + i3 * y.nb[3])[r] = v;
    }
}

template <int T>
static void launch_gemv(int n, dim3 grid, cudaStream_t s, const struct kiln_cuda_view &w,
                        const struct kiln_cuda_view &x, const struct kiln_cuda_view &y) {
    with_columns(n, [&](auto N) { gemv_kernel<T, decltype(N)::value><<<grid, 32 * GEMV_WARPS, 0, s>>>(w, x, y); });
}

constexpr int BM = 64, BN = 64, BK = 16;

template <int T>
__global__ void gemm_kernel(struct kiln_cuda_view w, struct kiln_cuda_view x, struct kiln_cuda_view y) {
    const int64_t m = w.ne[1], n = x.ne[1], k = w.ne[0];
    const int64_t m0 = (int64_t)blockIdx.x * BM, n0 = (int64_t)blockIdx.y * BN;
    const int64_t bz = blockIdx.z, i2 = bz % x.ne[2], i3 = bz / x.ne[2];
    const uint8_t *xb = x.data + i2 * x.nb[2] + i3 * x.nb[3];
    __shared__ float ws[BK][BM + 1];
    __shared__ float xs[BK][BN + 1];
    const int tid = threadIdx.x, tr = (tid % 16) * 4, tc = (tid / 16) * 4;
    float acc[4][4] = {};
    for (int64_t k0 = 0; k0 < k; k0 += BK) {
        for (int e = tid; e < BM * BK; e += 256) {
            const int rr = e / BK, kk = e % BK;
            const int64_t r = m0 + rr, i = k0 + kk, j = n0 + rr;
            ws[kk][rr] = (r < m && i < k) ? decode<T>(w.data + r * w.nb[1], i) : 0.0f;
            xs[kk][rr] = (j < n && i < k) ? reinterpret_cast<const float *>(xb + j * x.nb[1])[i] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            float wv[4], xv[4];
            for (int a = 0; a < 4; a++) { wv[a] = ws[kk][tr + a]; xv[a] = xs[kk][tc + a]; }
            for (int a = 0; a < 4; a++)
                for (int c = 0; c < 4; c++) acc[a][c] += wv[a] * xv[c];
        }
        __syncthreads();
    }
    for (int c = 0; c < 4; c++) {
        const int64_t j = n0 + tc + c;
        if (j >= n) break;
        float *yr = reinterpret_cast<float *>(y.data + j * y.nb[1] + i2 * y.nb[2] + i3 * y.nb[3]);
        for (int a = 0; a < 4; a++)
            if (m0 + tr + a < m) yr[m0 + tr + a] = acc[a][c];
    }
}

constexpr int TBM = 64, TBN = 64, TBK = 32, TPAD = 8;

template <int T>
__global__ void gemm_tc_kernel(struct kiln_cuda_view w, struct kiln_cuda_view x, struct kiln_cuda_view y) {
    using namespace nvcuda;
    const int64_t m = w.ne[1], n = x.ne[1], k = w.ne[0];
    const int64_t m0 = (int64_t)blockIdx.x * TBM, n0 = (int64_t)blockIdx.y * TBN;
    const int64_t bz = blockIdx.z, i2 = bz % x.ne[2], i3 = bz / x.ne[2];
    const uint8_t *xb = x.data + i2 * x.nb[2] + i3 * x.nb[3];
    // WMMA loads and stores need 32-byte aligned addresses: the bases are, and every 16-row or
    // 16-column step of these strides (80 and 272 bytes per row) keeps it.
    __shared__ __align__(32) __half ws[TBM][TBK + TPAD];  // A: W tile, row-major [m][k]
    __shared__ __align__(32) __half xs[TBN][TBK + TPAD];  // B: x tile [n][k] = col-major k x n
    __shared__ __align__(32) float cs[TBM][TBN + 4];
    const int tid = threadIdx.x, warp = tid >> 5, wm = (warp & 1) * 32, wn = (warp >> 1) * 32;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) wmma::fill_fragment(acc[a][b], 0.0f);
    for (int64_t k0 = 0; k0 < k; k0 += TBK) {
        for (int e = tid; e < TBM * TBK; e += 128) {
            const int rr = e / TBK, kk = e % TBK;
            const int64_t r = m0 + rr, i = k0 + kk, j = n0 + rr;
            ws[rr][kk] = __float2half_rn((r < m && i < k) ? decode<T>(w.data + r * w.nb[1], i) : 0.0f);
            xs[rr][kk] = __float2half_rn((j < n && i < k) ? reinterpret_cast<const float *>(xb + j * x.nb[1])[i] : 0.0f);
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TBK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb[2];
            for (int a = 0; a < 2; a++) wmma::load_matrix_sync(fa[a], &ws[wm + 16 * a][kk], TBK + TPAD);
            for (int b = 0; b < 2; b++) wmma::load_matrix_sync(fb[b], &xs[wn + 16 * b][kk], TBK + TPAD);
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++) wmma::mma_sync(acc[a][b], fa[a], fb[b], acc[a][b]);
        }
        __syncthreads();
    }
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            wmma::store_matrix_sync(&cs[wm + 16 * a][wn + 16 * b], acc[a][b], TBN + 4, wmma::mem_row_major);
    __syncthreads();
    for (int e = tid; e < TBM * TBN; e += 128) {
        const int rr = e % TBM, cc = e / TBM;  // consecutive threads write consecutive r
        const int64_t r = m0 + rr, j = n0 + cc;
        if (r < m && j < n)
            reinterpret_cast<float *>(y.data + j * y.nb[1] + i2 * y.nb[2] + i3 * y.nb[3])[r] = cs[rr][cc];
    }
}

extern "C" int kiln_cuda_gemv_dp4a(const struct kiln_cuda_op *op, cudaStream_t s, const char **name);
extern "C" int kiln_cuda_matmul_mma(const struct kiln_cuda_op *op, cudaStream_t s, const char **name);

extern "C" int kiln_cuda_matmul(const struct kiln_cuda_op *op, cudaStream_t s, const char **name) {
    const struct kiln_cuda_view &w = op->src[0], &x = op->src[1], &y = op->dst;
    const unsigned int batch = (unsigned int)(x.ne[2] * x.ne[3]);
    bool known = true;
    switch (op->variant) {
    case KILN_CUDA_GEMV: {
        if (op->scratch && (w.type == T_Q4_0 || w.type == T_Q8_0))
            return kiln_cuda_gemv_dp4a(op, s, name);  // matmul_dp4a_cuda.cu
        *name = "gemv_kernel";
        if (x.ne[1] < 1 || x.ne[1] > MAX_N) return (int)cudaErrorInvalidValue;
        const dim3 grid((unsigned int)((w.ne[1] + GEMV_WARPS - 1) / GEMV_WARPS), batch);
        KILN_CUDA_TYPE_SWITCH(w.type, launch_gemv<T>((int)x.ne[1], grid, s, w, x, y), known = false)
        break;
    }
    case KILN_CUDA_GEMM: {
        *name = "gemm_kernel";
        const dim3 grid((unsigned int)((w.ne[1] + BM - 1) / BM), (unsigned int)((x.ne[1] + BN - 1) / BN), batch);
        KILN_CUDA_TYPE_SWITCH(w.type, (gemm_kernel<T><<<grid, 256, 0, s>>>(w, x, y)), known = false)
        break;
    }
    case KILN_CUDA_MMA:
        return kiln_cuda_matmul_mma(op, s, name);  // matmul_mma_cuda.cu
    default: {
        *name = "gemm_tc_kernel";
        const dim3 grid((unsigned int)((w.ne[1] + TBM - 1) / TBM), (unsigned int)((x.ne[1] + TBN - 1) / TBN), batch);
        KILN_CUDA_TYPE_SWITCH(w.type, (gemm_tc_kernel<T><<<grid, 128, 0, s>>>(w, x, y)), known = false)
        break;
    }
    }
    return known ? (int)cudaGetLastError() : (int)cudaErrorInvalidValue;
}
