// The K-quants' shared search routines (spec/ggml-formats.md §6.15), float32 in index order
// exactly as ggml's reference (compiled with -ffp-contract=off: bit-exactness depends on it).
#pragma once

#include <stdint.h>
#include <string.h>

#define KILN_GROUP_MAX_EPS 1e-15f

// Round to nearest, ties to even, via the 1.5 * 2^23 trick (ggml's nearest_int; defined for any
// float without undefined behaviour, exact for |v| <= 4194303).
static inline int kiln_nearest_int(float fval) {
    const float val = fval + 12582912.0f;
    int32_t i;
    memcpy(&i, &val, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

// Block max (spec §6): amax, and the signed value of the first element reaching it.
float kiln_block_max(const float *x, int n, float *amax_out);

float kiln_make_qx_quants(int n, int nmax, const float *x, int8_t *L, const float *qw);
float kiln_make_q3_quants(int n, int nmax, const float *x, int8_t *L);
float kiln_make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                            float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                            int use_mad);

// The importance-weighted searches (ggml's make_qkx3_quants and make_qp_quants), used only with
// an importance matrix (quant_weighted.c). weights may be NULL in make_qkx3 (then x^2).
float kiln_make_qkx3_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                            float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep);
float kiln_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights);
