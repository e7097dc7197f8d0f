// matmul: y[n][m] = x[n][k] . W[m][k]^T   (ggml's mul_mat layout, spec/ggml-formats.md §4)
//
// Tensors (GGUF order): W [k, m] of the weight type, one output unit per stored row;
// x [k, n] f32 activations; y [m, n] f32. Rows of x and y may be strided. Kernels see 2-D ops
// (the entry point splits batch dims). n = 1..15 is decode (GEMV), n >= 16 prefill (GEMM).
#pragma once

#include "backends/cpu/cpu_kernel.h"

// The oracle: each W row dequantized exactly, dot products accumulated in double.
extern const struct kiln_cpu_kernel kiln_matmul_ref;

// AVX2+FMA+F16C (matmul_avx2.c). Quantized weights dot activations quantized to Q8_0.
extern const struct kiln_cpu_kernel kiln_matmul_f32_avx2_gemv, kiln_matmul_f32_avx2_gemm,
    kiln_matmul_f16_avx2_gemv, kiln_matmul_f16_avx2_gemm, kiln_matmul_q8_0_avx2_gemv,
    kiln_matmul_q8_0_avx2_gemm, kiln_matmul_q4_0_avx2_gemv, kiln_matmul_q4_0_avx2_gemm;
// x quantized to Q8_0 rows in the workspace (matmul_avx2.c), for every quantized AVX2 GEMV:
// row j at j * kiln_row_size(Q8_0, k).
size_t kiln_matmul_xq8_workspace(const struct kiln_op *op, int nth);
void kiln_matmul_xq8_prepare(const struct kiln_op *op, void *ws, int ith, int nth);
// The quantizer of that prepare step, one row of k (k % 32 == 0) f32 to Q8_0.
struct kiln_block_q8_0;
void kiln_matmul_quantize_row_q8_0(const float *x, struct kiln_block_q8_0 *y, int64_t k);

// Q4_0 and Q8_0 weights in the x8 layouts (quant/format/repack.h): the GEMVs with maddubs
// (matmul_x8_avx2.c) and with AVX-VNNI vpdpbusd (matmul_x8_avxvnni.c); the packed GEMM reads
// x8 rows too (matmul_gemm_avx2.c).
extern const struct kiln_cpu_kernel kiln_matmul_q4_0x8_avx2_gemv, kiln_matmul_q4_0x8_avxvnni_gemv,
    kiln_matmul_q4_0x8_avx2_gemm, kiln_matmul_q8_0x8_avx2_gemv, kiln_matmul_q8_0x8_avxvnni_gemv,
    kiln_matmul_q8_0x8_avx2_gemm;

// q4_1, q5_0, q5_1 GEMVs against Q8_0 x from the AVX2 prepare step (matmul_q451_avx2.c).
extern const struct kiln_cpu_kernel kiln_matmul_q4_1_avx2_gemv, kiln_matmul_q5_0_avx2_gemv,
    kiln_matmul_q5_1_avx2_gemv;
// IQ4_NL (x in Q8_0) and IQ4_XS (x in Q8_K) GEMVs, AVX2 and AVX-512 (matmul_iq4_avx2.c,
// matmul_iq4_avx512.c); their GEMMs are the packed f32-panel ones.
extern const struct kiln_cpu_kernel kiln_matmul_iq4_nl_avx2_gemv, kiln_matmul_iq4_xs_avx2_gemv,
    kiln_matmul_iq4_nl_avx512_gemv, kiln_matmul_iq4_xs_avx512_gemv;
// bf16 W against f32 x (matmul_avx2.c).
extern const struct kiln_cpu_kernel kiln_matmul_bf16_avx2_gemv;
// The packed GEMM for every other dequantizable W type (matmul_gemm_avx2.c).
extern const struct kiln_cpu_kernel kiln_matmul_dequant_avx2_gemm;

// K-quants with x quantized to Q8_K: GEMV and GEMM on integer blocks (matmul_kquant_tile_avx2.c).
// The prepare step is generic C (matmul_ref.c).
extern const struct kiln_cpu_kernel kiln_matmul_q2_K_avx2_gemv, kiln_matmul_q3_K_avx2_gemv,
    kiln_matmul_q4_K_avx2_gemv, kiln_matmul_q5_K_avx2_gemv, kiln_matmul_q6_K_avx2_gemv,
    kiln_matmul_q2_K_avx2_gemm, kiln_matmul_q3_K_avx2_gemm, kiln_matmul_q4_K_avx2_gemm,
    kiln_matmul_q5_K_avx2_gemm, kiln_matmul_q6_K_avx2_gemm;
// The 32-block integer GEMM of matmul_q32_gemm_avx512.c with a ymm maddubs micro-kernel, for
// q4_0 (rows or x8), q4_1, q5_0, q5_1 (matmul_q32_gemm_avx2.c).
extern const struct kiln_cpu_kernel kiln_matmul_q32_int_avx2_gemm;
// The K-quant integer GEMM of matmul_kquant_gemm_avx512.c with a ymm maddubs micro-kernel
// (matmul_kquant_gemm_avx2.c).
extern const struct kiln_cpu_kernel kiln_matmul_kquant_int_avx2_gemm;
size_t kiln_matmul_xq8k_workspace(const struct kiln_op *op, int nth);
void kiln_matmul_xq8k_prepare(const struct kiln_op *op, void *ws, int ith, int nth);

// NEON (matmul_neon.c) and NEON+dotprod (matmul_neon_dotprod.c).
extern const struct kiln_cpu_kernel kiln_matmul_f32_neon, kiln_matmul_bf16_neon, kiln_matmul_f16_neon, kiln_matmul_q8_0_neon,
    kiln_matmul_q4_0_neon, kiln_matmul_q8_0_neon_dotprod, kiln_matmul_q4_0_neon_dotprod;
