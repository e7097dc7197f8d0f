// The reference for a matmul row that rounds its inputs (kernel.h enum kiln_input_rounding):
// the same rounding, written here in scalar C from the formula the enum names, then the exact
// reference matmul (double accumulation) on the rounded values. A kernel's activation quantizer
// that rounds any other way (truncation, amax/63, one scale per row) differs from this by far
// more than f32 accumulation does, so the tight ceiling catches it.
//
// Also the noise the rounding itself is expected to add against the exact reference on these
// inputs: rounding to a step d adds d^2/12 per element (uniform error), which reaches output i
// of row j weighted by w[i][k]^2; f16 rounding adds u16^2/3 of the squared value.
#include "bench/opcheck_rounding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernel.h"
#include "bench/opcheck.h"
#include "bench/tolerance.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant_ref.h"

static float round_f16(float v) { return kiln_f16_to_f32(kiln_f32_to_f16(v)); }

static float clamp_code(float q) { return q > 127.0f ? 127.0f : q < -128.0f ? -128.0f : q; }

// One row of x as the row sees it; adds sum of the per-element rounding variance times
// colw2[k] (the energy of W's column k) to *noise.
static void round_x_row(enum kiln_input_rounding r, const float *x, float *out, int64_t k,
                        const double *colw2, double *noise) {
    if (r == KILN_ROUND_X_F16 || r == KILN_ROUND_WX_F16) {
        for (int64_t i = 0; i < k; i++) {
            out[i] = round_f16(x[i]);
            *noise += kiln_rounding_relative_noise(KILN_ROUND_X_F16) * (double)x[i] * x[i] * colw2[i];
        }
        return;
    }
    if (r == KILN_ROUND_X_Q8_K) {
        // kiln's reference Q8_K quantizer (checked against ggml's: tests/data/kquant), then
        // code * d: what the integer dot of a Q8_K kernel sees.
        struct kiln_block_q8_K blk;
        for (int64_t b = 0; b < k; b += KILN_QK_K) {
            kiln_quantize_q8_K_ref(x + b, &blk, KILN_QK_K);
            for (int i = 0; i < KILN_QK_K; i++) {
                out[b + i] = (float)blk.qs[i] * blk.d;
                *noise += (double)blk.d * blk.d / 12.0 * colw2[b + i];
            }
        }
        return;
    }
    for (int64_t b = 0; b < k; b += 32) {
        float amax = 0.0f;
        for (int i = 0; i < 32; i++)
            amax = fmaxf(amax, fabsf(x[b + i]));
        const float d = amax / 127.0f;
        float id, scale;
        switch (r) {
        case KILN_ROUND_X_Q8_0_INV127:  // matmul_avx2.c quantize_row_q8_0_avx2
            id = amax != 0.0f ? 127.0f / amax : 0.0f;
            scale = round_f16(d);
            break;
        case KILN_ROUND_X_Q8_0_INVD:    // matmul_neon.c quantize_row_q8_0_neon
            id = d != 0.0f ? 1.0f / d : 0.0f;
            scale = round_f16(d);
            break;
        default:                        // matmul_dp4a_cuda.cu quantize_x_kernel
            id = d != 0.0f ? 1.0f / d : 0.0f;
            scale = d;
            break;
        }
        for (int i = 0; i < 32; i++) {
            const float q = clamp_code(rintf(x[b + i] * id));  // RNE (the default mode)
            out[b + i] = q * scale;
            *noise += (double)scale * scale / 12.0 * colw2[b + i];
        }
    }
}

enum kiln_status kiln_check_rounded_matmul(struct kiln_device *cpu, const struct kiln_op *op,
                                           enum kiln_input_rounding r, const struct kiln_tensor *dst,
                                           double *noise) {
    const struct kiln_tensor *w = &op->src[0], *x = &op->src[1];
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    const kiln_to_float_fn w_to_float = kiln_type_traits(w->type)->to_float;
    struct kiln_buffer *wbuf = NULL, *xbuf = NULL;
    double *colw2 = calloc((size_t)k, sizeof(double)), *colx2 = calloc((size_t)k, sizeof(double));
    enum kiln_status st = colw2 && colx2 ? KILN_OK : kiln_fail(KILN_E_NOMEM, "out of host memory");
    const bool round_w = r == KILN_ROUND_WX_F16;
    if (st == KILN_OK && round_w)
        st = kiln_buffer_alloc(cpu, (size_t)(k * m) * sizeof(float), &wbuf);
    if (st == KILN_OK)
        st = kiln_buffer_alloc(cpu, (size_t)(k * n) * sizeof(float), &xbuf);
    if (st != KILN_OK)
        goto out;
    struct kiln_op ref = *op;
    ref.dst = *dst;
    float *wrow = round_w ? kiln_buffer_host_ptr(wbuf) : malloc((size_t)k * sizeof(float));
    if (!wrow) {
        st = kiln_fail(KILN_E_NOMEM, "out of host memory");
        goto out;
    }
    for (int64_t i = 0; i < m; i++) {
        float *row = round_w ? wrow + i * k : wrow;
        w_to_float(KILN_ROW(w, i, 0, 0), row, k);
        for (int64_t c = 0; c < k; c++) {
            colw2[c] += (double)row[c] * row[c];
            if (round_w)
                row[c] = round_f16(row[c]);
        }
    }
    if (round_w)
        ref.src[0] = kiln_tensor_make(wbuf, 0, KILN_TYPE_F32, k, m, 1, 1);
    else
        free(wrow);
    *noise = 0.0;
    float *xr = kiln_buffer_host_ptr(xbuf);
    for (int64_t j = 0; j < n; j++) {
        const float *src = KILN_ROW(x, j, 0, 0);
        round_x_row(r, src, xr + j * k, k, colw2, noise);
        for (int64_t c = 0; c < k; c++)
            colx2[c] += (double)src[c] * src[c];
    }
    if (round_w) {  // W's rounding reaches every output through x: sum_k colx2 colw2 u16^2/3
        for (int64_t c = 0; c < k; c++)
            *noise += kiln_rounding_relative_noise(KILN_ROUND_X_F16) * colx2[c] * colw2[c];
    }
    ref.src[1] = kiln_tensor_make(xbuf, 0, KILN_TYPE_F32, k, n, 1, 1);
    st = kiln_check_reference(&ref);
out:
    kiln_buffer_free(wbuf);
    kiln_buffer_free(xbuf);
    free(colw2);
    free(colx2);
    return st;
}
