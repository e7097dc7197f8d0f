// The CUDA backend's kernel table (the CPU backend's is backends/cpu/cpu_kernels.c). As on
// Vulkan, every op and type the CPU backend runs has a row, so `kiln ops --backend cuda` checks
// them all:
//   matmul    any dequantizable W: gemv (n <= 8); mma (mma.sync tensor cores, n > 8, f16 and
//             quantized W, one row per type) and gemm_tc (WMMA, the same types): W and x rounded
//             to f16, their `rounding`; mma for bf16 W too (x rounded to bf16, .bf16 mma); gemm (exact f32 tiles, any type and shape); cublas (the
//             comparator, f16 W; unavailable without libcublas)
//   attention fa2 (tensor cores, flash-attention-2: prefill, f16 K/V, D 64..128; q rounded to
//             f16, its `rounding`), decode (one query, D 64/128, a warp per key, the GQA group per
//             block, split-K), then the f32 flash kernel (any D <= 256, split-K);
//   dequant; copy to f32/f16/bf16/q8_0/q4_0; rmsnorm, rope,
//   swiglu, add, get_rows (any table type)                       kernels/<op>/*_cuda.cu
// A matmul row's impl is its enum kiln_cuda_variant.
#include <stdlib.h>
#include <stdint.h>

#include "backends/backend_impl.h"
#include "backends/gpu_supports.h"
#include "backends/cuda/cuda_cublas.h"
#include "backends/cuda/cuda_ops.h"

#define F32 KILN_TYPE_F32
#define F16 KILN_TYPE_F16
#define I32 KILN_TYPE_I32
#define ANY KILN_TYPE_ANY

// The kernels index f32/i32 data as 4-byte and f16/bf16 as 2-byte elements: rows must be aligned.
static bool aligned(const struct kiln_tensor *t) {
    const size_t a = t->type == F32 || t->type == I32 ? 4 : t->type == F16 || t->type == KILN_TYPE_BF16 ? 2 : 1;
    if (t->offset % a)
        return false;
    for (int d = 1; d < 4; d++)
        if (t->ne[d] > 1 && t->nb[d] % a)
            return false;
    return true;
}

static enum kiln_status supports_any(const struct kiln_op *op) {
    if (!aligned(&op->dst))
        return kiln_fail(KILN_E_UNSUPPORTED, "cuda: destination rows are not aligned to their element size");
    for (int i = 0; i < op->n_src; i++)
        if (!aligned(&op->src[i]))
            return kiln_fail(KILN_E_UNSUPPORTED, "cuda: source %d rows are not aligned to their element size", i);
    return KILN_OK;
}

static enum kiln_status supports_gemv(const struct kiln_op *op) {
    KILN_TRY(kiln_gpu_check_gemv_n("cuda", op, 8));
    const struct kiln_tensor *w = &op->src[0];
    if ((w->type == KILN_TYPE_Q4_0 || w->type == KILN_TYPE_Q8_0) && (w->offset % 2 || w->nb[1] % 2))
        return kiln_fail(KILN_E_UNSUPPORTED, "cuda gemv: %s rows at odd byte offsets (it loads codes in 16-bit words)",
                         kiln_type_name(w->type));
    return supports_any(op);
}

// The tensor-core rows (mma, gemm_tc): n above gemv's; the types are their rows' (TC_ROWS).
static enum kiln_status supports_gemm_tc(const struct kiln_op *op) {
    if (op->src[1].ne[1] <= 8)
        return kiln_fail(KILN_E_UNSUPPORTED, "cuda tensor-core gemm: n=%lld is gemv's", (long long)op->src[1].ne[1]);
    return supports_any(op);
}

static enum kiln_status supports_cublas(const struct kiln_op *op) {
    const struct kiln_tensor *w = &op->src[0], *x = &op->src[1], *y = &op->dst;
    if (x->ne[2] * x->ne[3] != 1 || !kiln_tensor_is_contiguous(x) || w->nb[1] % 2 || y->nb[1] % 4)
        return kiln_fail(KILN_E_UNSUPPORTED, "cublas comparator: 2-D contiguous x and aligned W/y rows only");
    return supports_any(op);
}

static enum kiln_status supports_attention(const struct kiln_op *op) {
    KILN_TRY(kiln_gpu_check_head_dim("cuda", op, 256));
    return supports_any(op);
}

