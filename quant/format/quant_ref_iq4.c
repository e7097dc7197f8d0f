// Reference IQ4_NL and IQ4_XS (ggml-quants.c: quantize_row_iq4_nl_impl, quantize_iq4_nl,
// quantize_iq4_xs, dequantize_row_iq4_*), byte-identical to ggml. float32 in the order written,
// no FMA contraction (-ffp-contract=off), as the other reference quantizers.
//
// Per block of 32 (IQ4_NL: one block per scale; IQ4_XS: eight blocks under one fp16 scale):
//   1. weights w_j = x_j^2 (or qw_j * sqrt(sigma2 + x_j^2) with an importance matrix, sigma2 =
//      2 * mean(x^2) over the super-block);
//   2. the scale from the element of largest |x| mapped to the outermost level (-127), codes the
//      nearest level, then the weighted least-squares scale sum(w q x) / sum(w q q);
//   3. 15 more trial scales (max / (itry - 127), itry = -7..7), keeping the best weighted fit;
//   4. IQ4_XS: the eight block scales as 6-bit signed multiples of d = -max_scale / 32, and the
//      codes re-chosen for the rounded scale. IQ4_NL: the codes re-chosen for its fp16 scale.
// Non-finite input stays defined: the level search and nearest_int are total functions.
#include <math.h>
#include <string.h>

#include "quant/format/blocks.h"
#include "quant/format/kquant_search.h"
#include "quant/format/quant_ref.h"

// Index of the level nearest to x (ggml's best_index_int8: ties go to the upper level).
static int nearest_level(float x) {
    const int8_t *v = kiln_iq4_values;
    if (x <= v[0])
        return 0;
    if (x >= v[15])
        return 15;
    int lo = 0, hi = 15;
    while (hi - lo > 1) {
        const int mid = (lo + hi) / 2;
        if (x < v[mid])
            hi = mid;
        else
            lo = mid;
    }
    return x - v[hi - 1] < v[hi] - x ? hi - 1 : hi;
}

