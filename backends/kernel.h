// Kernel tables: each backend lists its kernels as rows, and the op entry points pick the best
// row the device supports (BLIS's registry, ggml's type_traits_cpu).
//
// A row says which op and types it computes, which CPU features it needs, how it ranks, and a
// stable name ("matmul.q4_0.avx2.gemv") used by tests, benchmarks and JSON. `impl` is opaque
// here: each backend knows the function type of its own rows (backends/cpu/cpu_kernel.h, ...).
// A kernel may decline a shape through `supports`; selection then tries the next row.
#pragma once

#include "backends/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

enum kiln_kernel_tier {
    KILN_TIER_REF  = 0,  // the plain oracle (<op>_ref.c): always present, slowest
    KILN_TIER_SIMD = 2,  // hand-written ISA kernels (AVX2, NEON)
    KILN_TIER_SIMD_PLUS = 3,  // a richer ISA level of the same (NEON + dotprod, AVX-VNNI)
    KILN_TIER_SIMD_WIDE = 4,  // the widest level: AVX-512 (F+BW+VL+VNNI) on x86, i8mm on Arm
    KILN_TIER_GPU  = 5,  // device kernels
};

// What a row's inputs go through before its arithmetic (kiln_kernel.rounding). Each is a
// formula the checker repeats in scalar C (bench/check/opcheck_rounding.c), so it names exactly how the
// scale and the codes are computed: a kernel that rounds any other way fails its check.
enum kiln_input_rounding {
    KILN_ROUND_NONE = 0,
    // x to Q8_0 blocks of 32: d = amax/127 stored as f16, codes rne(x * (127/amax)) (ggml's
    // AVX2 quantize_row_q8_0; kiln's AVX2 prepare step).
    KILN_ROUND_X_Q8_0_INV127,
    // x to Q8_0: d = amax/127, codes rne(x * (1/d)), d stored as f16 (ggml's reference; NEON).
    KILN_ROUND_X_Q8_0_INVD,
    // the same codes, d kept in f32 (CUDA dp4a GEMV).
    KILN_ROUND_X_Q8_0_INVD_F32,
    // x to Q8_K blocks of 256 (kiln_quantize_q8_K_ref, ggml's quantize_row_q8_K): codes
    // rne(x * -127/max) with max the signed value of largest |x|, d = 1/(-127/max) in f32.
    KILN_ROUND_X_Q8_K,
    // x rounded to f16 (RNE); W is f16 already (cuBLAS F16 GEMM).
    KILN_ROUND_X_F16,
    // W (dequantized) and x both rounded to f16 (tensor-core GEMM).
    KILN_ROUND_WX_F16,
    // x rounded to bf16 (RNE, ggml's rule: quant/format/fp16.h kiln_f32_to_bf16); W is bf16 already
    // (the AVX512_BF16 vdpbf16ps GEMM, as ggml's bf16 vec_dot rounds x).
    KILN_ROUND_X_BF16,
    // attention: q rounded to f16 (RNE) before the scores; K/V are f16 already and everything
    // after the q rounding is at least f32-exact (the tensor-core flash attention, which splits
    // P into two f16 terms: attention_fa2_cuda.cu).
    KILN_ROUND_Q_F16,
};

