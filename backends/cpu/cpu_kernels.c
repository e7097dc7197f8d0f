// The CPU backend's kernel table: one row per (op, types, ISA, variant). Selection
// (backends/dispatch.c) takes the highest tier whose CPU features are present and whose
// `supports` accepts the shape, so adding a kernel is one file in kernels/<op>/ and one row here.
//
// ISA tiers: ref (any CPU) < avx2 (AVX2+FMA+F16C: Intel Haswell 2013+, AMD Zen 1+) < avxvnni
//            (Alder Lake, Zen 5) < avx512 (F+BW+VL+VNNI: Ice Lake, Sapphire Rapids, Zen 4/5)
//            ref < neon (every Armv8-A) < neon_dotprod (Armv8.2-A+: Cortex-A76, Neoverse N1,
//            Apple M1, Graviton2+) < neon_i8mm (SMMLA: Neoverse V1/N2, Graviton3+, Apple M2+).
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/cpu_kernel.h"
#include "kernels/attention/attention.h"
#include "kernels/dequant/dequant.h"
#include "kernels/matmul/matmul.h"
#include "kernels/model_ops/model_ops.h"

#define F32 KILN_TYPE_F32
#define F16 KILN_TYPE_F16
#define ANY KILN_TYPE_ANY

#define REF(op_, src_, src1_, dst_, impl_)                                                        \
    { .op = KILN_OP_##op_, .src_type = src_, .src1_type = src1_, .dst_type = dst_,              \
      .tier = KILN_TIER_REF, .isa = "ref", .impl = &impl_ }

#define ROW(op_, src_, src1_, dst_, feat_, tier_, isa_, variant_, supports_, impl_)               \
    { .op = KILN_OP_##op_, .src_type = src_, .src1_type = src1_, .dst_type = dst_,              \
      .cpu_features = feat_, .tier = tier_, .isa = isa_, .variant = variant_,                    \
      .supports = supports_, .impl = &impl_ }

// A row that quantizes x first (`rounding`: how; kernel.h), and the x8-layout rows (round_ may be
// NULL: the packed GEMM reads f32 x).
#define QROW(op_, src_, feat_, tier_, isa_, variant_, supports_, impl_, round_)                    \
    { .op = KILN_OP_##op_, .src_type = src_, .src1_type = KILN_TYPE_F32, .dst_type = KILN_TYPE_F32, \
      .cpu_features = feat_, .tier = tier_, .isa = isa_, .variant = variant_,                       \
      .supports = supports_, .impl = &impl_, .rounding = round_ }
