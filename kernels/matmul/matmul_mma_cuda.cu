// matmul on tensor cores with mma.sync (CUDA, sm_80+): y[j][r] = sum_i W[r][i] x[j][i], the
// layouts of matmul_cuda.cu (W [k, m] any type kiln dequantizes but F32, x [k, n] f32,
// y [m, n] f32, dims 2-3 of x and y batched, W shared). W and x are rounded to f16 on their way
// into shared memory and the products accumulate in f32 (KILN_ROUND_WX_F16, as gemm_tc); BF16 W
// goes in as it is and x is rounded to bf16 for mma.sync .bf16 (KILN_ROUND_X_BF16, v2).
//
// Design (v1):
//   block   128 (rows of W) x 64 (rows of x) outputs, 4 warps as 2 x 2, each warp 64 x 32:
//           4 x 4 tiles of mma.sync.m16n8k16 (f16 in, f32 accumulators: 64 floats a thread)
//   k       slices of 32 through a 3-stage shared-memory ring: slice s+2 is being fetched while
//           slice s is multiplied. F16 weights with 16-byte aligned rows go global -> shared
//           with cp.async (16 bytes a copy, zero-filled past m or k: no bounds branches in the
//           inner loop); quantized weights are decoded 8 elements a thread (decode8_cuda.cuh: one
//           scale per chunk; decode<T> per element only for unaligned f16/bf16), one 16-byte
//           store into the same ring; x is read as float4 (scalar where
//           rows are unaligned), converted to f16 and stored 16 bytes at a time.
//   shared  rows of 32 halves padded to 40 (80 bytes): the 8 row addresses of each ldmatrix
//           phase fall in 8 different 16-byte bank groups (conflict-free); 45 KiB a block.
//   frags   A (W, row-major 16 x 16) by ldmatrix.x4 at row lane % 16, column (lane / 16) * 8;
//           B (x rows = the col-major k x n operand) by ldmatrix.x4 over two n8 tiles at row
//           (lane % 8) + (lane / 16) * 8, column ((lane / 8) % 2) * 8.
//   store   accumulators straight to y: each (row g, column 2t, 2t+1) pair of a fragment is two
//           floats of two y rows; 8 lanes cover 32 contiguous bytes of a y row.
// v2: BF16 W straight into shared memory (cp.async, like F16) and x rounded to bf16: the
//     .bf16 mma (one row of its own, rounding KILN_ROUND_X_BF16: W is exact, f16 would lose
//     its range).
// v3: every quantized type's chunks of 8 decoded whole (decode8: the block's or sub-block's
//     scale and min once per chunk, codes as contiguous bytes), as Q4_0/Q8_0 were in v1.
// What it does not do yet: wgmma
// (sm_90), a split-k for short-m shapes. gemm_tc (WMMA, matmul_cuda.cu) stays as the simpler
// tensor-core row of the oracle ladder, gemm (exact f32 SIMT) below it.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backends/cuda/cuda_ops.h"
#include "kernels/common/blocks_cuda.cuh"
#include "kernels/common/decode8_cuda.cuh"
#include "kernels/common/mma_cuda.cuh"

using namespace kiln_cuda;

