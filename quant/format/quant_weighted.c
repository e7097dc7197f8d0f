// Quantizers with an importance matrix: ggml's quantize_row_<type>_impl for Q2_K..Q6_K, Q4_0,
// Q4_1, Q5_0, Q5_1 (ggml-quants.c, llama-cpp-python 0.3.36's vendor tree), what llama-quantize
// runs with --imatrix; byte-identical (tests/data/kquant/*.imatrix.bin, scripts/peer-quantize-check.sh).
// float32 in ggml's order, no FMA contraction (-ffp-contract=off).
//
// qw is the imatrix row of the tensor's columns (one weight per element of x); the per-element
// weight is qw * sqrt(sigma2 + x^2), with sigma2 the mean of x^2 over the whole ROW for the
// 32-blocks, over the super-block (times 2 for Q3_K..Q5_K) for the K-quants; Q6_K uses qw alone.
// Q8_0 ignores the matrix (as ggml); IQ4_NL/IQ4_XS take it in quant_ref_iq4.c.
#include <math.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_ref.h"
#include "quant/format/quant_k_internal.h"

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }



void kiln_quantize_q2_K_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q2_K *y = out;
    uint8_t L[KILN_QK_K], Laux[16];
    float mins[16], scales[16], sw[16], weight[KILN_QK_K];
    for (int64_t i = 0; i < n / KILN_QK_K; i++, x += KILN_QK_K) {
        kiln_q2_K_weights(x, qw + KILN_QK_K * i, weight, sw);
        for (int j = 0; j < 16; ++j)
            scales[j] = kiln_make_qkx3_quants(16, 3, x + 16 * j, weight + 16 * j, L + 16 * j, &mins[j], Laux, -0.9f,
                                              0.05f, 36);
        kiln_q2_K_weighted_finish(x, scales, mins, sw, &y[i], L);
    }
}

// Q2_K's per-element weights qw * sqrt(sigma2 + x^2) (sigma2: the super-block's mean of x^2)
// and their sum per sub-block of 16, in ggml's order.
void kiln_q2_K_weights(const float *x, const float *qw, float *weight, float *sw) {
    float sumx2 = 0;
    for (int j = 0; j < KILN_QK_K; ++j)
        sumx2 += x[j] * x[j];
    const float sigma2 = sumx2 / KILN_QK_K;
    for (int j = 0; j < 16; ++j) {
        sw[j] = 0;
        for (int l = 0; l < 16; ++l)
            weight[16 * j + l] = qw[16 * j + l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
        for (int l = 0; l < 16; ++l)
            sw[j] += weight[16 * j + l];
    }
}

// After the 16 sub-block searches: the 4-bit scales and mins (make_qp_quants), the codes
// requantized with the rounded scales, packed.
void kiln_q2_K_weighted_finish(const float *x, const float *scales, const float *mins, const float *sw,
                               struct kiln_block_q2_K *y, uint8_t *L) {
    uint8_t Ls[16], Lm[16];
    float dm = kiln_make_qp_quants(16, 15, scales, Ls, sw);
    float mm = kiln_make_qp_quants(16, 15, mins, Lm, sw);
    y->d = kiln_f32_to_f16(dm);
    y->dmin = kiln_f32_to_f16(mm);
    dm = kiln_f16_to_f32(y->d);
    mm = kiln_f16_to_f32(y->dmin);
    for (int j = 0; j < 16; ++j)
        y->scales[j] = (uint8_t)(Ls[j] | (Lm[j] << 4));
    for (int j = 0; j < 16; ++j) {  // requantize with the rounded scales
        const float d = dm * (y->scales[j] & 0xF);
        if (!d)
            continue;
        const float m = mm * (y->scales[j] >> 4);
        for (int ii = 0; ii < 16; ++ii)
            L[16 * j + ii] = (uint8_t)clampi(kiln_nearest_int((x[16 * j + ii] + m) / d), 0, 3);
    }
    kiln_pack_2bit(L, y->qs);
}

void kiln_quantize_q3_K_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q3_K *y = out;
    int8_t L[KILN_QK_K];
    float scales[16], weight[KILN_QK_K], sw[16];
    for (int64_t i = 0; i < n / KILN_QK_K; i++, x += KILN_QK_K) {
        kiln_q3_K_weights(x, qw + KILN_QK_K * i, weight, sw);
        for (int j = 0; j < 16; ++j)
            scales[j] = kiln_make_qx_quants(16, 4, x + 16 * j, L + 16 * j, weight + 16 * j);
        kiln_q3_K_weighted_finish(x, scales, sw, &y[i], L);
    }
}

