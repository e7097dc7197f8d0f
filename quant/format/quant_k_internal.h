// Internal to the K-quant files: the steps the reference (quant_ref_k.c) and the AVX2 versions
// (quant_k_avx2.c) share, so the bytes come from one piece of code after the searches.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "quant/format/fp16.h"

struct kiln_block_q2_K;
struct kiln_block_q3_K;

// Q4_K/Q5_K after the sub-block searches: 6-bit scale/min codes, fp16 super-scales, requant of
// the codes in L (nmax 15 or 31).
void kiln_kquant_q45_finish(const float *x, const float *scales, const float *mins, kiln_half *d_out,
                            kiln_half *dmin_out, uint8_t *sc_out, uint8_t *L, int nmax);
// Q5_K's bit layout: low nibbles into ql[128], 5th bits into qh[32].
void kiln_kquant_q5_pack(const uint8_t *L, uint8_t *qh, uint8_t *ql);

// Q4_K/Q5_K 6-bit codes: sub-block j's scale and min (spec §6.12).
static inline void kiln_get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

// The 2-bit code layout of Q2_K and Q3_K: four codes per byte, 128 elements per 32 bytes.
static inline void kiln_pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < 256; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

// AVX2 versions (quant_k_avx2.c), byte-identical to the reference.
void kiln_quantize_q4_K_avx2(const float *x, void *out, int64_t k);
void kiln_quantize_q5_K_avx2(const float *x, void *out, int64_t k);
void kiln_quantize_q6_K_avx2(const float *x, void *out, int64_t k);  // quant_q6_avx2.c
void kiln_quantize_q6_K_avx2_weighted(const float *x, void *out, int64_t k, const float *qw);
void kiln_quantize_q4_0_avx2_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q5_0_avx2_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q2_K_avx2(const float *x, void *out, int64_t k);  // quant_q2_avx2.c
// The weighted K-quants' pieces around the sub-block searches (quant_weighted.c), shared with
// the AVX2 drivers (quant_weighted_avx2.c).
void kiln_q2_K_weights(const float *x, const float *qw, float *weight, float *sw);
void kiln_q2_K_weighted_finish(const float *x, const float *scales, const float *mins, const float *sw,
                               struct kiln_block_q2_K *y, uint8_t *L);
void kiln_q3_K_weights(const float *x, const float *qw, float *weight, float *sw);
void kiln_q3_K_weighted_finish(const float *x, const float *scales, const float *sw, struct kiln_block_q3_K *y,
                               int8_t *L);
void kiln_q45_K_weights(const float *x, const float *qw, float *weights, float *sw);
void kiln_q45_K_weighted_finish(const float *x, const float *scales, const float *mins, const float *sw,
                                uint8_t *scales_out, kiln_half *d_out, kiln_half *dmin_out, uint8_t *L, int nmax);
void kiln_quantize_q2_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q3_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw);
// make_qx_quants(n, nmax, x + n * lane, L + n * lane, w + n * lane) for 8 blocks of n = 16 or 32
// (w NULL: x^2), AVX2 (quant_q6_avx2.c): scale[8], codes + nmax (0 below the epsilon).
// The 32-block types' sigma2 with an imatrix: the row's mean of x^2 (quant_weighted.c), and the
// weights qw * sqrt(sigma2 + x^2) of n elements (n a multiple of 8), AVX2 (quant_weighted_avx2.c).
float kiln_row_sigma2(const float *x, int64_t n);
void kiln_block_weights_avx2(const float *x, const float *qw, float sigma2, float *w, int64_t n);
void kiln_make_qx_x8_avx2(const float *x, const float *w, int n, int nmax, float *scale, int8_t *L);
// make_qkx2_quants / make_qkx3_quants for 8 blocks of n = 16 or 32 with weights w (laid out as
// x), AVX2 (quant_weighted_avx2.c): scale[8], the_min[8], codes L[n * lane + i].
void kiln_make_qkx_x8_avx2(const float *x, const float *w, int n, int nmax, float rmin, float rdelta, int nstep,
                           bool mad, float *scale, float *the_min, uint8_t *L);
void kiln_quantize_q4_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q5_K_avx2_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q4_1_avx2_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q5_1_avx2_weighted(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_q3_K_avx2(const float *x, void *out, int64_t k);  // quant_q3_avx2.c
void kiln_quantize_q8_0_avx2(const float *x, void *out, int64_t n);  // quant_q32_avx2.c
void kiln_quantize_q4_0_avx2(const float *x, void *out, int64_t n);
void kiln_quantize_q4_1_avx2(const float *x, void *out, int64_t n);
void kiln_quantize_q5_0_avx2(const float *x, void *out, int64_t n);
void kiln_quantize_q5_1_avx2(const float *x, void *out, int64_t n);
// quant_iq4_avx2.c: qw NULL = no importance matrix; _plain: the kiln_from_float_fn form.
void kiln_quantize_iq4_xs_avx2(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_iq4_nl_avx2(const float *x, void *out, int64_t n, const float *qw);
void kiln_quantize_iq4_xs_avx2_plain(const float *x, void *out, int64_t n);
void kiln_quantize_iq4_nl_avx2_plain(const float *x, void *out, int64_t n);
