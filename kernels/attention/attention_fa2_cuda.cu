// attention on tensor cores, flash-attention-2 style (CUDA, sm_80+): the op of attention_cuda.cu
// (q [D, n_q, H] f32, k/v [D, n_kv, H_kv] f16, out [D, n_q, H] f32, causal GQA, any strides) for
// prefill: n_q > 1 and D a multiple of 16 up to 128 (64, 80, 96, 112, 128 are instantiated).
//
// Design (v1):
//   rows    a block's 64 rows are (query, head) pairs of ONE kv head: row r is query
//           i0 + r / G of head hk * G + r % G (G = H / H_kv), so each K/V tile read from memory
//           serves the whole GQA group (G x fewer K/V bytes than a block per query head).
//           4 warps, 16 rows each (one mma M tile).
//   q       each warp's 16 x D slice of Q as mma A fragments in registers for the whole run,
//           read once from f32 and rounded to f16 (KILN_ROUND_Q_F16: the row's rounding); the
//           scale is applied to the f32 scores, so the rounding is of q itself.
//   tiles   keys in tiles of 64: K and V tiles copied global -> shared by cp.async (16-byte
//           chunks, zero-filled past n_kv; halves copied one by one where rows are not 16-byte
//           aligned) as two commit groups, so V is still in flight while S = Q K^T is computed.
//           Rows padded to D + 8 halves: the 8 row addresses of an ldmatrix phase fall in 8
//           different 16-byte bank groups for every D above.
//   scores  S (16 x 64 a warp) by mma.sync m16n8k16 over D / 16 k-steps, K fragments by
//           ldmatrix.x4 (K rows are B's "col" layout as they are); masked (key >= n_kv, or past
//           the query's position when causal) to -inf; online softmax in registers: each
//           thread's rows g and g + 8 reduce their max over the quad (shfl xor 1, 2), rescale the
//           running output and keep partial row sums, summed across the quad only at the end.
//   P.V     P stays in registers: the S accumulators of two n8 tiles are exactly an A fragment
//           of k16 (FA2's register reuse). P is split into two f16 terms, p = hi + lo (hi its
//           f16 rounding, lo the f16 rounding of the rest), and both are multiplied by V
//           (fragments by ldmatrix.x4.trans): the probabilities then carry ~22 bits, so the
//           row's only rounding is of q (and K/V are f16 already), which kiln ops checks
//           tightly. One f16 P (ggml's choice) would save a third of the mma work but adds an
//           error (u16 per probability) the checker has no bound for yet: the next version.
//   causal  key tiles past the block's last visible key are not visited.
// Not yet: K/V double buffering across tiles, wgmma (sm_90), split-K for short prompts over
// long caches, f32 K/V (they take attention_cuda.cu's exact kernel).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backends/cuda/cuda_ops.h"
#include "kernels/common/blocks_cuda.cuh"
#include "kernels/common/mma_cuda.cuh"

using namespace kiln_cuda;

namespace {

constexpr int FA_ROWS = 64, FA_KEYS = 64, FA_THREADS = 128;

// A K or V tile (keys j0 .. j0 + 63 of kv head hk) into shared rows of LD halves.
template <int D, int LD>
__device__ __forceinline__ void load_kv_tile(__half (*dst)[LD], const struct kiln_cuda_view &t, int hk, int j0,
                                             int n_kv, bool async) {
    constexpr int CHUNKS = FA_KEYS * D / 8;  // 16-byte chunks of the tile
    const uint8_t *base = t.data + (int64_t)hk * t.nb[2];
#pragma unroll
    for (int i = 0; i < (CHUNKS + FA_THREADS - 1) / FA_THREADS; i++) {
        const int c = threadIdx.x + i * FA_THREADS;
        if (c < CHUNKS) {
            const int jj = c / (D / 8), dd = (c % (D / 8)) * 8, j = j0 + jj;
            const uint8_t *src = base + (int64_t)(j < n_kv ? j : 0) * t.nb[1] + dd * 2;
            if (async) {
                cp_async16(&dst[jj][dd], src, j < n_kv ? 16 : 0);
            } else {
                const __half *h = reinterpret_cast<const __half *>(src);
#pragma unroll
                for (int e = 0; e < 8; e++) dst[jj][dd + e] = j < n_kv ? h[e] : __float2half_rn(0.0f);
            }
        }
    }
}

template <int D>
__global__ void __launch_bounds__(FA_THREADS, 1)
fa2_kernel(struct kiln_cuda_view q, struct kiln_cuda_view k, struct kiln_cuda_view v, struct kiln_cuda_view o,
           float scale, int pos0, int causal, int kv_async) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    constexpr int LD = D + 8, KSTEPS = D / 16, DT = D / 8, ST = FA_KEYS / 8;
    __shared__ __align__(16) __half ks[FA_KEYS][LD];
    __shared__ __align__(16) __half vs[FA_KEYS][LD];
    const int n_q = (int)q.ne[1], H = (int)q.ne[2], n_kv = (int)k.ne[1], H_kv = (int)k.ne[2];
    const int G = H / H_kv, hk = (int)blockIdx.y, rows = n_q * G;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const int r0 = (int)blockIdx.x * FA_ROWS;