// K-quants against Q8_K x, every n (matmul_kquant_neon.c, matmul_kquant_neon_dotprod.c).
extern const struct kiln_cpu_kernel kiln_matmul_q2_K_neon, kiln_matmul_q3_K_neon, kiln_matmul_q4_K_neon,
    kiln_matmul_q5_K_neon, kiln_matmul_q6_K_neon, kiln_matmul_q2_K_neon_dotprod, kiln_matmul_q3_K_neon_dotprod,
    kiln_matmul_q4_K_neon_dotprod, kiln_matmul_q5_K_neon_dotprod, kiln_matmul_q6_K_neon_dotprod;
// q4_1, q5_0, q5_1 against Q8_0 x, every n (matmul_q451_neon.c, matmul_q451_neon_dotprod.c).
extern const struct kiln_cpu_kernel kiln_matmul_q4_1_neon, kiln_matmul_q5_0_neon, kiln_matmul_q5_1_neon,
    kiln_matmul_q4_1_neon_dotprod, kiln_matmul_q5_0_neon_dotprod, kiln_matmul_q5_1_neon_dotprod;
extern const struct kiln_cpu_kernel kiln_matmul_iq4_nl_neon, kiln_matmul_iq4_xs_neon, kiln_matmul_iq4_nl_neon_dotprod,
    kiln_matmul_iq4_xs_neon_dotprod;

// AVX-512 (F+BW+VL+VNNI): the packed f32 GEMM with a zmm micro-kernel, every W type the AVX2
// one takes (matmul_gemm_avx512.c); float GEMVs in zmm (matmul_avx512.c); the x8 GEMVs with
// EVEX vpdpbusd (matmul_x8_avx512.c); q4_1/q5_0/q5_1 GEMVs with vpdpbusd (matmul_q451_avx512.c);
// the K-quant tiles in zmm, GEMV and GEMM (matmul_kquant_tile_avx512.c).
extern const struct kiln_cpu_kernel kiln_matmul_avx512_gemm, kiln_matmul_f32_avx512_gemv,
    kiln_matmul_f16_avx512_gemv, kiln_matmul_bf16_avx512_gemv, kiln_matmul_q4_0x8_avx512_gemv,
    kiln_matmul_q8_0x8_avx512_gemv, kiln_matmul_q4_1_avx512_gemv, kiln_matmul_q5_0_avx512_gemv,
    kiln_matmul_q5_1_avx512_gemv, kiln_matmul_q2_K_avx512_gemv, kiln_matmul_q3_K_avx512_gemv,
    kiln_matmul_q4_K_avx512_gemv, kiln_matmul_q5_K_avx512_gemv, kiln_matmul_q6_K_avx512_gemv,
    kiln_matmul_q2_K_avx512_gemm, kiln_matmul_q3_K_avx512_gemm, kiln_matmul_q4_K_avx512_gemm,
    kiln_matmul_q5_K_avx512_gemm, kiln_matmul_q6_K_avx512_gemm;

// q8_0 and q4_0 GEMM with SMMLA, W rows and x columns in pairs (matmul_neon_i8mm.c).
extern const struct kiln_cpu_kernel kiln_matmul_q8_0_neon_i8mm_gemm, kiln_matmul_q4_0_neon_i8mm_gemm;

// q4_0, q8_0 (rows or x8), q4_1, q5_0, q5_1 GEMM on W unpacked to bytes and the same kind of
// micro-kernel, against Q8_0 x (matmul_q32_gemm_avx512.c).
extern const struct kiln_cpu_kernel kiln_matmul_q32_int_avx512_gemm;

// K-quant GEMM (q2_K..q6_K) on W unpacked to bytes per super-block and an int8 vpdpbusd
// micro-kernel of 4 rows x 32 x columns, against Q8_K x (matmul_kquant_gemm_avx512.c).
extern const struct kiln_cpu_kernel kiln_matmul_kquant_int_avx512_gemm;

// q4_K, q5_K and q6_K in the x16 layouts (quant/format/repack.h), GEMV, against Q8_K x
// (matmul_kquant_x16_avx512.c).
extern const struct kiln_cpu_kernel kiln_matmul_q4_Kx16_avx512_gemv, kiln_matmul_q5_Kx16_avx512_gemv,
    kiln_matmul_q6_Kx16_avx512_gemv, kiln_matmul_q2_Kx16_avx512_gemv, kiln_matmul_q3_Kx16_avx512_gemv;
// The same on AVX2 (maddubs; matmul_kquant_x16_avx2.c), but for q6_K (rows on AVX2: see there).
extern const struct kiln_cpu_kernel kiln_matmul_q4_Kx16_avx2_gemv, kiln_matmul_q5_Kx16_avx2_gemv,
    kiln_matmul_q2_Kx16_avx2_gemv, kiln_matmul_q3_Kx16_avx2_gemv;

// bf16 W against x rounded to bf16, vdpbf16ps (AVX512_BF16), GEMM (matmul_gemm_bf16_avx512.c).
extern const struct kiln_cpu_kernel kiln_matmul_bf16_dpbf16_avx512_gemm;

// Which kernels take which n (used by their table rows' `supports`).
enum kiln_status kiln_matmul_supports_gemv(const struct kiln_op *op);  // n < 16
enum kiln_status kiln_matmul_supports_gemm(const struct kiln_op *op);  // n >= 16
#define KILN_MATMUL_GEMM_MIN_N 16
