// Internal to the K-quant files: the steps the reference (quant_ref_k.c) and the AVX2 versions
// (quant_k_avx2.c) share, so the bytes come from one piece of code after the searches.
#pragma once

#include <stdint.h>

#include "quant/format/fp16.h"

// Q4_K/Q5_K after the sub-block searches: 6-bit scale/min codes, fp16 super-scales, requant of
// the codes in L (nmax 15 or 31).
void kiln_kquant_q45_finish(const float *x, const float *scales, const float *mins, kiln_half *d_out,
                            kiln_half *dmin_out, uint8_t *sc_out, uint8_t *L, int nmax);
// Q5_K's bit layout: low nibbles into ql[128], 5th bits into qh[32].
void kiln_kquant_q5_pack(const uint8_t *L, uint8_t *qh, uint8_t *ql);

// AVX2 versions (quant_k_avx2.c), byte-identical to the reference.
void kiln_quantize_q4_K_avx2(const float *x, void *out, int64_t k);
void kiln_quantize_q5_K_avx2(const float *x, void *out, int64_t k);
