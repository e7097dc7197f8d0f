// dequant, copy and get_rows (CUDA). Layouts: as kernels/dequant/dequant.h and ops.h; blocks
// from kernels/common/blocks_cuda.cuh.
//   dequant/copy to f32, f16, bf16: one thread per element, grid-stride over the 4-D view.
//   copy to q8_0 / q4_0: one thread per 32-element block, the reference quantizers' arithmetic
//     (quant/format/quant_ref_q32.c); the division may round differently at ties (bench/check/tolerance.c).
//   get_rows: one thread per element; an id outside the table writes zeros and sets bit 0 of
//     the stream's status word (the runtime reports KILN_E_INVALID at sync).
// v1: plain element-wise kernels, grid-stride over a flat index (div/mod per element).
// v2: 2-D/3-D grids (rows_grid): the row's elements on x, dim 1 on y, dims 2-3 on z. copy writes
//     the K/V cache every layer and token, get_rows the embeddings: small, but on the hot path.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backends/cuda/cuda_ops.h"
#include "kernels/common/blocks_cuda.cuh"

using namespace kiln_cuda;

// Grids (rows_grid): x over the elements (or blocks) of a row, y over dim 1, z over dims 2-3,
// each a stride loop beyond the grid's limits, so a thread divides once per row slice (to split
// z into i2, i3), never per element (v1 took div/mod of a flat int64 index per element).
template <int TS, int TD>
__global__ void convert_kernel(struct kiln_cuda_view src, struct kiln_cuda_view dst) {
    const int64_t ne0 = src.ne[0], ne1 = src.ne[1], ne2 = src.ne[2], n23 = src.ne[2] * src.ne[3];
    for (int64_t i23 = blockIdx.z; i23 < n23; i23 += gridDim.z) {
        const int64_t i2 = i23 % ne2, i3 = i23 / ne2;
        for (int64_t i1 = blockIdx.y; i1 < ne1; i1 += gridDim.y) {
            const uint8_t *sr = row_at(src.data, src.nb, i1, i2, i3);
            uint8_t *d = row_at(dst.data, dst.nb, i1, i2, i3);
            for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ne0; i += (int64_t)gridDim.x * blockDim.x) {
                const float v = decode<TS>(sr, i);
                if (TD == T_F32) reinterpret_cast<float *>(d)[i] = v;
                else if (TD == T_F16) reinterpret_cast<unsigned short *>(d)[i] = f32_to_f16_bits(v);
                else reinterpret_cast<unsigned short *>(d)[i] = f32_to_bf16_bits(v);
            }
        }
    }
}

template <int TS, int TD>
__global__ void quantize_kernel(struct kiln_cuda_view src, struct kiln_cuda_view dst) {
    const int64_t nb = src.ne[0] / 32, ne1 = src.ne[1], ne2 = src.ne[2], n23 = src.ne[2] * src.ne[3];
    for (int64_t i23 = blockIdx.z; i23 < n23; i23 += gridDim.z)
    for (int64_t i1 = blockIdx.y; i1 < ne1; i1 += gridDim.y)
    for (int64_t ib = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; ib < nb; ib += (int64_t)gridDim.x * blockDim.x) {
        const int64_t i2 = i23 % ne2, i3 = i23 / ne2;  // once per 32-element block, not per element
        const uint8_t *s = row_at(src.data, src.nb, i1, i2, i3);
        float x[32], amax = 0.0f, vmax = 0.0f;
        for (int j = 0; j < 32; j++) {
            x[j] = decode<TS>(s, ib * 32 + j);
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); vmax = x[j]; }
        }
        uint8_t *b = row_at(dst.data, dst.nb, i1, i2, i3) + ib * (TD == T_Q8_0 ? 34 : 18);
        const float d = TD == T_Q8_0 ? amax / 127.0f : vmax / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const unsigned short dh = f32_to_f16_bits(d);
        b[0] = (uint8_t)dh;
        b[1] = (uint8_t)(dh >> 8);
        if (TD == T_Q8_0) {
            for (int j = 0; j < 32; j++) b[2 + j] = (uint8_t)(int8_t)(int)roundf(__fmul_rn(x[j], id));
        } else {
            for (int j = 0; j < 16; j++) {
                const int q0 = min(15, (int)(int8_t)(int)__fadd_rn(__fmul_rn(x[j], id), 8.5f));
                const int q1 = min(15, (int)(int8_t)(int)__fadd_rn(__fmul_rn(x[j + 16], id), 8.5f));
                b[2 + j] = (uint8_t)(q0 | (q1 << 4));
            }
        }
    }
}

