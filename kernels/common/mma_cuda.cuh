// Tensor-core and async-copy primitives shared by the sm_80+ kernels (matmul_mma_cuda.cu,
// attention_fa2_cuda.cu), as inline PTX: cp.async (16 bytes global -> shared, zero-fill),
// ldmatrix.x4 (four 8x8 b16 tiles, plain or transposed) and mma.sync m16n8k16 f16 x f16 -> f32.
// Fragment layouts (PTX ISA, "Matrix Fragments for mma.m16n8k16"), with g = lane / 4 and
// t = lane % 4: A (16 x 16, row-major) regs 0..3 hold (row g, cols 2t..2t+1), (g+8, 2t..),
// (g, 2t+8..), (g+8, 2t+8..); B (16 x 8, "col": element (k, n) at n's row) regs 0..1 hold
// (k 2t..2t+1, n g), (k 2t+8.., n g); C/D (16 x 8 f32) holds (g, 2t), (g, 2t+1), (g+8, 2t),
// (g+8, 2t+1). Callers guard their use with __CUDA_ARCH__ >= 800.
#pragma once

#include <cuda_fp16.h>
#include <stdint.h>

#include "kernels/common/blocks_cuda.cuh"

namespace kiln_cuda {

__device__ __forceinline__ uint32_t smem_addr(const void *p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}

// 16 bytes global -> shared; `bytes` 16 copies, 0 writes zeros (src is then not read).
__device__ __forceinline__ void cp_async16(void *dst, const void *src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// Four 8x8 tiles; lane l gives the address of row l % 8 of tile l / 8.
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const __half *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}
// The same, each tile transposed on its way (a row-major k x n operand becomes B's "col").
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const __half *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

// c += a b (16 x 16 by 16 x 8), f32 accumulators.
__device__ __forceinline__ void mma_16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                 "{%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The same with bf16 operands (mma.sync .bf16: sm_80+).
__device__ __forceinline__ void mma_16816_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                 "{%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats as bf16, low first: blocks_cuda.cuh's f32_to_bf16_bits (quant/fp16.c's rule: RNE,
// NaN kept quiet), the rounding KILN_ROUND_X_BF16 names.
__device__ __forceinline__ uint32_t pack_bf162(float lo, float hi) {
    return (uint32_t)f32_to_bf16_bits(lo) | ((uint32_t)f32_to_bf16_bits(hi) << 16);
}

__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
    const __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t *>(&h);
}

}  // namespace kiln_cuda
