// Roofline probes (CUDA): read (16-byte loads, grid-stride, XOR checksum written only if it
// takes a value it never takes, so the loads stay) and FMA (8 independent float4 chains per
// thread: 64 FLOP per iteration) and tensor (mma.sync chains, below). The copy probe is
// cudaMemcpyAsync device to device.
// Also the dispatcher from kiln_cuda_op to each op's launcher, and the image check.
#include <cuda_runtime.h>

#include "backends/cuda/cuda_ops.h"
#include "kernels/common/mma_cuda.cuh"

__global__ void probe_read_kernel(const uint4 *a, size_t n, float *out) {
    uint4 s = make_uint4(0, 0, 0, 0);
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const uint4 v = a[i];
        s.x ^= v.x; s.y ^= v.y; s.z ^= v.z; s.w ^= v.w;
    }
    if (s.x == 0xdeadbeefu && s.y == 0x01234567u) out[blockIdx.x & 15] = (float)s.z;
}

__global__ void probe_fma_kernel(float *out, unsigned int iters) {
    float4 a[8];
    for (int c = 0; c < 8; c++) {
        const float v = 1.0f + (float)(threadIdx.x + c) * 1e-7f;
        a[c] = make_float4(v, v, v, v);
    }
    const float mul = 0.999999f, add = 1e-7f;
    for (unsigned int it = 0; it < iters; it++) {
#pragma unroll
        for (int c = 0; c < 8; c++) {
            a[c].x = fmaf(a[c].x, mul, add); a[c].y = fmaf(a[c].y, mul, add);
            a[c].z = fmaf(a[c].z, mul, add); a[c].w = fmaf(a[c].w, mul, add);
        }
    }
    float t = 0.0f;
    for (int c = 0; c < 8; c++) t += a[c].x + a[c].y + a[c].z + a[c].w;
    if (t == -1.0f) out[blockIdx.x & 15] = t;
}

// Tensor cores: 8 independent mma.sync.m16n8k16 (f16 in, f32 accumulators) chains a warp, the
// operands fixed in registers. This is the peak of mma.sync, what kiln's sm_80+ kernels issue;
// on sm_90 wgmma can go further (the datasheet's dense f16 figure), so a fraction of this peak
// is of what mma.sync reaches, and results/ says which.
__global__ void probe_mma_kernel(float *out, unsigned int iters) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    const float v = 1e-3f * (1.0f + (float)(threadIdx.x & 31) * 1e-2f);
    const uint32_t h = kiln_cuda::pack_half2(v, v);
    const uint32_t a[4] = { h, h, h, h };
    float c[8][4];
#pragma unroll
    for (int k = 0; k < 8; k++) c[k][0] = c[k][1] = c[k][2] = c[k][3] = 0.0f;
    for (unsigned int it = 0; it < iters; it++) {
#pragma unroll
        for (int k = 0; k < 8; k++) kiln_cuda::mma_16816(c[k], a, h, h);
    }
    float t = 0.0f;
#pragma unroll
    for (int k = 0; k < 8; k++) t += c[k][0] + c[k][1] + c[k][2] + c[k][3];
    if (t == -1.0f) out[blockIdx.x & 15] = t;
#else
    if (iters == 0xffffffffu) out[0] = 0.0f;  // below sm_80: never launched (cuda_probe checks)
#endif
}

extern "C" int kiln_cuda_probe_mma(void *b, unsigned int iters, unsigned int blocks, void *stream) {
    probe_mma_kernel<<<blocks, KILN_CUDA_FMA_THREADS, 0, (cudaStream_t)stream>>>((float *)b, iters);
    return (int)cudaGetLastError();
}

extern "C" int kiln_cuda_probe_read(const void *a, void *b, size_t bytes, void *stream) {
    int dev = 0, sms = 1;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    probe_read_kernel<<<sms * 8, 512, 0, (cudaStream_t)stream>>>((const uint4 *)a, bytes / 16, (float *)b);
    return (int)cudaGetLastError();
}

extern "C" int kiln_cuda_probe_fma(void *b, unsigned int iters, unsigned int blocks, void *stream) {
    probe_fma_kernel<<<blocks, KILN_CUDA_FMA_THREADS, 0, (cudaStream_t)stream>>>((float *)b, iters);
    return (int)cudaGetLastError();
}

extern "C" int kiln_cuda_check_image(void) {
    cudaFuncAttributes attr;
    return (int)cudaFuncGetAttributes(&attr, probe_fma_kernel);
}

// The op launchers, one per kernel file.
extern "C" int kiln_cuda_matmul(const struct kiln_cuda_op *op, cudaStream_t s, const char **name);
extern "C" int kiln_cuda_attention(const struct kiln_cuda_op *op, cudaStream_t s, const char **name);
extern "C" int kiln_cuda_convert(const struct kiln_cuda_op *op, cudaStream_t s, const char **name);
extern "C" int kiln_cuda_get_rows(const struct kiln_cuda_op *op, cudaStream_t s, const char **name);
extern "C" int kiln_cuda_model_op(const struct kiln_cuda_op *op, cudaStream_t s, const char **name);

extern "C" int kiln_cuda_launch(const struct kiln_cuda_op *op, void *stream, const char **kernel) {
    cudaStream_t s = (cudaStream_t)stream;
    switch (op->kind) {
    case KILN_CUDA_OP_MATMUL: return kiln_cuda_matmul(op, s, kernel);
    case KILN_CUDA_OP_ATTENTION: return kiln_cuda_attention(op, s, kernel);
    case KILN_CUDA_OP_DEQUANT:
    case KILN_CUDA_OP_COPY: return kiln_cuda_convert(op, s, kernel);
    case KILN_CUDA_OP_GET_ROWS: return kiln_cuda_get_rows(op, s, kernel);
    default: return kiln_cuda_model_op(op, s, kernel);
    }
}
