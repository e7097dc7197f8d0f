// The Vulkan backend's kernel table (the CPU backend's is backends/cpu/cpu_kernels.c). Every
// op and type the CPU backend runs has a row here, so `kiln ops --backend vulkan` checks them
// all and dispatch never needs a fallback on this device:
//   matmul    any dequantizable W: gemv (n <= 8, Q4_0/Q8_0 block-wise, others per element) and
//             gemm (shared-memory tiles, W dequantized on load)   kernels/matmul/*.comp
//   attention f16 and f32 K/V, D <= 256                          kernels/attention/attention.comp
//   dequant   any -> f32/f16; copy any -> f32/f16/bf16/q8_0/q4_0 kernels/dequant, model_ops
//   rmsnorm, rope, swiglu, add, get_rows (any table type)       kernels/model_ops/*.comp
// `supports` declines what the kernels' addressing cannot do (misaligned f32 rows), with why.
#include <string.h>

#include "backends/gpu_supports.h"
#include "backends/vulkan/vk_internal.h"

#define F32 KILN_TYPE_F32
#define F16 KILN_TYPE_F16
#define I32 KILN_TYPE_I32
#define ANY KILN_TYPE_ANY

// f32 data is read as whole 32-bit words: every row of an f32 view must start 4-aligned.
static bool word_aligned(const struct kiln_tensor *t) {
    if (t->type != F32 && t->type != I32)
        return true;
    const struct kiln_vk_alloc *a = t->buffer->handle;
    if ((a->offset + t->offset) % 4)
        return false;
    for (int d = 1; d < 4; d++)
        if (t->ne[d] > 1 && t->nb[d] % 4)
            return false;
    return true;
}

// f16 K/V are read as 16-bit halves of words: 2-aligned rows.
static bool half_aligned(const struct kiln_tensor *t) {
    const struct kiln_vk_alloc *a = t->buffer->handle;
    if ((a->offset + t->offset) % 2)
        return false;
    for (int d = 1; d < 4; d++)
        if (t->ne[d] > 1 && t->nb[d] % 2)
            return false;
    return true;
}

static enum kiln_status views_aligned(const struct kiln_op *op) {
    if (!word_aligned(&op->dst))
        return kiln_fail(KILN_E_UNSUPPORTED, "vulkan: f32 destination rows are not 4-byte aligned");
    for (int i = 0; i < op->n_src; i++)
        if (!word_aligned(&op->src[i]))
            return kiln_fail(KILN_E_UNSUPPORTED, "vulkan: f32 source %d rows are not 4-byte aligned", i);
    if (op->kind == KILN_OP_ATTENTION && op->src[1].type == F16 &&
        (!half_aligned(&op->src[1]) || !half_aligned(&op->src[2])))
        return kiln_fail(KILN_E_UNSUPPORTED, "vulkan: f16 K/V rows are not 2-byte aligned");
    // 16-bit destinations are written through the half-word helpers: they need even addresses.
    if ((op->dst.type == F16 || op->dst.type == KILN_TYPE_BF16) && !half_aligned(&op->dst))
        return kiln_fail(KILN_E_UNSUPPORTED, "vulkan: 16-bit destination rows are not 2-byte aligned");
    return KILN_OK;
}

static enum kiln_status supports_any(const struct kiln_op *op) { return views_aligned(op); }

static enum kiln_status supports_gemv(const struct kiln_op *op) {
    KILN_TRY(kiln_gpu_check_gemv_n("vulkan", op, 8));
    return views_aligned(op);
}

static enum kiln_status supports_attention(const struct kiln_op *op) {
    KILN_TRY(kiln_gpu_check_head_dim("vulkan", op, 256));
    return views_aligned(op);
}

static enum kiln_status supports_copy(const struct kiln_op *op) {
    KILN_TRY(kiln_gpu_check_copy_dst("vulkan", op));
    return views_aligned(op);
}

#define ROW(op_, src_, src1_, dst_, variant_, supports_)                                          \
    { .op = KILN_OP_##op_, .src_type = src_, .src1_type = src1_, .dst_type = dst_,              \
      .tier = KILN_TIER_GPU, .isa = "vulkan", .variant = variant_, .supports = supports_,       \
      .impl = NULL }

const struct kiln_kernel kiln_vk_kernels[] = {
    ROW(MATMUL, ANY, F32, F32, "gemv", supports_gemv),
    ROW(MATMUL, ANY, F32, F32, "gemm", supports_any),
    ROW(ATTENTION, F16, F16, F32, NULL, supports_attention),
    ROW(ATTENTION, F32, F32, F32, NULL, supports_attention),
    ROW(DEQUANT, ANY, ANY, ANY, NULL, supports_any),
    ROW(RMSNORM, F32, ANY, F32, NULL, supports_any),
    ROW(ROPE, F32, I32, F32, NULL, supports_any),
    ROW(SWIGLU, F32, F32, F32, NULL, supports_any),
    ROW(ADD, F32, F32, F32, NULL, supports_any),
    ROW(GET_ROWS, ANY, I32, F32, NULL, supports_any),
    ROW(COPY, ANY, ANY, ANY, NULL, supports_copy),
};

const int kiln_vk_kernel_count = (int)(sizeof kiln_vk_kernels / sizeof kiln_vk_kernels[0]);
