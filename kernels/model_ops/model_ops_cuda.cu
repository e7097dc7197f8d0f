// rmsnorm, rope, swiglu and add (CUDA). Layouts: kernels/model_ops/model_ops.h.
//   rmsnorm: one 256-thread block per row, warp-shuffle reduction of the sum of squares.
//   rope:    one thread per rotated pair; the angle pos * base^(-2i/n) / factor_i (Llama 3's
//            frequency factors, by value in the launch; 1 without) and its sin/cos in double,
//            as the reference (positions reach 32768+, where an f32 angle is off by ~1e-3 rad).
//   swiglu, add: one thread per element, grid-stride, strided 4-D views.
// v1.
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

__global__ void rope_kernel(struct kiln_cuda_view x, struct kiln_cuda_view pos, struct kiln_cuda_view y,
                            int n_dims, int neox, float theta_base, struct kiln_cuda_rope_factors ff) {
    const int64_t half = x.ne[0] / 2, total = half * x.ne[1] * x.ne[2];
    for (int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = idx % half, h = (idx / half) % x.ne[1], t = idx / (half * x.ne[1]);
        const float *xr = reinterpret_cast<const float *>(x.data + h * x.nb[1] + t * x.nb[2]);
        float *yr = reinterpret_cast<float *>(y.data + h * y.nb[1] + t * y.nb[2]);
        if (2 * p >= n_dims) {  // past the rotated dims: copied
            yr[2 * p] = xr[2 * p];
            yr[2 * p + 1] = xr[2 * p + 1];
            continue;
        }
        const int64_t a = neox ? p : 2 * p, b = neox ? p + n_dims / 2 : 2 * p + 1;
        const int32_t ps = reinterpret_cast<const int32_t *>(pos.data)[t];
        const double theta = ps * pow((double)theta_base, -2.0 * (double)p / n_dims) / (double)ff.f[p];
        double s, c;
        sincos(theta, &s, &c);
        const double x0 = xr[a], x1 = xr[b];
        yr[a] = (float)(x0 * c - x1 * s);
        yr[b] = (float)(x0 * s + x1 * c);
    }
}

template <int OP>  // 0 add, 1 swiglu
__global__ void binary_kernel(struct kiln_cuda_view a, struct kiln_cuda_view b, struct kiln_cuda_view y) {
    const int64_t ne0 = y.ne[0], ne1 = y.ne[1], ne2 = y.ne[2], total = ne0 * ne1 * ne2 * y.ne[3];
    for (int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int64_t i = idx % ne0, r = idx / ne0;
        const int64_t i1 = r % ne1, i2 = (r / ne1) % ne2, i3 = r / (ne1 * ne2);
        const float va = reinterpret_cast<const float *>(row_at(a.data, a.nb, i1, i2, i3))[i];
        const float vb = reinterpret_cast<const float *>(row_at(b.data, b.nb, i1, i2, i3))[i];
        reinterpret_cast<float *>(row_at(y.data, y.nb, i1, i2, i3))[i] =
            OP == 0 ? va + vb : va / (1.0f + expf(-va)) * vb;
    }
}

static unsigned int grid_for(int64_t items) {
    const int64_t g = (items + 255) / 256;
    return (unsigned int)(g < 65535 * 8 ? (g > 0 ? g : 1) : 65535 * 8);
}

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
    case KILN_CUDA_OP_ROPE:
        *name = "rope_kernel";
        rope_kernel<<<grid_for(x.ne[0] / 2 * x.ne[1] * x.ne[2]), 256, 0, s>>>(x, op->src[1], op->dst, op->rope_dims,
                                                                              op->rope_mode == 2, op->theta_base, op->rope_ff);
        break;
    case KILN_CUDA_OP_SWIGLU:
        *name = "binary_kernel<swiglu>";
        binary_kernel<1><<<grid_for(x.ne[0] * x.ne[1] * x.ne[2] * x.ne[3]), 256, 0, s>>>(x, op->src[1], op->dst);
        break;
    case KILN_CUDA_OP_ADD:
        *name = "binary_kernel<add>";
        binary_kernel<0><<<grid_for(x.ne[0] * x.ne[1] * x.ne[2] * x.ne[3]), 256, 0, s>>>(x, op->src[1], op->dst);
        break;
    default:
        *name = "model_op";
        return (int)cudaErrorInvalidValue;
    }
    return (int)cudaGetLastError();
}