    // This thread's two rows (fragment rows g and g + 8 of its warp's 16).
    int qi[2], qh[2], lim[2];
    bool valid[2];
#pragma unroll
    for (int s = 0; s < 2; s++) {
        const int r = r0 + warp * 16 + g + 8 * s;
        valid[s] = r < rows;
        qi[s] = valid[s] ? r / G : 0;
        qh[s] = hk * G + (valid[s] ? r % G : 0);
        lim[s] = !valid[s] ? 0 : causal ? min(n_kv, pos0 + qi[s] + 1) : n_kv;  // keys j < lim are visible
    }
    uint32_t qf[KSTEPS][4];
#pragma unroll
    for (int c = 0; c < KSTEPS; c++) {
#pragma unroll
        for (int s = 0; s < 2; s++) {
            const float *qr = reinterpret_cast<const float *>(q.data + (int64_t)qi[s] * q.nb[1] + (int64_t)qh[s] * q.nb[2]);
            const int d = 16 * c + 2 * t;
            qf[c][s] = valid[s] ? pack_half2(qr[d], qr[d + 1]) : 0u;
            qf[c][2 + s] = valid[s] ? pack_half2(qr[d + 8], qr[d + 9]) : 0u;
        }
    }
    // The keys any row of the block sees: up to the last row's limit.
    const int last = min(r0 + FA_ROWS, rows) - 1;
    const int n_blk = causal ? min(n_kv, pos0 + last / G + 1) : n_kv;

    float acc[DT][4];
#pragma unroll
    for (int a = 0; a < DT; a++)
#pragma unroll
        for (int e = 0; e < 4; e++) acc[a][e] = 0.0f;
    float m[2] = { -INFINITY, -INFINITY }, l[2] = { 0.0f, 0.0f };