struct kiln_kernel {
    enum kiln_op_kind op;
    enum kiln_type src_type;    // kiln_op_key_type(): weights, K/V, or the input; ANY = any
    enum kiln_type src1_type;   // src[1]'s type (f32 activations for matmul); ANY = not checked
    enum kiln_type dst_type;    // KILN_TYPE_ANY = any the op allows
    uint32_t cpu_features;      // required kiln_cpu_feature bits (0 for GPU rows)
    enum kiln_kernel_tier tier;
    const char *isa;            // "ref", "avx2", "neon", "neon_dotprod", "cuda", "vulkan"
    const char *variant;        // "gemv", "gemm", or NULL
    // (optional) KILN_OK if the kernel handles this op's shapes, else KILN_E_UNSUPPORTED with
    // the reason. NULL = handles every valid op.
    enum kiln_status (*supports)(const struct kiln_op *op);
    const void *impl;           // backend-specific
    // (optional) How the row rounds its inputs before its arithmetic, when it does (activations
    // quantized to Q8_0 for integer dot products, tensor cores reading f16). NULL = it reads them
    // as they are. `kiln ops` checks such a row tightly against the reference run on inputs
    // rounded the same way, and loosely against the exact reference (bench/check/tolerance.c).
    enum kiln_input_rounding (*rounding)(const struct kiln_op *op);
    // A vendor library's implementation (cuBLAS) that benchmarks time beside kiln's own, as the
    // reference a user would otherwise pick. Never selected by dispatch; checked by `kiln ops`.
    bool comparator;
    // The layout of src[0] the row reads (backend.h enum kiln_layout): rows leave it zero (GGUF
    // rows); a row for a repacked layout matches only ops whose weight is in that layout.
    enum kiln_layout w_layout;
    // (optional) NULL when the row can run on this machine, else why not ("libcublas not
    // found ..."): such a row is never dispatched and `kiln ops` reports it skipped with the
    // reason (a row that is there but cannot run is not a failed kernel).
    const char *(*unavailable)(void);
};

// The rows of a device's table, all of them (usable or not on this CPU).
int kiln_kernel_count(const struct kiln_device *device);
const struct kiln_kernel *kiln_kernel_get(const struct kiln_device *device, int index);
// True if the device can run the row (its CPU features are present, and `unavailable` says
// nothing).
bool kiln_kernel_usable(const struct kiln_device *device, const struct kiln_kernel *kernel);
// The type that picks an op's kernel: the weight type (matmul), the K/V type (attention), else
// src[0]'s type. Kernel rows' src_type is compared with it.
enum kiln_type kiln_op_key_type(const struct kiln_op *op);
// True if the row's types match (ANY matches anything) and it reads src[0]'s layout.
bool kiln_kernel_matches(const struct kiln_kernel *kernel, const struct kiln_op *op);

// Stable name for this row applied to these types: "<op>.<src>[.<dst>].<isa>[.<variant>]"
// (dst shown for dequant and copy). ANY in the row is replaced by the given types.
void kiln_kernel_name(const struct kiln_kernel *kernel, enum kiln_type src_type,
                      enum kiln_type dst_type, char *buf, size_t size);

// The best usable row for op on device (highest tier, then table order), or NULL.
// `min_tier` filters out rows below it.
const struct kiln_kernel *kiln_kernel_select(const struct kiln_device *device,
                                             const struct kiln_op *op, int min_tier);

// Validates op (as the entry points do) and enqueues it with exactly this kernel; for tests and
// benchmarks that must run every row. KILN_E_UNSUPPORTED if the row declines the op.
enum kiln_status kiln_op_launch(struct kiln_stream *s, const struct kiln_kernel *kernel,
                                const struct kiln_op *op);

// Validates an op's tensors, types and shapes against its contract (ops.h).
enum kiln_status kiln_op_validate(const struct kiln_op *op);

// Enqueues the op on the best kernel (with the matmul fallback); what ran goes to `path`.
enum kiln_status kiln_op_run(struct kiln_stream *s, const struct kiln_op *op, struct kiln_path *path);

// The dequantize-then-float matmul: dequantizes W in row chunks into stream scratch, then runs
// the best f32 matmul on each chunk. `dequant` and `matmul_f32` may be given (tests) or NULL
// (best rows).
enum kiln_status kiln_matmul_fallback(struct kiln_stream *s, const struct kiln_op *op,
                                      const struct kiln_kernel *dequant,
                                      const struct kiln_kernel *matmul_f32, struct kiln_path *path);

#ifdef __cplusplus
}
#endif
