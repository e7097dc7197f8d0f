// rmsnorm, rope, swiglu and add (CUDA). Layouts: kernels/model_ops/model_ops.h.
//   rmsnorm: one 256-thread block per row, warp-shuffle reduction of the sum of squares.
//   rope:    one thread per pair (heads and tokens on the grid's y and z); the angle
//            pos * base^(-2i/n) / factor_i (Llama 3's frequency factors, by value in the launch;
//            1 without) and its sin/cos in double, as the reference (positions reach 32768+,
//            where an f32 angle is off by ~1e-3 rad).
//   swiglu, add: one thread per element of a row, rows on the grid's y and z, strided 4-D views.
// v1. v2: 2-D/3-D grids instead of an int64 div/mod per element; rope writes the last element
//     of an odd head dim (v1 left it unwritten; the CPU copies it).
#include <cuda_runtime.h>

#include "backends/cuda/cuda_ops.h"
#include "kernels/common/blocks_cuda.cuh"

using namespace kiln_cuda;

__global__ void rmsnorm_kernel(struct kiln_cuda_view x, struct kiln_cuda_view w, int has_w,
                               struct kiln_cuda_view y, float eps) {
    const int64_t r = blockIdx.x + (int64_t)blockIdx.y * gridDim.x;
    if (r >= x.ne[1] * x.ne[2] * x.ne[3]) return;
    const int64_t i1 = r % x.ne[1], i2 = (r / x.ne[1]) % x.ne[2], i3 = r / (x.ne[1] * x.ne[2]);
    const float *xr = reinterpret_cast<const float *>(row_at(x.data, x.nb, i1, i2, i3));
    float *yr = reinterpret_cast<float *>(row_at(y.data, y.nb, i1, i2, i3));
    const float *wr = reinterpret_cast<const float *>(w.data);
    float ss = 0.0f;
    for (int64_t i = threadIdx.x; i < x.ne[0]; i += blockDim.x) ss += xr[i] * xr[i];
    __shared__ float part[32];
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = ss;
    __syncthreads();
    float total = 0.0f;
    for (int i = 0; i < (int)(blockDim.x >> 5); i++) total += part[i];
    const float scale = 1.0f / sqrtf(total / (float)x.ne[0] + eps);
    for (int64_t i = threadIdx.x; i < x.ne[0]; i += blockDim.x)
        yr[i] = has_w ? xr[i] * scale * wr[i] : xr[i] * scale;
}

// Grid: x over the pairs of a row ((ne0 + 1) / 2: an odd head dim's last element is a pair of
// its own, copied), y over heads, z over tokens, each y/z loop striding by the grid for counts
// past 65535: no division per element.
__global__ void rope_kernel(struct kiln_cuda_view x, struct kiln_cuda_view pos, struct kiln_cuda_view y,
                            int n_dims, int neox, float theta_base, struct kiln_cuda_rope_factors ff) {
    const int64_t p = blockIdx.x * (int64_t)blockDim.x + threadIdx.x, ne0 = x.ne[0];
    if (2 * p >= ne0) return;
    const bool rotated = 2 * p < n_dims;  // n_dims is even and <= ne0: the pair is whole
    double freq = 0.0, factor = 1.0;
    int64_t a = 2 * p, b = 2 * p + 1;
    if (rotated) {
        freq = pow((double)theta_base, -2.0 * (double)p / n_dims);
        factor = (double)ff.f[p];
        a = neox ? p : 2 * p;
        b = neox ? p + n_dims / 2 : 2 * p + 1;
    }
    for (int64_t t = blockIdx.z; t < x.ne[2]; t += gridDim.z) {
        const int32_t ps = reinterpret_cast<const int32_t *>(pos.data)[t];
        for (int64_t h = blockIdx.y; h < x.ne[1]; h += gridDim.y) {
            const float *xr = reinterpret_cast<const float *>(x.data + h * x.nb[1] + t * x.nb[2]);
            float *yr = reinterpret_cast<float *>(y.data + h * y.nb[1] + t * y.nb[2]);
            if (!rotated) {  // past the rotated dims: copied (the last alone when ne0 is odd)
                yr[2 * p] = xr[2 * p];
                if (2 * p + 1 < ne0) yr[2 * p + 1] = xr[2 * p + 1];
                continue;
            }
            // pos * base^(-2p/n) / factor: the reference's order (model_ops_ref.c)
            const double theta = ps * freq / factor;
            double sn, cs;
            sincos(theta, &sn, &cs);
            const double x0 = xr[a], x1 = xr[b];
            yr[a] = (float)(x0 * cs - x1 * sn);
            yr[b] = (float)(x0 * sn + x1 * cs);
        }
    }
}