    for (int j0 = 0; j0 < n_blk; j0 += FA_KEYS) {
        __syncthreads();  // the previous tile is no longer read
        load_kv_tile<D, LD>(ks, k, hk, j0, n_kv, kv_async);
        cp_async_commit();
        load_kv_tile<D, LD>(vs, v, hk, j0, n_kv, kv_async);
        cp_async_commit();
        cp_async_wait<1>();  // this thread's K chunks have landed (V may still be in flight)
        __syncthreads();

        float sc[ST][4];
#pragma unroll
        for (int b = 0; b < ST; b++)
#pragma unroll
            for (int e = 0; e < 4; e++) sc[b][e] = 0.0f;
#pragma unroll
        for (int c = 0; c < KSTEPS; c++)
#pragma unroll
            for (int b = 0; b < ST / 2; b++) {
                uint32_t kf[4];
                ldmatrix_x4(kf, &ks[16 * b + (lane & 7) + (lane >> 4) * 8][16 * c + ((lane >> 3) & 1) * 8]);
                mma_16816(sc[2 * b], qf[c], kf[0], kf[1]);
                mma_16816(sc[2 * b + 1], qf[c], kf[2], kf[3]);
            }

        // Scale, mask, and the online softmax of rows g (s = 0) and g + 8 (s = 1).
        float corr[2];
#pragma unroll
        for (int s = 0; s < 2; s++) {
            float mx = -INFINITY;
#pragma unroll
            for (int b = 0; b < ST; b++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    const int j = j0 + 8 * b + 2 * t + e;
                    float &x = sc[b][2 * s + e];
                    x = j < lim[s] ? x * scale : -INFINITY;
                    mx = fmaxf(mx, x);
                }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            const float mn = fmaxf(m[s], mx);
            // Nothing visible yet (mn = -inf): no rescale, and the probabilities are all 0.
            corr[s] = mn == -INFINITY ? 1.0f : expf(m[s] - mn);
            float sum = 0.0f;
#pragma unroll
            for (int b = 0; b < ST; b++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    float &x = sc[b][2 * s + e];
                    x = x == -INFINITY ? 0.0f : expf(x - mn);
                    sum += x;
                }
            l[s] = l[s] * corr[s] + sum;
            m[s] = mn;
        }
#pragma unroll
        for (int a = 0; a < DT; a++) {
            acc[a][0] *= corr[0];
            acc[a][1] *= corr[0];
            acc[a][2] *= corr[1];
            acc[a][3] *= corr[1];
        }

        cp_async_wait<0>();  // V
        __syncthreads();
#pragma unroll
        for (int kc = 0; kc < FA_KEYS / 16; kc++) {
            uint32_t hi[4], lo[4];
#pragma unroll
            for (int r = 0; r < 4; r++) {  // A regs: (g, 2t..), (g+8, 2t..), (g, 2t+8..), (g+8, 2t+8..)
                const float *p = sc[2 * kc + (r >> 1)] + 2 * (r & 1);
                const __half2 h = __floats2half2_rn(p[0], p[1]);
                const float2 hf = __half22float2(h);
                hi[r] = *reinterpret_cast<const uint32_t *>(&h);
                lo[r] = pack_half2(p[0] - hf.x, p[1] - hf.y);
            }
#pragma unroll
            for (int nd = 0; nd < D / 16; nd++) {
                uint32_t vf[4];
                ldmatrix_x4_trans(vf, &vs[16 * kc + (lane & 7) + ((lane >> 3) & 1) * 8][16 * nd + (lane >> 4) * 8]);
                mma_16816(acc[2 * nd], hi, vf[0], vf[1]);
                mma_16816(acc[2 * nd + 1], hi, vf[2], vf[3]);
                mma_16816(acc[2 * nd], lo, vf[0], vf[1]);
                mma_16816(acc[2 * nd + 1], lo, vf[2], vf[3]);
            }
        }
    }

#pragma unroll
    for (int s = 0; s < 2; s++) {
        l[s] += __shfl_xor_sync(0xffffffffu, l[s], 1);
        l[s] += __shfl_xor_sync(0xffffffffu, l[s], 2);
    }
#pragma unroll
    for (int s = 0; s < 2; s++) {
        if (!valid[s]) continue;
        // A row with no visible key cannot occur (pos0 >= 0 makes key 0 visible): l > 0.
        float *orow = reinterpret_cast<float *>(o.data + (int64_t)qi[s] * o.nb[1] + (int64_t)qh[s] * o.nb[2]);
        const float inv = 1.0f / l[s];
#pragma unroll
        for (int a = 0; a < DT; a++) {
            orow[8 * a + 2 * t] = acc[a][2 * s] * inv;
            orow[8 * a + 2 * t + 1] = acc[a][2 * s + 1] * inv;
        }
    }
#else
    __trap();  // below sm_80 (cp.async, ldmatrix): the launcher never gets here
#endif
}

}  // namespace

extern "C" int kiln_cuda_attention_fa2(const struct kiln_cuda_op *op, cudaStream_t s, const char **name) {
    const struct kiln_cuda_view &q = op->src[0], &k = op->src[1], &v = op->src[2];
    const int D = (int)q.ne[0], n_q = (int)q.ne[1], H = (int)q.ne[2], H_kv = (int)k.ne[2];
    *name = "fa2_kernel";
    if (k.type != T_F16 || v.type != T_F16 || H % H_kv) return (int)cudaErrorInvalidValue;
    // cp.async for K/V: every 16-byte chunk of every row aligned.
    const uintptr_t bits = reinterpret_cast<uintptr_t>(k.data) | reinterpret_cast<uintptr_t>(v.data) |
                           (uintptr_t)k.nb[1] | (uintptr_t)v.nb[1] | (uintptr_t)k.nb[2] | (uintptr_t)v.nb[2];
    const int kv_async = (bits & 15) == 0;
    const dim3 grid((unsigned int)((n_q * (H / H_kv) + FA_ROWS - 1) / FA_ROWS), (unsigned int)H_kv);
    switch (D) {
    case 64: fa2_kernel<64><<<grid, FA_THREADS, 0, s>>>(q, k, v, op->dst, op->scale, op->pos0, op->causal, kv_async); break;
    case 80: fa2_kernel<80><<<grid, FA_THREADS, 0, s>>>(q, k, v, op->dst, op->scale, op->pos0, op->causal, kv_async); break;
    case 96: fa2_kernel<96><<<grid, FA_THREADS, 0, s>>>(q, k, v, op->dst, op->scale, op->pos0, op->causal, kv_async); break;
    case 112: fa2_kernel<112><<<grid, FA_THREADS, 0, s>>>(q, k, v, op->dst, op->scale, op->pos0, op->causal, kv_async); break;
    case 128: fa2_kernel<128><<<grid, FA_THREADS, 0, s>>>(q, k, v, op->dst, op->scale, op->pos0, op->causal, kv_async); break;
    default: return (int)cudaErrorInvalidValue;
    }
    return (int)cudaGetLastError();
}
