// The one header the CUDA kernels (kernels/<op>/*_cuda.cu, compiled as CUDA C++) share with
// the rest of kiln: plain C structs and functions only, no kiln internals and no CUDA types,
// so the runtime glue (backends/cuda/cuda_backend.c) stays C and the kernels see nothing of
// the dispatch layer.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// A tensor as a kernel sees it: device address of element 0, kiln_type id, GGUF-order shape,
// byte strides.
struct kiln_cuda_view {
    uint8_t *data;
    int type;
    int64_t ne[4];
    int64_t nb[4];
};

// enum kiln_op_kind's values (backends/ops.h; cuda_backend.c checks they agree).
enum kiln_cuda_op_kind {
    KILN_CUDA_OP_MATMUL, KILN_CUDA_OP_ATTENTION, KILN_CUDA_OP_DEQUANT, KILN_CUDA_OP_RMSNORM,
    KILN_CUDA_OP_ROPE, KILN_CUDA_OP_SWIGLU, KILN_CUDA_OP_ADD, KILN_CUDA_OP_GET_ROWS, KILN_CUDA_OP_COPY,
};

enum kiln_cuda_variant {
    KILN_CUDA_GEMV,      // decode: n <= 8, dequantization fused into the dot product
    KILN_CUDA_GEMM,      // exact f32 SIMT tiles (any type, any shape)
    KILN_CUDA_GEMM_TC,   // tensor cores (WMMA f16 x f16 -> f32), tiles dequantized to f16 in smem
    KILN_CUDA_CUBLAS,    // the comparator: x converted to f16, then cublasGemmEx (cuda_cublas.c)
    KILN_CUDA_MMA,       // tensor cores (mma.sync m16n8k16, ldmatrix, cp.async ring; sm_80+):
                         // matmul_mma_cuda.cu
};

// attention's rows (kiln_cuda_op.variant for KILN_CUDA_OP_ATTENTION).
enum kiln_cuda_attention_variant {
    KILN_CUDA_ATT_FLASH,  // f32 SIMT flash-style, split-K for long decodes (attention_cuda.cu)
    KILN_CUDA_ATT_FA2,    // tensor cores, flash-attention-2 prefill; sm_80+ (attention_fa2_cuda.cu)
    KILN_CUDA_ATT_DECODE, // one query: a warp per key, the GQA group per block (attention_decode_cuda.cu)
};

// rope's frequency factors by value (ops.h KILN_ROPE_MAX_PAIRS), so a captured graph keeps them.
struct kiln_cuda_rope_factors { float f[128]; };

// One op (the fields its kind uses); `kind` is enum kiln_op_kind's value.
struct kiln_cuda_op {
    int kind;
    int variant;                 // matmul: enum kiln_cuda_variant; attention: kiln_cuda_attention_variant
    struct kiln_cuda_view dst, src[3];
    int n_src;
    float scale, eps, theta_base;   // attention scale, rmsnorm eps, rope base
    int pos0, causal;               // attention
    int rope_mode, rope_dims;       // rope
    struct kiln_cuda_rope_factors rope_ff;  // rope: divisors per pair (all 1 = none)
    unsigned int *status;           // device address of the stream's status word (get_rows)
    int splits, chunk;              // attention split-K: chunks of `chunk` keys (splits > 1)
    float *scratch;                 // attention split-K partials: splits x n_q*H x (D + 2) floats;
                                    // Q4_0/Q8_0 gemv: x quantized to int8 (kiln_cuda_dp4a_scratch)
};

// Enqueues op on `stream` (a cudaStream_t). Returns 0, or a cudaError_t value with `kernel`
// naming the kernel that failed to launch.
int kiln_cuda_launch(const struct kiln_cuda_op *op, void *stream, const char **kernel);

// Scratch bytes of the int8 activations of the dp4a GEMV (matmul_dp4a_cuda.cu).
size_t kiln_cuda_dp4a_scratch(int64_t k, int64_t columns);

// Roofline probes: kind 0 read `bytes` of a (checksum into b), 2 FMA (`iters` per thread).
int kiln_cuda_probe_read(const void *a, void *b, size_t bytes, void *stream);
int kiln_cuda_probe_fma(void *b, unsigned int iters, unsigned int blocks, void *stream);
// Tensor-core probe: 8 independent mma.sync m16n8k16 chains a warp (KILN_CUDA_FMA_THREADS a block).
int kiln_cuda_probe_mma(void *b, unsigned int iters, unsigned int blocks, void *stream);

// Whether this binary has code the device can run (0 = yes, else a cudaError_t).
int kiln_cuda_check_image(void);

// The number of FLOPs kiln_cuda_probe_fma does per thread and iteration, and its block size.
#define KILN_CUDA_FMA_FLOPS_PER_ITER 64
#define KILN_CUDA_FMA_THREADS 256
// The mma probe's FLOPs per thread and iteration: 8 mma of 2 x 16 x 8 x 16 a warp, over 32 lanes.
#define KILN_CUDA_MMA_FLOPS_PER_ITER 1024

#ifdef __cplusplus
}
#endif