namespace {

constexpr int MBM = 128, MBN = 64, MBK = 32, MSTAGES = 3, MLD = MBK + 8, MTHREADS = 128;

struct mma_smem {
    __half w[MSTAGES][MBM][MLD];
    __half x[MSTAGES][MBN][MLD];
};

// W's k slice [k0, k0 + 32), rows m0 .. m0 + 128, into ring stage `st`. Chunk c of a tile is
// row c / 4, halves (c % 4) * 8 .. + 8.
template <int T>
__device__ __forceinline__ void load_slice(mma_smem &sm, int st, const struct kiln_cuda_view &w, int64_t m0,
                                           int64_t k0, bool w_async) {
    const int64_t m = w.ne[1], k = w.ne[0];
    const int tid = threadIdx.x;
    constexpr int CHUNKS = MBM * MBK / 8 / MTHREADS;  // 4 chunks of W a thread
    if (T == T_F16 && w_async) {
#pragma unroll
        for (int i = 0; i < CHUNKS; i++) {
            const int c = tid + i * MTHREADS, rr = c >> 2, kc = (c & 3) * 8;
            const int64_t r = m0 + rr, kk = k0 + kc;
            const bool in = r < m && kk < k;  // k % 8 == 0 here: a chunk is all in or all out
            cp_async16(&sm.w[st][rr][kc], in ? w.data + r * w.nb[1] + kk * 2 : w.data, in ? 16 : 0);
        }
        return;
    }
    if (T == T_BF16 && w_async) {  // bf16 rows straight in, as f16's
#pragma unroll
        for (int i = 0; i < CHUNKS; i++) {
            const int c = tid + i * MTHREADS, rr = c >> 2, kc = (c & 3) * 8;
            const int64_t r = m0 + rr, kk = k0 + kc;
            const bool in = r < m && kk < k;
            cp_async16(&sm.w[st][rr][kc], in ? w.data + r * w.nb[1] + kk * 2 : w.data, in ? 16 : 0);
        }
        return;
    }
    // Decoded chunks one at a time (not unrolled): the 64 accumulators are live around this,
    // and four decodes in flight pushed the K-quant instances past the register file (spills).
#pragma unroll 1
    for (int i = 0; i < CHUNKS; i++) {
        const int c = tid + i * MTHREADS, rr = c >> 2, kc = (c & 3) * 8;
        const int64_t r = m0 + rr, kk = k0 + kc;
        const uint8_t *row = w.data + (r < m ? r : 0) * w.nb[1];
        __half *dst = &sm.w[st][rr][kc];
        if (has_decode8<T>() && r < m && kk + 8 <= k) {
            float v[8];
            decode8<T>(row, kk, v);
            uint4 q;
            q.x = pack_half2(v[0], v[1]);
            q.y = pack_half2(v[2], v[3]);
            q.z = pack_half2(v[4], v[5]);
            q.w = pack_half2(v[6], v[7]);
            *reinterpret_cast<uint4 *>(dst) = q;
        } else {
            // element by element straight into shared memory (no per-thread array: indexed by a
            // loop that is not unrolled, it would live in local memory)
#pragma unroll 1
            for (int e = 0; e < 8; e++) {
                const float v = (r < m && kk + e < k) ? decode<T>(row, kk + e) : 0.0f;
                if (T == T_BF16)  // exact: v came from a bf16
                    reinterpret_cast<uint16_t *>(dst)[e] = (uint16_t)(__float_as_uint(v) >> 16);
                else
                    dst[e] = __float2half_rn(v);
            }
        }
    }
}

// x's slice: rows n0 .. n0 + 64 of x (n of them exist), the same chunks (2 a thread).
template <bool BF>
__device__ __forceinline__ void load_x_slice(mma_smem &sm, int st, const uint8_t *xb, int64_t xs, int64_t n,
                                             int64_t k, int64_t n0, int64_t k0, bool x_vec) {
    const int tid = threadIdx.x;
#pragma unroll
    for (int i = 0; i < MBN * MBK / 8 / MTHREADS; i++) {
        const int c = tid + i * MTHREADS, jj = c >> 2, kc = (c & 3) * 8;
        const int64_t j = n0 + jj, kk = k0 + kc;
        float v[8];
        if (j < n && x_vec && kk + 8 <= k) {
            const float4 *p = reinterpret_cast<const float4 *>(xb + j * xs) + kk / 4;
            const float4 a = p[0], b = p[1];
            v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
            v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
        } else {
            const float *row = reinterpret_cast<const float *>(xb + (j < n ? j : 0) * xs);
#pragma unroll
            for (int e = 0; e < 8; e++) v[e] = (j < n && kk + e < k) ? row[kk + e] : 0.0f;
        }
        uint4 q;
        q.x = BF ? pack_bf162(v[0], v[1]) : pack_half2(v[0], v[1]);
        q.y = BF ? pack_bf162(v[2], v[3]) : pack_half2(v[2], v[3]);
        q.z = BF ? pack_bf162(v[4], v[5]) : pack_half2(v[4], v[5]);
        q.w = BF ? pack_bf162(v[6], v[7]) : pack_half2(v[6], v[7]);
        *reinterpret_cast<uint4 *>(&sm.x[st][jj][kc]) = q;
    }
}

template <int T>
__global__ void __launch_bounds__(MTHREADS, 1)
mma_gemm_kernel(struct kiln_cuda_view w, struct kiln_cuda_view x, struct kiln_cuda_view y, int w_async, int x_vec) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    __shared__ __align__(16) mma_smem sm;
    const int64_t m = w.ne[1], n = x.ne[1], k = w.ne[0];
    const int64_t m0 = (int64_t)blockIdx.x * MBM, n0 = (int64_t)blockIdx.y * MBN;
    const int64_t bz = blockIdx.z, i2 = bz % x.ne[2], i3 = bz / x.ne[2];
    const uint8_t *xb = x.data + i2 * x.nb[2] + i3 * x.nb[3];
    const int64_t xs = x.nb[1];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int wm = (warp & 1) * 64, wn = (warp >> 1) * 32;
    float acc[4][4][4];
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int b = 0; b < 4; b++)
#pragma unroll
            for (int c = 0; c < 4; c++) acc[a][b][c] = 0.0f;

    const int64_t slices = (k + MBK - 1) / MBK;