template <int T>
__global__ void get_rows_kernel(struct kiln_cuda_view table, struct kiln_cuda_view ids,
                                struct kiln_cuda_view dst, unsigned int *status) {
    const int64_t k = table.ne[0], n = ids.ne[0];
    for (int64_t i = blockIdx.y; i < n; i += gridDim.y)
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < k; e += (int64_t)gridDim.x * blockDim.x) {
        const int32_t id = reinterpret_cast<const int32_t *>(ids.data)[i];
        float *out = reinterpret_cast<float *>(dst.data + i * dst.nb[1]);
        if (id < 0 || id >= table.ne[1]) {
            out[e] = 0.0f;
            if (e == 0) atomicOr(status, 1u);
            continue;
        }
        out[e] = decode<T>(table.data + id * table.nb[1], e);
    }
}

static unsigned int capped(int64_t n, int64_t cap) { return (unsigned int)(n < 1 ? 1 : n < cap ? n : cap); }

// x: `per_row` items of a row in blocks of 256 threads; y: dim 1; z: dims 2-3 (stride loops beyond).
static dim3 rows_grid(int64_t per_row, const struct kiln_cuda_view &v) {
    return dim3(capped((per_row + 255) / 256, 65535), capped(v.ne[1], 65535), capped(v.ne[2] * v.ne[3], 65535));
}

extern "C" int kiln_cuda_convert(const struct kiln_cuda_op *op, cudaStream_t s, const char **name) {
    const struct kiln_cuda_view &x = op->src[0], &d = op->dst;
    const bool quant = d.type == T_Q8_0 || d.type == T_Q4_0;
    *name = quant ? "quantize_kernel" : "convert_kernel";
    const dim3 grid = rows_grid(quant ? x.ne[0] / 32 : x.ne[0], x);
    bool known = true;
#define CONVERT_TO(TD) KILN_CUDA_TYPE_SWITCH(x.type, (convert_kernel<T, TD><<<grid, 256, 0, s>>>(x, d)), known = false)
#define QUANTIZE_TO(TD) KILN_CUDA_TYPE_SWITCH(x.type, (quantize_kernel<T, TD><<<grid, 256, 0, s>>>(x, d)), known = false)
    switch (d.type) {
    case T_F32: CONVERT_TO(T_F32); break;
    case T_F16: CONVERT_TO(T_F16); break;
    case T_BF16: CONVERT_TO(T_BF16); break;
    case T_Q8_0: QUANTIZE_TO(T_Q8_0); break;
    case T_Q4_0: QUANTIZE_TO(T_Q4_0); break;
    default: known = false;
    }
#undef CONVERT_TO
#undef QUANTIZE_TO
    return known ? (int)cudaGetLastError() : (int)cudaErrorInvalidValue;
}

extern "C" int kiln_cuda_get_rows(const struct kiln_cuda_op *op, cudaStream_t s, const char **name) {
    const struct kiln_cuda_view &t = op->src[0];
    *name = "get_rows_kernel";
    const dim3 grid(capped((t.ne[0] + 255) / 256, 65535), capped(op->src[1].ne[0], 65535));
    bool known = true;
    KILN_CUDA_TYPE_SWITCH(t.type, (get_rows_kernel<T><<<grid, 256, 0, s>>>(t, op->src[1], op->dst, op->status)),
                          known = false)
    return known ? (int)cudaGetLastError() : (int)cudaErrorInvalidValue;
}