// Grid: x over ne0, y over ne1, z over ne2 (striding past 65535), ne3 looped: no division per
// element (v1 took every element's four indices apart with int64 div/mod).
template <int OP>  // 0 add, 1 swiglu
__global__ void binary_kernel(struct kiln_cuda_view a, struct kiln_cuda_view b, struct kiln_cuda_view y) {
    const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i >= y.ne[0]) return;
    for (int64_t i3 = 0; i3 < y.ne[3]; i3++)
        for (int64_t i2 = blockIdx.z; i2 < y.ne[2]; i2 += gridDim.z)
            for (int64_t i1 = blockIdx.y; i1 < y.ne[1]; i1 += gridDim.y) {
                const float va = reinterpret_cast<const float *>(row_at(a.data, a.nb, i1, i2, i3))[i];
                const float vb = reinterpret_cast<const float *>(row_at(b.data, b.nb, i1, i2, i3))[i];
                reinterpret_cast<float *>(row_at(y.data, y.nb, i1, i2, i3))[i] =
                    OP == 0 ? va + vb : va / (1.0f + expf(-va)) * vb;
            }
}

static unsigned int capped(int64_t n) { return (unsigned int)(n < 1 ? 1 : n < 65535 ? n : 65535); }

extern "C" int kiln_cuda_model_op(const struct kiln_cuda_op *op, cudaStream_t s, const char **name) {
    const struct kiln_cuda_view &x = op->src[0];
    switch (op->kind) {
    case KILN_CUDA_OP_RMSNORM: {
        *name = "rmsnorm_kernel";
        const int64_t rows = x.ne[1] * x.ne[2] * x.ne[3];
        const dim3 grid((unsigned int)(rows < 65535 ? rows : 65535), (unsigned int)((rows + 65534) / 65535));
        rmsnorm_kernel<<<grid, 256, 0, s>>>(x, op->src[1], op->n_src == 2, op->dst, op->eps);
        break;
    }
    case KILN_CUDA_OP_ROPE: {
        *name = "rope_kernel";
        const int64_t pairs = (x.ne[0] + 1) / 2;
        const dim3 grid((unsigned int)((pairs + 63) / 64), capped(x.ne[1]), capped(x.ne[2]));
        rope_kernel<<<grid, 64, 0, s>>>(x, op->src[1], op->dst, op->rope_dims, op->rope_mode == 2, op->theta_base,
                                        op->rope_ff);
        break;
    }
    case KILN_CUDA_OP_SWIGLU:
    case KILN_CUDA_OP_ADD: {
        const struct kiln_cuda_view &y = op->dst;
        const dim3 grid((unsigned int)((y.ne[0] + 255) / 256), capped(y.ne[1]), capped(y.ne[2]));
        if (op->kind == KILN_CUDA_OP_SWIGLU) {
            *name = "binary_kernel<swiglu>";
            binary_kernel<1><<<grid, 256, 0, s>>>(x, op->src[1], y);
        } else {
            *name = "binary_kernel<add>";
            binary_kernel<0><<<grid, 256, 0, s>>>(x, op->src[1], y);
        }
        break;
    }
    default:
        *name = "model_op";
        return (int)cudaErrorInvalidValue;
    }
    return (int)cudaGetLastError();
}