#pragma unroll
    for (int s = 0; s < MSTAGES - 1; s++) {
        if (s < slices) {
            load_slice<T>(sm, s, w, m0, s * MBK, w_async);
            load_x_slice<T == T_BF16>(sm, s, xb, xs, n, k, n0, s * MBK, x_vec);
        }
        cp_async_commit();  // one group per slice, empty ones too: wait_group counts them
    }
    for (int64_t t = 0; t < slices; t++) {
        cp_async_wait<MSTAGES - 2>();  // this thread's copies of slice t have landed
        __syncthreads();               // everyone's have; and slice t - 1 is no longer read
        const int64_t next = t + MSTAGES - 1;
        if (next < slices) {
            const int st = (int)(next % MSTAGES);
            load_slice<T>(sm, st, w, m0, next * MBK, w_async);
            load_x_slice<T == T_BF16>(sm, st, xb, xs, n, k, n0, next * MBK, x_vec);
        }
        cp_async_commit();
        const int st = (int)(t % MSTAGES);
#pragma unroll
        for (int kk = 0; kk < MBK; kk += 16) {
            uint32_t af[4][4], bf[2][4];
#pragma unroll
            for (int a = 0; a < 4; a++)
                ldmatrix_x4(af[a], &sm.w[st][wm + 16 * a + (lane & 15)][kk + (lane >> 4) * 8]);
#pragma unroll
            for (int b = 0; b < 2; b++)
                ldmatrix_x4(bf[b], &sm.x[st][wn + 16 * b + (lane & 7) + (lane >> 4) * 8][kk + ((lane >> 3) & 1) * 8]);
#pragma unroll
            for (int a = 0; a < 4; a++)
#pragma unroll
                for (int b = 0; b < 4; b++)
                    if (T == T_BF16)
                        mma_16816_bf16(acc[a][b], af[a], bf[b >> 1][(b & 1) * 2], bf[b >> 1][(b & 1) * 2 + 1]);
                    else
                        mma_16816(acc[a][b], af[a], bf[b >> 1][(b & 1) * 2], bf[b >> 1][(b & 1) * 2 + 1]);
        }
    }
    cp_async_wait<0>();
    // Accumulator c of tile (a, b): W row wm + 16a + g (+8 for c >= 2), x row wn + 8b + 2t (+1
    // for odd c), where g = lane / 4 and t = lane % 4.
    const int g = lane >> 2, t4 = lane & 3;
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int b = 0; b < 4; b++)
#pragma unroll
            for (int c = 0; c < 4; c++) {
                const int64_t r = m0 + wm + 16 * a + g + (c >= 2 ? 8 : 0);
                const int64_t j = n0 + wn + 8 * b + 2 * t4 + (c & 1);
                if (r < m && j < n)
                    reinterpret_cast<float *>(y.data + j * y.nb[1] + i2 * y.nb[2] + i3 * y.nb[3])[r] = acc[a][b][c];
            }
#else
    __trap();  // built for an architecture below sm_80: the launcher never gets here (cp.async, ldmatrix)
#endif
}

}  // namespace

// 1 when the device's compute capability runs this kernel (cuda_backend.c asks once).
extern "C" int kiln_cuda_mma_supported(int cc_major) { return cc_major >= 8; }

extern "C" int kiln_cuda_matmul_mma(const struct kiln_cuda_op *op, cudaStream_t s, const char **name) {
    const struct kiln_cuda_view &w = op->src[0], &x = op->src[1], &y = op->dst;
    const unsigned int batch = (unsigned int)(x.ne[2] * x.ne[3]);
    const int64_t k = w.ne[0];
    // cp.async for W: f16/bf16 rows whose every 8-element chunk is 16-byte aligned.
    const int w_async = (w.type == T_F16 || w.type == T_BF16) && k % 8 == 0 && w.nb[1] % 16 == 0 &&
                        reinterpret_cast<uintptr_t>(w.data) % 16 == 0;
    // float4 x loads: every row (and batch slice) starts 16-byte aligned.
    const int x_vec = ((reinterpret_cast<uintptr_t>(x.data) | (uintptr_t)x.nb[1] | (uintptr_t)x.nb[2] |
                        (uintptr_t)x.nb[3]) & 15) == 0;
    *name = "mma_gemm_kernel";
    const dim3 grid((unsigned int)((w.ne[1] + MBM - 1) / MBM), (unsigned int)((x.ne[1] + MBN - 1) / MBN), batch);
    bool known = true;
    switch (w.type) {
    case T_F32: known = false; break;  // f16 would lose its range/precision: the exact gemm row
    default:
        KILN_CUDA_TYPE_SWITCH(w.type, (mma_gemm_kernel<T><<<grid, MTHREADS, 0, s>>>(w, x, y, w_async, x_vec)),
                              known = false)
    }
    return known ? (int)cudaGetLastError() : (int)cudaErrorInvalidValue;
}
