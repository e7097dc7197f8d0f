// Reference quantize/dequantize of the K-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (and Q8_K for
// activations), written from spec/ggml-formats.md §6.9-6.15: the scale searches of
// kquant_search.c, the sub-block codes quantized against the super-scales, then "requant" —
// codes recomputed from the stored fp16 values. Compiled with -ffp-contract=off (§1.3).
// Output is byte-identical to ggml's quantize_row_*_ref (no importance matrix).
// Narrowing conversions reproduce ggml's C casts (int -> uint8/int8 keeps the low byte).
#include <math.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_ref.h"
#include "quant/format/quant_k_internal.h"

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }



void kiln_quantize_q2_K_ref(const float *x, void *out, int64_t k) {
    struct kiln_block_q2_K *y = out;
    uint8_t L[KILN_QK_K], Laux[16];
    float weights[16], mins[KILN_QK_K / 16], scales[KILN_QK_K / 16];
    const float q4scale = 15.f;
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            for (int l = 0; l < 16; ++l)
                weights[l] = fabsf(x[16 * j + l]);
            scales[j] = kiln_make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux,
                                              -0.5f, 0.1f, 15, 1);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            const float iscale = q4scale / max_scale;
            for (int j = 0; j < KILN_QK_K / 16; ++j)
                y[i].scales[j] = (uint8_t)kiln_nearest_int(iscale * scales[j]);
            y[i].d = kiln_f32_to_f16(max_scale / q4scale);
        } else {
            memset(y[i].scales, 0, sizeof y[i].scales);
            y[i].d = kiln_f32_to_f16(0.f);
        }
        if (max_min > 0) {
            const float iscale = q4scale / max_min;
            for (int j = 0; j < KILN_QK_K / 16; ++j)
                y[i].scales[j] |= (uint8_t)((unsigned)kiln_nearest_int(iscale * mins[j]) << 4);  // NaN: no UB
            y[i].dmin = kiln_f32_to_f16(max_min / q4scale);
        } else {
            y[i].dmin = kiln_f32_to_f16(0.f);
        }
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            const float d = kiln_f16_to_f32(y[i].d) * (y[i].scales[j] & 0xF);
            if (!d)
                continue;
            const float dm = kiln_f16_to_f32(y[i].dmin) * (y[i].scales[j] >> 4);
            for (int ii = 0; ii < 16; ++ii)
                L[16 * j + ii] = (uint8_t)clampi(kiln_nearest_int((x[16 * j + ii] + dm) / d), 0, 3);
        }
        kiln_pack_2bit(L, y[i].qs);
    }
}