// One super-block of sb elements (32 for IQ4_NL, 256 for IQ4_XS) in blocks of 32: the fp16
// scale, the packed codes and (IQ4_XS) the 6-bit block scales. ggml's impl with ntry = 7.
static void quantize_super_block(int sb, const float *x, kiln_half *dh, uint8_t *q4, uint16_t *scales_h,
                                 uint8_t *scales_l, const float *qw) {
    enum { NTRY = 7, BS = 32 };
    float scales[KILN_QK_K / BS], weight[BS];
    uint8_t L[KILN_QK_K];
    float sigma2 = 0;
    for (int j = 0; j < sb; ++j)
        sigma2 += x[j] * x[j];
    sigma2 *= 2.f / sb;
    memset(q4, 0, (size_t)sb / 2);
    *dh = kiln_f32_to_f16(0.f);
    float max_scale = 0, amax_scale = 0;
    const int8_t *values = kiln_iq4_values;
    for (int ib = 0; ib < sb / BS; ++ib) {
        const float *xb = x + ib * BS;
        uint8_t *Lb = L + ib * BS;
        for (int j = 0; j < BS; ++j)
            weight[j] = qw ? qw[ib * BS + j] * sqrtf(sigma2 + xb[j] * xb[j]) : xb[j] * xb[j];
        float amax;
        const float max = kiln_block_max(xb, BS, &amax);
        if (amax < KILN_GROUP_MAX_EPS) {
            scales[ib] = 0;
            continue;
        }
        float d = -max / values[0];
        float id = 1 / d;
        float sumqx = 0, sumq2 = 0;
        for (int j = 0; j < BS; ++j) {
            const int l = nearest_level(id * xb[j]);
            Lb[j] = (uint8_t)l;
            const float q = values[l], w = weight[j];
            sumqx += w * q * xb[j];
            sumq2 += w * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -NTRY; itry <= NTRY; ++itry) {
            id = (itry + values[0]) / max;
            sumqx = sumq2 = 0;
            for (int j = 0; j < BS; ++j) {
                const float q = values[nearest_level(id * xb[j])], w = weight[j];
                sumqx += w * q * xb[j];
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scales[ib] = d;
        const float abs_d = fabsf(d);
        if (abs_d > amax_scale) {
            amax_scale = abs_d;
            max_scale = d;
        }
    }
    if (sb / BS > 1) {
        *scales_h = 0;
        const float d = -max_scale / 32;
        *dh = kiln_f32_to_f16(d);
        const float id = d ? 1 / d : 0.f;
        for (int ib = 0; ib < sb / BS; ++ib) {
            int l = kiln_nearest_int(id * scales[ib]);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            const float dl = d * l;
            const float idl = dl ? 1 / dl : 0.f;
            for (int j = 0; j < BS; ++j)
                L[ib * BS + j] = (uint8_t)nearest_level(idl * x[ib * BS + j]);
            l += 32;
            const uint8_t l_l = (uint8_t)(l & 0xf), l_h = (uint8_t)(l >> 4);
            if (ib % 2 == 0)
                scales_l[ib / 2] = l_l;
            else
                scales_l[ib / 2] |= (uint8_t)(l_l << 4);
            *scales_h |= (uint16_t)(l_h << 2 * (ib % 8));
        }
    } else {
        *dh = kiln_f32_to_f16(scales[0]);
        const float id = scales[0] ? 1 / scales[0] : 0;
        for (int j = 0; j < sb; ++j)
            L[j] = (uint8_t)nearest_level(id * x[j]);
    }
    for (int i = 0; i < sb / 32; ++i)
        for (int j = 0; j < 16; ++j)
            q4[16 * i + j] = (uint8_t)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

void kiln_quantize_iq4_nl_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_iq4_nl *y = out;
    for (int64_t i = 0; i < n / KILN_QK4_NL; i++)
        quantize_super_block(KILN_QK4_NL, x + i * KILN_QK4_NL, &y[i].d, y[i].qs, NULL, NULL,
                             qw ? qw + i * KILN_QK4_NL : NULL);
}

void kiln_quantize_iq4_xs_weighted(const float *x, void *out, int64_t n, const float *qw) {
    struct kiln_block_iq4_xs *y = out;
    for (int64_t i = 0; i < n / KILN_QK_K; i++)
        quantize_super_block(KILN_QK_K, x + i * KILN_QK_K, &y[i].d, y[i].qs, &y[i].scales_h, y[i].scales_l,
                             qw ? qw + i * KILN_QK_K : NULL);
}

void kiln_quantize_iq4_nl_ref(const float *x, void *out, int64_t n) { kiln_quantize_iq4_nl_weighted(x, out, n, NULL); }
void kiln_quantize_iq4_xs_ref(const float *x, void *out, int64_t n) { kiln_quantize_iq4_xs_weighted(x, out, n, NULL); }

void kiln_dequantize_iq4_nl_ref(const void *in, float *y, int64_t n) {
    const struct kiln_block_iq4_nl *b = in;
    for (int64_t i = 0; i < n / KILN_QK4_NL; i++, y += KILN_QK4_NL) {
        const float d = kiln_f16_to_f32(b[i].d);
        for (int j = 0; j < KILN_QK4_NL / 2; ++j) {
            y[j] = d * kiln_iq4_values[b[i].qs[j] & 0xf];
            y[j + KILN_QK4_NL / 2] = d * kiln_iq4_values[b[i].qs[j] >> 4];
        }
    }
}

void kiln_dequantize_iq4_xs_ref(const void *in, float *y, int64_t n) {
    const struct kiln_block_iq4_xs *b = in;
    for (int64_t i = 0; i < n / KILN_QK_K; i++) {
        const float d = kiln_f16_to_f32(b[i].d);
        const uint8_t *qs = b[i].qs;
        for (int ib = 0; ib < KILN_QK_K / 32; ++ib, y += 32, qs += 16) {
            const int ls = ((b[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((b[i].scales_h >> 2 * ib) & 3) << 4);
            const float dl = d * (float)(ls - 32);
            for (int j = 0; j < 16; ++j) {
                y[j] = dl * kiln_iq4_values[qs[j] & 0xf];
                y[j + 16] = dl * kiln_iq4_values[qs[j] >> 4];
            }
        }
    }
}