#define X8ROW(type_, feat_, tier_, isa_, variant_, supports_, impl_, round_)                       \
    { .op = KILN_OP_MATMUL, .src_type = KILN_TYPE_##type_, .src1_type = KILN_TYPE_F32,             \
      .dst_type = KILN_TYPE_F32, .cpu_features = feat_, .tier = tier_, .isa = isa_,                \
      .variant = variant_, .supports = supports_, .impl = &impl_, .rounding = round_,              \
      .w_layout = KILN_LAYOUT_##type_##_X8 }
// A row for a K-quant in 16-row tiles (x quantized to Q8_K, as every K-quant row).
#define X16ROW(feat_, tier_, isa_, T_, variant_, supports_, impl_)                                  \
    { .op = KILN_OP_MATMUL, .src_type = KILN_TYPE_##T_, .src1_type = KILN_TYPE_F32,                \
      .dst_type = KILN_TYPE_F32, .cpu_features = feat_, .tier = tier_, .isa = isa_,                \
      .variant = variant_, .supports = supports_, .impl = &impl_, .rounding = x_q8_k,             \
      .w_layout = KILN_LAYOUT_##T_##_X16 }
// The x16 rows of one ISA: q2_K .. q5_K (X16ROWS) and q6_K (X16ROWS_Q6), each an integer GEMM
// and a GEMV. AVX2 has no q6_K rows, so q6_K weights stay in GGUF rows there: on Zen 1 (2
// threads, TinyLlama's matmul shapes) the row tile's GEMV beat the x16 one by 1.15-1.4x and Q6_K
// decode ran 13.1 vs 10.2-10.8 tokens/s, while x16 won for q2_K..q5_K (q4_K 1.15-1.4x).
#define X16ROWS_Q6(feat_, tier_, isa_)                                                               \
    X16ROW(feat_, tier_, #isa_, Q6_K, "int.gemm", GEMM, kiln_matmul_kquant_int_##isa_##_gemm),     \
    X16ROW(feat_, tier_, #isa_, Q6_K, "gemv", GEMV, kiln_matmul_q6_Kx16_##isa_##_gemv)
#define X16ROWS(feat_, tier_, isa_)                                                                  \
    X16ROW(feat_, tier_, #isa_, Q2_K, "int.gemm", GEMM, kiln_matmul_kquant_int_##isa_##_gemm),     \
    X16ROW(feat_, tier_, #isa_, Q2_K, "gemv", GEMV, kiln_matmul_q2_Kx16_##isa_##_gemv),            \
    X16ROW(feat_, tier_, #isa_, Q3_K, "int.gemm", GEMM, kiln_matmul_kquant_int_##isa_##_gemm),     \
    X16ROW(feat_, tier_, #isa_, Q3_K, "gemv", GEMV, kiln_matmul_q3_Kx16_##isa_##_gemv),            \
    X16ROW(feat_, tier_, #isa_, Q4_K, "int.gemm", GEMM, kiln_matmul_kquant_int_##isa_##_gemm),     \
    X16ROW(feat_, tier_, #isa_, Q4_K, "gemv", GEMV, kiln_matmul_q4_Kx16_##isa_##_gemv),            \
    X16ROW(feat_, tier_, #isa_, Q5_K, "int.gemm", GEMM, kiln_matmul_kquant_int_##isa_##_gemm),     \
    X16ROW(feat_, tier_, #isa_, Q5_K, "gemv", GEMV, kiln_matmul_q5_Kx16_##isa_##_gemv)

// The activation quantizers of the prepare steps: AVX2 (matmul_avx2.c, shared by the x8 GEMVs)
// multiplies by 127/amax, NEON (matmul_neon.c) by 1/d; both store d as f16.
__attribute__((unused)) static enum kiln_input_rounding x_q8_inv127(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_X_Q8_0_INV127;
}
__attribute__((unused)) static enum kiln_input_rounding x_q8_k(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_X_Q8_K;
}
__attribute__((unused)) static enum kiln_input_rounding x_bf16(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_X_BF16;
}
__attribute__((unused)) static enum kiln_input_rounding x_q8_invd(const struct kiln_op *op) {
    (void)op;
    return KILN_ROUND_X_Q8_0_INVD;
}
#define AVX2 KILN_CPU_X86_AVX2_SET
#define SIMD KILN_TIER_SIMD
#define GEMV kiln_matmul_supports_gemv
#define GEMM kiln_matmul_supports_gemm

const struct kiln_kernel kiln_cpu_kernels[] = {
    // References: always present, the oracles of every other row.
    // matmul_ref dequantizes W rows with the type's reference: one row serves every type.
    REF(MATMUL, ANY, F32, F32, kiln_matmul_ref),
    REF(ATTENTION, F16, F16, F32, kiln_attention_ref),
    REF(ATTENTION, F32, F32, F32, kiln_attention_ref),
    REF(DEQUANT, ANY, ANY, ANY, kiln_dequant_ref),
    REF(RMSNORM, F32, ANY, F32, kiln_rmsnorm_ref),
    REF(ROPE, F32, KILN_TYPE_I32, F32, kiln_rope_ref),
    REF(SWIGLU, F32, F32, F32, kiln_swiglu_ref),
    REF(ADD, F32, F32, F32, kiln_add_ref),
    REF(GET_ROWS, ANY, KILN_TYPE_I32, F32, kiln_get_rows_ref),
    REF(COPY, ANY, ANY, ANY, kiln_copy_ref),

#if defined(__x86_64__)
    ROW(MATMUL, F32, F32, F32, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_f32_avx2_gemv),
    ROW(MATMUL, F32, F32, F32, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_f32_avx2_gemm),
    ROW(MATMUL, F16, F32, F32, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_f16_avx2_gemv),
    ROW(MATMUL, F16, F32, F32, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_f16_avx2_gemm),
    // The 32-block integer GEMM (matmul_q32_gemm_avx2.c) for q4_0 (rows and x8), q4_1, q5_0, q5_1,
    // first so it wins over the f32-panel rows (which `kiln ops` still checks).
#define Q32INT2(T_) QROW(MATMUL, KILN_TYPE_##T_, AVX2, SIMD, "avx2", "int.gemm", GEMM, \
                         kiln_matmul_q32_int_avx2_gemm, x_q8_inv127)
    Q32INT2(Q4_0), Q32INT2(Q4_1), Q32INT2(Q5_0), Q32INT2(Q5_1),
    X8ROW(Q4_0, AVX2, SIMD, "avx2", "int.gemm", GEMM, kiln_matmul_q32_int_avx2_gemm, x_q8_inv127),
    QROW(MATMUL, KILN_TYPE_Q8_0, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q8_0_avx2_gemv, x_q8_inv127),
    ROW(MATMUL, KILN_TYPE_Q8_0, F32, F32, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_q8_0_avx2_gemm),
    QROW(MATMUL, KILN_TYPE_Q4_0, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q4_0_avx2_gemv, x_q8_inv127),
    ROW(MATMUL, KILN_TYPE_Q4_0, F32, F32, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_q4_0_avx2_gemm),
    // Q4_0 and Q8_0 repacked at load into 8-row tiles (quant/format/repack.h); the model runner and `kiln bench
    // ops` use it wherever both rows are usable (backends/layout.c).
    X8ROW(Q4_0, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q4_0x8_avx2_gemv, x_q8_inv127),
    X8ROW(Q4_0, AVX2 | KILN_CPU_AVXVNNI, KILN_TIER_SIMD_PLUS, "avxvnni", "gemv", GEMV,
          kiln_matmul_q4_0x8_avxvnni_gemv, x_q8_inv127),
    X8ROW(Q4_0, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_q4_0x8_avx2_gemm, NULL),
    X8ROW(Q8_0, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q8_0x8_avx2_gemv, x_q8_inv127),
    X8ROW(Q8_0, AVX2 | KILN_CPU_AVXVNNI, KILN_TIER_SIMD_PLUS, "avxvnni", "gemv", GEMV,
          kiln_matmul_q8_0x8_avxvnni_gemv, x_q8_inv127),
    X8ROW(Q8_0, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_q8_0x8_avx2_gemm, NULL),
    QROW(MATMUL, KILN_TYPE_Q4_1, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q4_1_avx2_gemv, x_q8_inv127),
    QROW(MATMUL, KILN_TYPE_Q5_0, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q5_0_avx2_gemv, x_q8_inv127),
    QROW(MATMUL, KILN_TYPE_Q5_1, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q5_1_avx2_gemv, x_q8_inv127),
    // The non-linear 4-bit types: pshufb level lookup, x in Q8_0 / Q8_K (matmul_iq4_avx2.c).
    QROW(MATMUL, KILN_TYPE_IQ4_NL, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_iq4_nl_avx2_gemv, x_q8_inv127),
    QROW(MATMUL, KILN_TYPE_IQ4_XS, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_iq4_xs_avx2_gemv, x_q8_k),
    // The packed GEMM for the other types (their dequantizers fill its panels).
    ROW(MATMUL, KILN_TYPE_IQ4_NL, F32, F32, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_dequant_avx2_gemm),
    ROW(MATMUL, KILN_TYPE_IQ4_XS, F32, F32, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_dequant_avx2_gemm),
    ROW(MATMUL, KILN_TYPE_Q4_1, F32, F32, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_dequant_avx2_gemm),
    ROW(MATMUL, KILN_TYPE_Q5_0, F32, F32, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_dequant_avx2_gemm),
    ROW(MATMUL, KILN_TYPE_Q5_1, F32, F32, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_dequant_avx2_gemm),
    ROW(MATMUL, KILN_TYPE_BF16, F32, F32, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_dequant_avx2_gemm),
    ROW(MATMUL, KILN_TYPE_BF16, F32, F32, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_bf16_avx2_gemv),
    // K-quants: GEMV and GEMM against Q8_K x on integer blocks (matmul_kquant_tile_avx2.c).
    QROW(MATMUL, KILN_TYPE_Q2_K, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q2_K_avx2_gemv, x_q8_k),
    QROW(MATMUL, KILN_TYPE_Q3_K, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q3_K_avx2_gemv, x_q8_k),
    QROW(MATMUL, KILN_TYPE_Q4_K, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q4_K_avx2_gemv, x_q8_k),
    QROW(MATMUL, KILN_TYPE_Q5_K, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q5_K_avx2_gemv, x_q8_k),
    QROW(MATMUL, KILN_TYPE_Q6_K, AVX2, SIMD, "avx2", "gemv", GEMV, kiln_matmul_q6_K_avx2_gemv, x_q8_k),
    // ... and the GEMM on W unpacked to bytes (matmul_kquant_gemm_avx2.c), first so it wins over
    // the tile rows' GEMM (which `kiln ops` still checks).
#define KQINT2(T_) QROW(MATMUL, KILN_TYPE_##T_, AVX2, SIMD, "avx2", "int.gemm", GEMM, \
                        kiln_matmul_kquant_int_avx2_gemm, x_q8_k)
    KQINT2(Q2_K), KQINT2(Q3_K), KQINT2(Q4_K), KQINT2(Q5_K), KQINT2(Q6_K),
    // q2_K .. q6_K in 16-row tiles (matmul_kquant_x16_avx2.c; the AVX-512 rows below say why)
    X16ROWS(AVX2, SIMD, avx2),
    QROW(MATMUL, KILN_TYPE_Q2_K, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_q2_K_avx2_gemm, x_q8_k),
    QROW(MATMUL, KILN_TYPE_Q3_K, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_q3_K_avx2_gemm, x_q8_k),
    QROW(MATMUL, KILN_TYPE_Q4_K, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_q4_K_avx2_gemm, x_q8_k),
    QROW(MATMUL, KILN_TYPE_Q5_K, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_q5_K_avx2_gemm, x_q8_k),
    QROW(MATMUL, KILN_TYPE_Q6_K, AVX2, SIMD, "avx2", "gemm", GEMM, kiln_matmul_q6_K_avx2_gemm, x_q8_k),
    ROW(ATTENTION, F16, F16, F32, AVX2, SIMD, "avx2", NULL, kiln_attention_supports_avx2,
        kiln_attention_f16_avx2),
    ROW(ATTENTION, F32, F32, F32, AVX2, SIMD, "avx2", NULL, kiln_attention_supports_avx2,
        kiln_attention_f32_avx2),
    ROW(DEQUANT, F16, ANY, F32, AVX2, SIMD, "avx2", NULL, NULL, kiln_dequant_f16_f32_avx2),
    ROW(DEQUANT, KILN_TYPE_Q8_0, ANY, F32, AVX2, SIMD, "avx2", NULL, NULL, kiln_dequant_q8_0_f32_avx2),
    ROW(DEQUANT, KILN_TYPE_Q4_0, ANY, F32, AVX2, SIMD, "avx2", NULL, NULL, kiln_dequant_q4_0_f32_avx2),
    ROW(DEQUANT, KILN_TYPE_Q8_0, ANY, F16, AVX2, SIMD, "avx2", NULL, NULL, kiln_dequant_q8_0_f16_avx2),
    ROW(DEQUANT, KILN_TYPE_Q4_K, ANY, F32, AVX2, SIMD, "avx2", NULL, NULL, kiln_dequant_q4_K_f32_avx2),
    ROW(DEQUANT, KILN_TYPE_Q5_K, ANY, F32, AVX2, SIMD, "avx2", NULL, NULL, kiln_dequant_q5_K_f32_avx2),
    ROW(DEQUANT, KILN_TYPE_Q6_K, ANY, F32, AVX2, SIMD, "avx2", NULL, NULL, kiln_dequant_q6_K_f32_avx2),
    ROW(DEQUANT, KILN_TYPE_Q4_0, ANY, F16, AVX2, SIMD, "avx2", NULL, NULL, kiln_dequant_q4_0_f16_avx2),

    // The AVX-512 tier (F+BW+VL+VNNI), above AVX2 and AVX-VNNI: every type's matmul, attention,
    // dequant. Float-panel GEMM (zmm FMAs) for the float types; integer GEMMs (W unpacked to
    // bytes, vpdpbusd micro-kernels) for every quantized type; integer tiles for K-quant GEMVs.
#define AVX512 KILN_CPU_X86_AVX512_SET
#define WIDE KILN_TIER_SIMD_WIDE
#define GEMM512(type_) ROW(MATMUL, type_, F32, F32, AVX512, WIDE, "avx512", "gemm", GEMM, kiln_matmul_avx512_gemm)
    // bf16 by vdpbf16ps where the CPU has AVX512_BF16; first, so it wins over the f32-panel row
    // of the same tier (dispatch.c takes the first row of the highest usable tier).
    QROW(MATMUL, KILN_TYPE_BF16, AVX512 | KILN_CPU_AVX512BF16, WIDE, "avx512", "dpbf16.gemm", GEMM,
         kiln_matmul_bf16_dpbf16_avx512_gemm, x_bf16),
    // The 32-block types' GEMM on W unpacked to bytes and an int8 micro-kernel
    // (matmul_q32_gemm_avx512.c), first so it wins over the f32-panel rows below (which `kiln
    // ops` still checks).
#define Q32INT512(T_) QROW(MATMUL, KILN_TYPE_##T_, AVX512, WIDE, "avx512", "int.gemm", GEMM, \
                           kiln_matmul_q32_int_avx512_gemm, x_q8_inv127)
    Q32INT512(Q4_0), Q32INT512(Q8_0), Q32INT512(Q4_1), Q32INT512(Q5_0), Q32INT512(Q5_1),
    X8ROW(Q4_0, AVX512, WIDE, "avx512", "int.gemm", GEMM, kiln_matmul_q32_int_avx512_gemm, x_q8_inv127),
    X8ROW(Q8_0, AVX512, WIDE, "avx512", "int.gemm", GEMM, kiln_matmul_q32_int_avx512_gemm, x_q8_inv127),
    GEMM512(F32), GEMM512(F16), GEMM512(KILN_TYPE_BF16), GEMM512(KILN_TYPE_Q8_0), GEMM512(KILN_TYPE_Q4_0),
    GEMM512(KILN_TYPE_Q4_1), GEMM512(KILN_TYPE_Q5_0), GEMM512(KILN_TYPE_Q5_1),
    GEMM512(KILN_TYPE_IQ4_NL), GEMM512(KILN_TYPE_IQ4_XS),
    X8ROW(Q4_0, AVX512, WIDE, "avx512", "gemm", GEMM, kiln_matmul_avx512_gemm, NULL),
    X8ROW(Q8_0, AVX512, WIDE, "avx512", "gemm", GEMM, kiln_matmul_avx512_gemm, NULL),
    ROW(MATMUL, F32, F32, F32, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_f32_avx512_gemv),
    ROW(MATMUL, F16, F32, F32, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_f16_avx512_gemv),
    ROW(MATMUL, KILN_TYPE_BF16, F32, F32, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_bf16_avx512_gemv),
    X8ROW(Q4_0, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_q4_0x8_avx512_gemv, x_q8_inv127),
    X8ROW(Q8_0, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_q8_0x8_avx512_gemv, x_q8_inv127),
    QROW(MATMUL, KILN_TYPE_Q4_1, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_q4_1_avx512_gemv, x_q8_inv127),
    QROW(MATMUL, KILN_TYPE_Q5_0, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_q5_0_avx512_gemv, x_q8_inv127),
    QROW(MATMUL, KILN_TYPE_Q5_1, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_q5_1_avx512_gemv, x_q8_inv127),
    QROW(MATMUL, KILN_TYPE_IQ4_NL, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_iq4_nl_avx512_gemv, x_q8_inv127),
    QROW(MATMUL, KILN_TYPE_IQ4_XS, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_iq4_xs_avx512_gemv, x_q8_k),
    // K-quant GEMM on W unpacked to bytes and an int8 micro-kernel (matmul_kquant_gemm_avx512.c),
    // first so it wins over the tile rows' GEMM below (which `kiln ops` still checks).
#define KQINT512(T_) QROW(MATMUL, KILN_TYPE_##T_, AVX512, WIDE, "avx512", "int.gemm", GEMM, \
                          kiln_matmul_kquant_int_avx512_gemm, x_q8_k)
    KQINT512(Q2_K), KQINT512(Q3_K), KQINT512(Q4_K), KQINT512(Q5_K), KQINT512(Q6_K),
    // q4_K, q5_K and q6_K repacked into 16-row tiles (quant/format/repack.h): the GEMV reads the tiles
    // (matmul_kquant_x16_avx512.c); the integer GEMM unpacks them to the same bytes as rows.
    X16ROWS(AVX512, WIDE, avx512), X16ROWS_Q6(AVX512, WIDE, avx512),
#define KQ512(T_, t_)                                                                               \
    QROW(MATMUL, KILN_TYPE_##T_, AVX512, WIDE, "avx512", "gemv", GEMV, kiln_matmul_##t_##_avx512_gemv, x_q8_k), \
    QROW(MATMUL, KILN_TYPE_##T_, AVX512, WIDE, "avx512", "gemm", GEMM, kiln_matmul_##t_##_avx512_gemm, x_q8_k)
    KQ512(Q2_K, q2_K), KQ512(Q3_K, q3_K), KQ512(Q4_K, q4_K), KQ512(Q5_K, q5_K), KQ512(Q6_K, q6_K),
    ROW(ATTENTION, F16, F16, F32, AVX512, WIDE, "avx512", NULL, kiln_attention_supports_avx512,
        kiln_attention_f16_avx512),
    ROW(ATTENTION, F32, F32, F32, AVX512, WIDE, "avx512", NULL, kiln_attention_supports_avx512,
        kiln_attention_f32_avx512),
    ROW(DEQUANT, F16, ANY, F32, AVX512, WIDE, "avx512", NULL, NULL, kiln_dequant_f16_f32_avx512),
    ROW(DEQUANT, KILN_TYPE_Q8_0, ANY, F32, AVX512, WIDE, "avx512", NULL, NULL, kiln_dequant_q8_0_f32_avx512),
    ROW(DEQUANT, KILN_TYPE_Q4_0, ANY, F32, AVX512, WIDE, "avx512", NULL, NULL, kiln_dequant_q4_0_f32_avx512),
    ROW(DEQUANT, KILN_TYPE_Q8_0, ANY, F16, AVX512, WIDE, "avx512", NULL, NULL, kiln_dequant_q8_0_f16_avx512),
    ROW(DEQUANT, KILN_TYPE_Q4_0, ANY, F16, AVX512, WIDE, "avx512", NULL, NULL, kiln_dequant_q4_0_f16_avx512),
    ROW(DEQUANT, KILN_TYPE_Q4_K, ANY, F32, AVX512, WIDE, "avx512", NULL, NULL, kiln_dequant_q4_K_f32_avx512),
    ROW(DEQUANT, KILN_TYPE_Q5_K, ANY, F32, AVX512, WIDE, "avx512", NULL, NULL, kiln_dequant_q5_K_f32_avx512),
    ROW(DEQUANT, KILN_TYPE_Q6_K, ANY, F32, AVX512, WIDE, "avx512", NULL, NULL, kiln_dequant_q6_K_f32_avx512),
#endif

#if defined(__aarch64__)
#define NEON KILN_CPU_NEON
#define NEON_DP (KILN_CPU_NEON | KILN_CPU_DOTPROD)
#define DP KILN_TIER_SIMD_PLUS
// One type's pair of rows: baseline NEON and NEON + dotprod, both every n, x rounded by round_.
#define NEON_PAIR(T_, t_, round_)                                                                   \
    QROW(MATMUL, KILN_TYPE_##T_, NEON, SIMD, "neon", NULL, NULL, kiln_matmul_##t_##_neon, round_),   \
    QROW(MATMUL, KILN_TYPE_##T_, NEON_DP, DP, "neon_dotprod", NULL, NULL, kiln_matmul_##t_##_neon_dotprod, round_)
    // Float W against f32 x.
    ROW(MATMUL, F32, F32, F32, NEON, SIMD, "neon", NULL, NULL, kiln_matmul_f32_neon),
    ROW(MATMUL, F16, F32, F32, NEON, SIMD, "neon", NULL, NULL, kiln_matmul_f16_neon),
    ROW(MATMUL, KILN_TYPE_BF16, F32, F32, NEON, SIMD, "neon", NULL, NULL, kiln_matmul_bf16_neon),
    // The 32-blocks against Q8_0 x (the NEON quantizer: codes x / d).
    NEON_PAIR(Q8_0, q8_0, x_q8_invd), NEON_PAIR(Q4_0, q4_0, x_q8_invd), NEON_PAIR(Q4_1, q4_1, x_q8_invd),
    NEON_PAIR(Q5_0, q5_0, x_q8_invd), NEON_PAIR(Q5_1, q5_1, x_q8_invd),
    // SMMLA (i8mm) GEMMs above dotprod for n >= 16.
    QROW(MATMUL, KILN_TYPE_Q8_0, NEON_DP | KILN_CPU_I8MM, KILN_TIER_SIMD_WIDE, "neon_i8mm", "gemm", GEMM,
         kiln_matmul_q8_0_neon_i8mm_gemm, x_q8_invd),
    QROW(MATMUL, KILN_TYPE_Q4_0, NEON_DP | KILN_CPU_I8MM, KILN_TIER_SIMD_WIDE, "neon_i8mm", "gemm", GEMM,
         kiln_matmul_q4_0_neon_i8mm_gemm, x_q8_invd),
    // K-quants (the Q4_K_M/Q5_K_M/Q6_K mixes and their Q2_K/Q3_K cousins) against Q8_K x.
    NEON_PAIR(Q2_K, q2_K, x_q8_k), NEON_PAIR(Q3_K, q3_K, x_q8_k), NEON_PAIR(Q4_K, q4_K, x_q8_k),
    NEON_PAIR(Q5_K, q5_K, x_q8_k), NEON_PAIR(Q6_K, q6_K, x_q8_k),
    // The non-linear 4-bit types: TBL level lookup (matmul_iq4_neon.h), x in Q8_0 / Q8_K.
    NEON_PAIR(IQ4_NL, iq4_nl, x_q8_invd), NEON_PAIR(IQ4_XS, iq4_xs, x_q8_k),
    ROW(DEQUANT, F16, ANY, F32, NEON, SIMD, "neon", NULL, NULL, kiln_dequant_f16_f32_neon),
    ROW(DEQUANT, KILN_TYPE_Q8_0, ANY, F32, NEON, SIMD, "neon", NULL, NULL, kiln_dequant_q8_0_f32_neon),
    ROW(DEQUANT, KILN_TYPE_Q4_0, ANY, F32, NEON, SIMD, "neon", NULL, NULL, kiln_dequant_q4_0_f32_neon),
#endif
};

const int kiln_cpu_kernel_count = (int)(sizeof kiln_cpu_kernels / sizeof kiln_cpu_kernels[0]);