void kiln_quantize_q3_K_ref(const float *x, void *out, int64_t k) {
    struct kiln_block_q3_K *y = out;
    int8_t L[KILN_QK_K];
    float scales[KILN_QK_K / 16];
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            scales[j] = kiln_make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
            const float scale = fabsf(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }
        memset(y[i].scales, 0, 12);
        if (max_scale) {
            const float iscale = -32.f / max_scale;
            for (int j = 0; j < KILN_QK_K / 16; ++j) {
                int8_t l = (int8_t)(uint8_t)kiln_nearest_int(iscale * scales[j]);
                l = (int8_t)(clampi(l, -32, 31) + 32);
                if (j < 8)
                    y[i].scales[j] = (uint8_t)(l & 0xF);
                else
                    y[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                l >>= 4;
                y[i].scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
            }
            y[i].d = kiln_f32_to_f16(1 / iscale);
        } else {
            y[i].d = kiln_f32_to_f16(0.f);
        }
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            int8_t sc = (int8_t)(j < 8 ? y[i].scales[j] & 0xF : y[i].scales[j - 8] >> 4);
            sc = (int8_t)((sc | (((y[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
            const float d = kiln_f16_to_f32(y[i].d) * sc;
            if (!d)
                continue;
            for (int ii = 0; ii < 16; ++ii)
                L[16 * j + ii] = (int8_t)(clampi(kiln_nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
        }
        memset(y[i].hmask, 0, sizeof y[i].hmask);
        int m = 0;
        uint8_t hm = 1;
        for (int j = 0; j < KILN_QK_K; ++j) {
            if (L[j] > 3) {
                y[i].hmask[m] |= hm;
                L[j] = (int8_t)(L[j] - 4);
            }
            if (++m == KILN_QK_K / 8) {
                m = 0;
                hm = (uint8_t)(hm << 1);
            }
        }
        kiln_pack_2bit((const uint8_t *)L, y[i].qs);
    }
}

// Q4_K and Q5_K share everything but the code range and the packing.
void kiln_kquant_q45_finish(const float *x, const float *scales, const float *mins, kiln_half *d_out,
                            kiln_half *dmin_out, uint8_t *sc_out, uint8_t *L, int nmax) {
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < KILN_QK_K / 32; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    memset(sc_out, 0, 12);
    for (int j = 0; j < KILN_QK_K / 32; ++j) {
        uint8_t ls = (uint8_t)kiln_nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)kiln_nearest_int(inv_min * mins[j]);
        ls = ls < 63 ? ls : 63;
        lm = lm < 63 ? lm : 63;
        if (j < 4) {
            sc_out[j] = ls;
            sc_out[j + 4] = lm;
        } else {
            sc_out[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            sc_out[j - 4] |= (uint8_t)((ls >> 4) << 6);
            sc_out[j - 0] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d_out = kiln_f32_to_f16(max_scale / 63.f);
    *dmin_out = kiln_f32_to_f16(max_min / 63.f);
    for (int j = 0; j < KILN_QK_K / 32; ++j) {
        uint8_t sc, m;
        kiln_get_scale_min_k4(j, sc_out, &sc, &m);
        const float d = kiln_f16_to_f32(*d_out) * sc;
        if (!d)
            continue;
        const float dm = kiln_f16_to_f32(*dmin_out) * m;
        for (int ii = 0; ii < 32; ++ii)
            L[32 * j + ii] = (uint8_t)clampi(kiln_nearest_int((x[32 * j + ii] + dm) / d), 0, nmax);
    }
}

static void quantize_q45_K(const float *x, kiln_half *d_out, kiln_half *dmin_out, uint8_t *sc_out,
                           uint8_t *L, int nmax, float rmin, int nstep) {
    uint8_t Laux[32];
    float weights[32], mins[KILN_QK_K / 32], scales[KILN_QK_K / 32];
    for (int j = 0; j < KILN_QK_K / 32; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l)
            sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; ++l)
            weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = kiln_make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                          rmin, 0.1f, nstep, 0);
    }
    kiln_kquant_q45_finish(x, scales, mins, d_out, dmin_out, sc_out, L, nmax);
}

void kiln_quantize_q4_K_ref(const float *x, void *out, int64_t k) {
    struct kiln_block_q4_K *y = out;
    uint8_t L[KILN_QK_K];
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        quantize_q45_K(x, &y[i].d, &y[i].dmin, y[i].scales, L, 15, -1.f, 20);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < KILN_QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; ++l)
                q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void kiln_kquant_q5_pack(const uint8_t *L, uint8_t *qh, uint8_t *ql) {
    memset(qh, 0, KILN_QK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < KILN_QK_K; n += 64, ql += 32) {
        for (int j = 0; j < 32; ++j) {
            int l1 = L[n + j];
            if (l1 > 15) {
                l1 -= 16;
                qh[j] |= m1;
            }
            int l2 = L[n + j + 32];
            if (l2 > 15) {
                l2 -= 16;
                qh[j] |= m2;
            }
            ql[j] = (uint8_t)(l1 | (l2 << 4));
        }
        m1 = (uint8_t)(m1 << 2);
        m2 = (uint8_t)(m2 << 2);
    }
}

void kiln_quantize_q5_K_ref(const float *x, void *out, int64_t k) {
    struct kiln_block_q5_K *y = out;
    uint8_t L[KILN_QK_K];
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        quantize_q45_K(x, &y[i].d, &y[i].dmin, y[i].scales, L, 31, -0.5f, 15);
        kiln_kquant_q5_pack(L, y[i].qh, y[i].qs);
    }
}

void kiln_quantize_q6_K_ref(const float *x, void *out, int64_t k) {
    struct kiln_block_q6_K *y = out;
    int8_t L[KILN_QK_K];
    float scales[KILN_QK_K / 16];
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < KILN_QK_K / 16; ++ib) {
            const float scale = kiln_make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, NULL);
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
        for (int ib = 0; ib < KILN_QK_K / 16; ++ib) {
            const int v = kiln_nearest_int(iscale * scales[ib]);
            y[i].scales[ib] = (int8_t)(uint8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            const float d = kiln_f16_to_f32(y[i].d) * y[i].scales[j];
            if (!d)
                continue;
            for (int ii = 0; ii < 16; ++ii)
                L[16 * j + ii] = (int8_t)(clampi(kiln_nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < KILN_QK_K; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF;
                const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                  ((L[j + l + 96] >> 4) << 6));
            }
        }
    }
}

void kiln_quantize_q8_K_ref(const float *x, void *out, int64_t k) {
    struct kiln_block_q8_K *y = out;
    for (int64_t i = 0; i < k / KILN_QK_K; i++, x += KILN_QK_K) {
        float amax;
        const float max = kiln_block_max(x, KILN_QK_K, &amax);
        if (!amax) {  // ggml leaves bsums unwritten here; kiln zeroes them (spec §6.9)
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < KILN_QK_K; ++j) {
            const int v = kiln_nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(uint8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < KILN_QK_K / 16; ++j) {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii)
                sum += y[i].qs[j * 16 + ii];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

// ---- dequantization, element by element from spec §8 (every product is exact in f32) ----

void kiln_dequantize_q2_K_ref(const void *in, float *y, int64_t k) {
    const struct kiln_block_q2_K *x = in;
    for (int64_t i = 0; i < k / KILN_QK_K; i++, y += KILN_QK_K) {
        const float D = kiln_f16_to_f32(x[i].d), M = kiln_f16_to_f32(x[i].dmin);
        for (int e = 0; e < KILN_QK_K; e++) {
            const int h = e / 128, g = (e % 128) / 32, l = e % 32, sc = x[i].scales[e / 16];
            const int q = (x[i].qs[32 * h + l] >> (2 * g)) & 3;
            y[e] = D * (float)(sc & 15) * (float)q - M * (float)(sc >> 4);
        }
    }
}

// Q3_K's 6-bit scale code of sub-block j (spec §6.11).
static inline int q3_scale(const uint8_t *s, int j) {
    const int low = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
    const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | high << 4) - 32;
}

void kiln_dequantize_q3_K_ref(const void *in, float *y, int64_t k) {
    const struct kiln_block_q3_K *x = in;
    for (int64_t i = 0; i < k / KILN_QK_K; i++, y += KILN_QK_K) {
        const float D = kiln_f16_to_f32(x[i].d);
        for (int e = 0; e < KILN_QK_K; e++) {
            const int h = e / 128, g = (e % 128) / 32, l = e % 32;
            const int low = (x[i].qs[32 * h + l] >> (2 * g)) & 3;
            const int hbit = (x[i].hmask[e % 32] >> (e / 32)) & 1;
            y[e] = D * (float)q3_scale(x[i].scales, e / 16) * (float)(low - (hbit ? 0 : 4));
        }
    }
}

static inline int q45_nibble(const uint8_t *qs, int e) {
    const int c = e / 64, l = e % 32;
    return (e % 64) < 32 ? qs[32 * c + l] & 15 : qs[32 * c + l] >> 4;
}

void kiln_dequantize_q4_K_ref(const void *in, float *y, int64_t k) {
    const struct kiln_block_q4_K *x = in;
    for (int64_t i = 0; i < k / KILN_QK_K; i++, y += KILN_QK_K) {
        const float D = kiln_f16_to_f32(x[i].d), M = kiln_f16_to_f32(x[i].dmin);
        for (int e = 0; e < KILN_QK_K; e++) {
            uint8_t sc, m;
            kiln_get_scale_min_k4(e / 32, x[i].scales, &sc, &m);
            y[e] = D * (float)sc * (float)q45_nibble(x[i].qs, e) - M * (float)m;
        }
    }
}

void kiln_dequantize_q5_K_ref(const void *in, float *y, int64_t k) {
    const struct kiln_block_q5_K *x = in;
    for (int64_t i = 0; i < k / KILN_QK_K; i++, y += KILN_QK_K) {
        const float D = kiln_f16_to_f32(x[i].d), M = kiln_f16_to_f32(x[i].dmin);
        for (int e = 0; e < KILN_QK_K; e++) {
            uint8_t sc, m;
            kiln_get_scale_min_k4(e / 32, x[i].scales, &sc, &m);
            const int q = q45_nibble(x[i].qs, e) + 16 * ((x[i].qh[e % 32] >> (e / 32)) & 1);
            y[e] = D * (float)sc * (float)q - M * (float)m;
        }
    }
}

void kiln_dequantize_q6_K_ref(const void *in, float *y, int64_t k) {
    const struct kiln_block_q6_K *x = in;
    for (int64_t i = 0; i < k / KILN_QK_K; i++, y += KILN_QK_K) {
        const float D = kiln_f16_to_f32(x[i].d);
        for (int e = 0; e < KILN_QK_K; e++) {
            const int h = e / 128, r = e % 128, g = r / 32, l = r % 32;
            const uint8_t *ql = x[i].ql + 64 * h;
            const int low = g == 0 ? ql[l] & 15 : g == 1 ? ql[32 + l] & 15 : g == 2 ? ql[l] >> 4 : ql[32 + l] >> 4;
            const int high = (x[i].qh[32 * h + l] >> (2 * g)) & 3;
            y[e] = D * (float)x[i].scales[e / 16] * (float)((low | high << 4) - 32);
        }
    }
}
