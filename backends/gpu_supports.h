// Shape limits the GPU backends' kernel tables share (backends/vulkan/vk_kernels.c,
// backends/cuda/cuda_kernels.c): each returns KILN_OK or KILN_E_UNSUPPORTED with a message
// starting with `backend` ("vulkan", "cuda"), for a row's `supports`.
#pragma once

#include "backends/kernel.h"

// GEMV rows take at most max_n columns of x (gemm takes the rest).
static inline enum kiln_status kiln_gpu_check_gemv_n(const char *backend, const struct kiln_op *op, int64_t max_n) {
    if (op->src[1].ne[1] > max_n)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s gemv: n=%lld columns (gemv takes n <= %lld; gemm the rest)", backend,
                         (long long)op->src[1].ne[1], (long long)max_n);
    return KILN_OK;
}

// Attention kernels keep one query row in shared memory: head dims up to max_d.
static inline enum kiln_status kiln_gpu_check_head_dim(const char *backend, const struct kiln_op *op, int64_t max_d) {
    if (op->src[0].ne[0] > max_d)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s attention: head dim %lld above %lld", backend,
                         (long long)op->src[0].ne[0], (long long)max_d);
    return KILN_OK;
}

// Copy destinations the GPU kernels write: floats and the two K/V-cache quantizations.
static inline enum kiln_status kiln_gpu_check_copy_dst(const char *backend, const struct kiln_op *op) {
    const enum kiln_type d = op->dst.type;
    if (d != KILN_TYPE_F32 && d != KILN_TYPE_F16 && d != KILN_TYPE_BF16 && d != KILN_TYPE_Q8_0 && d != KILN_TYPE_Q4_0)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s copy: no %s quantizer on the device (f32, f16, bf16, q8_0, q4_0 "
                         "are written there)", backend, kiln_type_name(d));
    return KILN_OK;
}