// Q3_K's per-element weights qw * sqrt(sigma2 + x^2) (sigma2: twice the super-block's mean of
// x^2) and their sums per sub-block of 16, in ggml's order.
void kiln_q3_K_weights(const float *x, const float *qw, float *weight, float *sw) {
    float sumx2 = 0;
    for (int j = 0; j < KILN_QK_K; ++j)
        sumx2 += x[j] * x[j];
    const float sigma2 = 2 * sumx2 / KILN_QK_K;
    for (int j = 0; j < 16; ++j) {
        for (int l = 0; l < 16; ++l)
            weight[16 * j + l] = qw[16 * j + l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
        float sumw = 0;
        for (int l = 0; l < 16; ++l)
            sumw += weight[16 * j + l];
        sw[j] = sumw;
    }
}

// After the 16 sub-block searches: the 6-bit scales (make_qx_quants over them), the codes
// requantized with the rounded scales, hmask and packing.
void kiln_q3_K_weighted_finish(const float *x, const float *scales, const float *sw, struct kiln_block_q3_K *y,
                               int8_t *L) {
    int8_t Ls[16];
    memset(y->scales, 0, 12);
    const float d_block = kiln_make_qx_quants(16, 32, scales, Ls, sw);
    for (int j = 0; j < 16; ++j) {
        int l = Ls[j];
        if (j < 8)
            y->scales[j] = (uint8_t)(l & 0xF);
        else
            y->scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
        l >>= 4;
        y->scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
    }
    y->d = kiln_f32_to_f16(d_block);
    for (int j = 0; j < 16; ++j) {
        int8_t sc = (int8_t)(j < 8 ? y->scales[j] & 0xF : y->scales[j - 8] >> 4);
        sc = (int8_t)((sc | (((y->scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
        const float d = kiln_f16_to_f32(y->d) * sc;
        if (!d)
            continue;
        for (int ii = 0; ii < 16; ++ii)
            L[16 * j + ii] = (int8_t)(clampi(kiln_nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
    }
    // hmask bit j / 32 of byte j % 32: code j above 3 (then it drops that bit), as ggml's loop but
    // without its branch per code, which mispredicted about half the time.
    memset(y->hmask, 0, 32);
    for (int j = 0; j < KILN_QK_K; ++j) {
        const int high = L[j] > 3;
        y->hmask[j % 32] |= (uint8_t)(high << (j / 32));
        L[j] = (int8_t)(L[j] - 4 * high);
    }
    kiln_pack_2bit((const uint8_t *)L, y->qs);
}

// Q4_K/Q5_K's per-element weights qw * sqrt(sigma2 + x^2) (sigma2: twice the super-block's mean
// of x^2) and their sum per sub-block of 32, in ggml's order.
void kiln_q45_K_weights(const float *x, const float *qw, float *weights, float *sw) {
    float sum_x2 = 0;
    for (int l = 0; l < KILN_QK_K; ++l)
        sum_x2 += x[l] * x[l];
    const float sigma2 = 2 * sum_x2 / KILN_QK_K;
    for (int j = 0; j < 8; ++j) {
        for (int l = 0; l < 32; ++l)
            weights[32 * j + l] = qw[32 * j + l] * sqrtf(sigma2 + x[32 * j + l] * x[32 * j + l]);
        float sumw = 0;
        for (int l = 0; l < 32; ++l)
            sumw += weights[32 * j + l];
        sw[j] = sumw;
    }
}

// After the 8 sub-block searches: the 6-bit scales and mins (make_qp_quants), packed as
// Q4_K/Q5_K pack them, and the codes requantized with the rounded scales.
void kiln_q45_K_weighted_finish(const float *x, const float *scales, const float *mins, const float *sw,
                                uint8_t *scales_out, kiln_half *d_out, kiln_half *dmin_out, uint8_t *L, int nmax) {
    uint8_t Ls[8], Lm[8];
    const float d_block = kiln_make_qp_quants(8, 63, scales, Ls, sw);
    const float m_block = kiln_make_qp_quants(8, 63, mins, Lm, sw);
    for (int j = 0; j < 8; ++j) {
        uint8_t ls = Ls[j], lm = Lm[j];
        if (nmax == 31) {  // ggml clamps Q5_K's codes here (Q4_K's are at most 63 already)
            ls = ls < 63 ? ls : 63;
            lm = lm < 63 ? lm : 63;
        }
        if (j < 4) {
            scales_out[j] = ls;
            scales_out[j + 4] = lm;
        } else {
            scales_out[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            scales_out[j - 4] |= (uint8_t)((ls >> 4) << 6);
            scales_out[j - 0] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d_out = kiln_f32_to_f16(d_block);
    *dmin_out = kiln_f32_to_f16(m_block);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        kiln_get_scale_min_k4(j, scales_out, &sc, &m);
        const float d = kiln_f16_to_f32(*d_out) * sc;
        if (!d)
            continue;
        const float dm = kiln_f16_to_f32(*dmin_out) * m;
        for (int ii = 0; ii < 32; ++ii)
            L[32 * j + ii] = (uint8_t)clampi(kiln_nearest_int((x[32 * j + ii] + dm) / d), 0, nmax);
    }
}

// Q4_K and Q5_K share everything but the code range and the 5th-bit packing.
static void q45_K_weighted(const float *x, uint8_t *scales_out, kiln_half *d_out, kiln_half *dmin_out,
                           uint8_t L[KILN_QK_K], int nmax, const float *qw) {
    uint8_t Laux[32];
    float weights[KILN_QK_K], sw[8], mins[8], scales[8];
    kiln_q45_K_weights(x, qw, weights, sw);
    for (int j = 0; j < 8; ++j)
        scales[j] = kiln_make_qkx3_quants(32, nmax, x + 32 * j, weights + 32 * j, L + 32 * j, &mins[j], Laux, -0.9f,
                                          0.05f, 36);
    kiln_q45_K_weighted_finish(x, scales, mins, sw, scales_out, d_out, dmin_out, L, nmax);
}

void kiln_quantize_q4_K_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q4_K *y = out;
    uint8_t L[KILN_QK_K];
    for (int64_t i = 0; i < n / KILN_QK_K; i++, x += KILN_QK_K) {
        q45_K_weighted(x, y[i].scales, &y[i].d, &y[i].dmin, L, 15, qw + KILN_QK_K * i);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < KILN_QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; ++l)
                q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void kiln_quantize_q5_K_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q5_K *y = out;
    uint8_t L[KILN_QK_K];
    for (int64_t i = 0; i < n / KILN_QK_K; i++, x += KILN_QK_K) {
        q45_K_weighted(x, y[i].scales, &y[i].d, &y[i].dmin, L, 31, qw + KILN_QK_K * i);
        kiln_kquant_q5_pack(L, y[i].qh, y[i].qs);
    }
}

void kiln_quantize_q6_K_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q6_K *y = out;
    int8_t L[KILN_QK_K];
    float scales[16];
    for (int64_t i = 0; i < n / KILN_QK_K; i++, x += KILN_QK_K) {
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < 16; ++ib) {
            const float scale = kiln_make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, qw + KILN_QK_K * i + 16 * ib);
            scales[ib] = scale;
            const float abs_scale = fabsf(scale);
            if (abs_scale > max_abs_scale) {
                max_abs_scale = abs_scale;
                max_scale = scale;
            }
        }
        if (max_abs_scale < KILN_GROUP_MAX_EPS) {
            memset(&y[i], 0, sizeof y[i]);
            y[i].d = kiln_f32_to_f16(0.f);
            continue;
        }
        const float iscale = -128.f / max_scale;
        y[i].d = kiln_f32_to_f16(1 / iscale);
        for (int ib = 0; ib < 16; ++ib) {
            const int v = kiln_nearest_int(iscale * scales[ib]);
            y[i].scales[ib] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < 16; ++j) {
            const float d = kiln_f16_to_f32(y[i].d) * y[i].scales[j];
            if (!d)
                continue;
            for (int ii = 0; ii < 16; ++ii)
                L[16 * j + ii] = (int8_t)(clampi(kiln_nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < KILN_QK_K; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
                const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                  ((L[j + l + 96] >> 4) << 6));
            }
        }
    }
}

// sigma2 of the 32-block types: the mean of x^2 over the whole row.
float kiln_row_sigma2(const float *x, int64_t n) {
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j)
        sum_x2 += x[j] * x[j];
    return sum_x2 / n;
}

void kiln_quantize_q4_0_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q4_0 *y = out;
    float weight[32];
    int8_t L[32];
    const float sigma2 = kiln_row_sigma2(x, n);
    for (int64_t ib = 0; ib < n / 32; ++ib) {
        const float *xb = x + 32 * ib, *w = qw + 32 * ib;
        for (int j = 0; j < 32; ++j)
            weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        y[ib].d = kiln_f32_to_f16(kiln_make_qx_quants(32, 8, xb, L, weight));
        for (int j = 0; j < 16; ++j)
            y[ib].qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

void kiln_quantize_q4_1_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q4_1 *y = out;
    float weight[32];
    uint8_t L[32], Laux[32];
    const float sigma2 = kiln_row_sigma2(x, n);
    for (int64_t ib = 0; ib < n / 32; ++ib) {
        const float *xb = x + 32 * ib, *w = qw + 32 * ib;
        for (int j = 0; j < 32; ++j)
            weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float min;
        const float d = kiln_make_qkx3_quants(32, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36);
        y[ib].d = kiln_f32_to_f16(d);
        y[ib].m = kiln_f32_to_f16(-min);
        for (int j = 0; j < 16; ++j)
            y[ib].qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

static void pack_q5(const uint8_t *L, uint8_t qs[16], uint8_t qh_out[4]) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const uint8_t xi0 = L[j], xi1 = L[j + 16];
        qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
        qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
    }
    memcpy(qh_out, &qh, 4);
}

void kiln_quantize_q5_0_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q5_0 *y = out;
    float weight[32];
    int8_t L[32];
    const float sigma2 = kiln_row_sigma2(x, n);
    for (int64_t ib = 0; ib < n / 32; ++ib) {
        const float *xb = x + 32 * ib, *w = qw + 32 * ib;
        for (int j = 0; j < 32; ++j)
            weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        y[ib].d = kiln_f32_to_f16(kiln_make_qx_quants(32, 16, xb, L, weight));
        pack_q5((const uint8_t *)L, y[ib].qs, y[ib].qh);
    }
}

void kiln_quantize_q5_1_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_q5_1 *y = out;
    float weight[32];
    uint8_t L[32], Laux[32];
    const float sigma2 = kiln_row_sigma2(x, n);
    for (int64_t ib = 0; ib < n / 32; ++ib) {
        const float *xb = x + 32 * ib, *w = qw + 32 * ib;
        for (int j = 0; j < 32; ++j)
            weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float min;
        const float d = kiln_make_qkx3_quants(32, 31, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36);
        y[ib].d = kiln_f32_to_f16(d);
        y[ib].m = kiln_f32_to_f16(-min);
        pack_q5(L, y[ib].qs, y[ib].qh);
    }
}