// fa2 (tensor cores, attention_fa2_cuda.cu): prefill, f16 K/V, head dims 64..128 in steps of 16.
static enum kiln_status supports_fa2(const struct kiln_op *op) {
    const int64_t d = op->src[0].ne[0];
    if (op->src[0].ne[1] < 2)
        return kiln_fail(KILN_E_UNSUPPORTED, "cuda fa2 attention: one query is decode's (the flash row)");
    if (d % 16 || d < 64 || d > 128)
        return kiln_fail(KILN_E_UNSUPPORTED, "cuda fa2 attention: head dim %lld is not 64, 80, 96, 112 or 128",
                         (long long)d);
    return supports_attention(op);
}

// decode (attention_decode_cuda.cu): one query, D 64 or 128, GQA groups up to 8; f16 K/V rows
// read as half2 (4-byte aligned).
static enum kiln_status supports_decode(const struct kiln_op *op) {
    const struct kiln_tensor *q = &op->src[0], *k = &op->src[1], *v = &op->src[2];
    if (q->ne[1] != 1)
        return kiln_fail(KILN_E_UNSUPPORTED, "cuda decode attention: %lld queries is prefill's", (long long)q->ne[1]);
    if (q->ne[0] != 64 && q->ne[0] != 128)
        return kiln_fail(KILN_E_UNSUPPORTED, "cuda decode attention: head dim %lld is not 64 or 128", (long long)q->ne[0]);
    if (q->ne[2] % k->ne[2] || q->ne[2] / k->ne[2] > 8)
        return kiln_fail(KILN_E_UNSUPPORTED, "cuda decode attention: GQA group of %lld heads (at most 8)",
                         (long long)(q->ne[2] / k->ne[2]));
    for (int i = 1; i <= 2; i++) {
        const struct kiln_tensor *t = i == 1 ? k : v;
        if (t->type == F16 && (t->offset % 4 || t->nb[1] % 4 || (t->ne[2] > 1 && t->nb[2] % 4)))
            return kiln_fail(KILN_E_UNSUPPORTED, "cuda decode attention: f16 K/V rows not 4-byte aligned");
    }
    return supports_attention(op);
}

static enum kiln_status supports_copy(const struct kiln_op *op) {
    KILN_TRY(kiln_gpu_check_copy_dst("cuda", op));
    return supports_any(op);
}

// How the matmul rows round their inputs (kernel.h). The GEMV quantizes x for dp4a on Q4_0/Q8_0
// weights (matmul_dp4a_cuda.cu: d = amax/127 kept in f32, codes rne(x / d)) unless
// KILN_CUDA_NO_DP4A picks the f32 path (cuda_backend.c reads the same variable).
static enum kiln_input_rounding round_gemv(const struct kiln_op *op) {
    const enum kiln_type t = op->src[0].type;
    if ((t == KILN_TYPE_Q4_0 || t == KILN_TYPE_Q8_0) && !getenv("KILN_CUDA_NO_DP4A"))
        return KILN_ROUND_X_Q8_0_INVD_F32;
    return KILN_ROUND_NONE;
}
// gemm_tc: W dequantized and x converted to f16 on their way into shared memory (matmul_cuda.cu).
static enum kiln_input_rounding round_wx_f16(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_WX_F16;
}
// fa2: q rounded to f16 for the QK mma; P split in two f16 terms keeps the rest f32-exact.
static enum kiln_input_rounding round_q_f16(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_Q_F16;
}
// mma on BF16 W: W as it is, x rounded to bf16 (matmul_mma_cuda.cu v2).
static enum kiln_input_rounding round_x_bf16(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_X_BF16;
}
// cuBLAS comparator: f16 W as it is, x converted to f16 (cuda_cublas.c).
static enum kiln_input_rounding round_x_f16(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_X_F16;
}

#define ROW(op_, src_, src1_, dst_, variant_, supports_, impl_)                                    \
    { .op = KILN_OP_##op_, .src_type = src_, .src1_type = src1_, .dst_type = dst_,               \
      .tier = KILN_TIER_GPU, .isa = "cuda", .variant = variant_, .supports = supports_,          \
      .impl = (const void *)(intptr_t)(impl_) }

// A tensor-core row per weight type it takes: f16 and every quantized type (not f32 or bf16,
// whose precision or range f16 would lose: they take the exact gemm). One row per type, so
// `kiln ops` lists exactly what runs and no row declines a whole type.
#define TC_ROW(type_, variant_, impl_)                                                              \
    { .op = KILN_OP_MATMUL, .src_type = KILN_TYPE_##type_, .src1_type = F32, .dst_type = F32,      \
      .tier = KILN_TIER_GPU, .isa = "cuda", .variant = variant_, .supports = supports_gemm_tc,     \
      .impl = (const void *)(intptr_t)(impl_), .rounding = round_wx_f16 }
