// Reference quantizers and dequantizers (byte-identical to ggml's *_ref; spec/ggml-formats.md §6).
// Each converts one row of n elements, n a multiple of the type's block size.
#pragma once

#include <stdint.h>

void kiln_quantize_q4_0_ref(const float *x, void *out, int64_t n);
void kiln_quantize_q4_1_ref(const float *x, void *out, int64_t n);
void kiln_quantize_q5_0_ref(const float *x, void *out, int64_t n);
void kiln_quantize_q5_1_ref(const float *x, void *out, int64_t n);
void kiln_quantize_q8_0_ref(const float *x, void *out, int64_t n);
void kiln_quantize_q8_1_ref(const float *x, void *out, int64_t n);

void kiln_dequantize_q4_0_ref(const void *in, float *y, int64_t n);
void kiln_dequantize_q4_1_ref(const void *in, float *y, int64_t n);
void kiln_dequantize_q5_0_ref(const void *in, float *y, int64_t n);
void kiln_dequantize_q5_1_ref(const void *in, float *y, int64_t n);
void kiln_dequantize_q8_0_ref(const void *in, float *y, int64_t n);

// K-quants (quant_ref_k.c): super-blocks of 256.
void kiln_quantize_q2_K_ref(const float *x, void *out, int64_t n);
void kiln_quantize_q3_K_ref(const float *x, void *out, int64_t n);
void kiln_quantize_q4_K_ref(const float *x, void *out, int64_t n);
void kiln_quantize_q5_K_ref(const float *x, void *out, int64_t n);
void kiln_quantize_q6_K_ref(const float *x, void *out, int64_t n);
void kiln_quantize_q8_K_ref(const float *x, void *out, int64_t n);
void kiln_dequantize_q2_K_ref(const void *in, float *y, int64_t n);
void kiln_dequantize_q3_K_ref(const void *in, float *y, int64_t n);
void kiln_dequantize_q4_K_ref(const void *in, float *y, int64_t n);
void kiln_dequantize_q5_K_ref(const void *in, float *y, int64_t n);
void kiln_dequantize_q6_K_ref(const void *in, float *y, int64_t n);

// Non-linear 4-bit (quant_ref_iq4.c): IQ4_NL (blocks of 32), IQ4_XS (super-blocks of 256). The
// quantizers are ggml's quantize_iq4_nl / quantize_iq4_xs (what llama-quantize writes: 7 scale
// trials per block); `qw` is an importance weight per element (an imatrix row) or NULL.
void kiln_quantize_iq4_nl_ref(const float *x, void *out, int64_t n);
void kiln_quantize_iq4_xs_ref(const float *x, void *out, int64_t n);
void kiln_quantize_iq4_nl_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_iq4_xs_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_dequantize_iq4_nl_ref(const void *in, float *y, int64_t n);
void kiln_dequantize_iq4_xs_ref(const void *in, float *y, int64_t n);

// With an importance matrix (quant_weighted.c): ggml's quantize_row_<type>_impl, x one whole row
// of n elements (the 32-block types' weights depend on the row's mean square), qw its n weights.
void kiln_quantize_q2_K_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q3_K_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q4_K_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q5_K_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q6_K_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q4_0_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q4_1_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q5_0_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q5_1_weighted(const float *x, void *out, int64_t n, const float *qw);