#define TC_ROWS(variant_, impl_)                                                                    \
    TC_ROW(F16, variant_, impl_), TC_ROW(Q4_0, variant_, impl_), TC_ROW(Q4_1, variant_, impl_),     \
    TC_ROW(Q5_0, variant_, impl_), TC_ROW(Q5_1, variant_, impl_), TC_ROW(Q8_0, variant_, impl_),    \
    TC_ROW(Q2_K, variant_, impl_), TC_ROW(Q3_K, variant_, impl_), TC_ROW(Q4_K, variant_, impl_),    \
    TC_ROW(Q5_K, variant_, impl_), TC_ROW(Q6_K, variant_, impl_), TC_ROW(IQ4_NL, variant_, impl_),  \
    TC_ROW(IQ4_XS, variant_, impl_)

// Order matters among rows of one tier: dispatch takes the first that supports the op, so the
// mma GEMM is what prefill runs, and gemm_tc (WMMA) and gemm (exact f32) stay as the simpler
// rungs of the ladder that `kiln ops` checks beside it.
const struct kiln_kernel kiln_cuda_kernels[] = {
    { .op = KILN_OP_MATMUL, .src_type = ANY, .src1_type = F32, .dst_type = F32, .tier = KILN_TIER_GPU,
      .isa = "cuda", .variant = "gemv", .supports = supports_gemv,
      .impl = (const void *)(intptr_t)KILN_CUDA_GEMV, .rounding = round_gemv },
    TC_ROWS("mma", KILN_CUDA_MMA),
    { .op = KILN_OP_MATMUL, .src_type = KILN_TYPE_BF16, .src1_type = F32, .dst_type = F32, .tier = KILN_TIER_GPU,
      .isa = "cuda", .variant = "mma", .supports = supports_gemm_tc,
      .impl = (const void *)(intptr_t)KILN_CUDA_MMA, .rounding = round_x_bf16 },
    TC_ROWS("gemm_tc", KILN_CUDA_GEMM_TC),
    ROW(MATMUL, ANY, F32, F32, "gemm", supports_any, KILN_CUDA_GEMM),
    { .op = KILN_OP_MATMUL, .src_type = F16, .src1_type = F32, .dst_type = F32, .tier = KILN_TIER_GPU,
      .isa = "cuda", .variant = "cublas", .supports = supports_cublas, .comparator = true,
      .impl = (const void *)(intptr_t)KILN_CUDA_CUBLAS, .rounding = round_x_f16,
      .unavailable = kiln_cuda_cublas_unavailable },
    { .op = KILN_OP_ATTENTION, .src_type = F16, .src1_type = F16, .dst_type = F32, .tier = KILN_TIER_GPU,
      .isa = "cuda", .variant = "fa2", .supports = supports_fa2,
      .impl = (const void *)(intptr_t)KILN_CUDA_ATT_FA2, .rounding = round_q_f16 },
    ROW(ATTENTION, F16, F16, F32, "decode", supports_decode, KILN_CUDA_ATT_DECODE),
    ROW(ATTENTION, F32, F32, F32, "decode", supports_decode, KILN_CUDA_ATT_DECODE),
    ROW(ATTENTION, F16, F16, F32, NULL, supports_attention, KILN_CUDA_ATT_FLASH),
    ROW(ATTENTION, F32, F32, F32, NULL, supports_attention, KILN_CUDA_ATT_FLASH),
    ROW(DEQUANT, ANY, ANY, ANY, NULL, supports_any, 0),
    ROW(RMSNORM, F32, ANY, F32, NULL, supports_any, 0),
    ROW(ROPE, F32, I32, F32, NULL, supports_any, 0),
    ROW(SWIGLU, F32, F32, F32, NULL, supports_any, 0),
    ROW(ADD, F32, F32, F32, NULL, supports_any, 0),
    ROW(GET_ROWS, ANY, I32, F32, NULL, supports_any, 0),
    ROW(COPY, ANY, ANY, ANY, NULL, supports_copy, 0),
};

const int kiln_cuda_kernel_count = (int)(sizeof kiln_cuda_kernels / sizeof kiln_cuda_kernels[0]);
