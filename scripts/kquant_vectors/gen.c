// Makes tests/data/kquant/: hostile f32 input rows and what ggml's own reference K-quantizers
// (quantize_row_q{2..6}_K_ref in ggml-quants.c) make of them. Built and run by
// scripts/make-kquant-vectors.sh against a ggml source tree; never part of kiln's build.
// The stubs below are the ggml symbols ggml-quants.c references from ggml.c (row sizes, names,
// the abort path).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ggml-quants.h"

void ggml_abort(const char *file, int line, const char *fmt, ...) {
    fprintf(stderr, "ggml_abort %s:%d %s\n", file, line, fmt);
    abort();
}
// Block bytes and elements of the types quantized here (ggml's type traits, which live in ggml.c).
static void geometry(enum ggml_type type, size_t *bytes, int64_t *elems) {
    switch (type) {
    case GGML_TYPE_Q4_0: *bytes = sizeof(block_q4_0); *elems = 32; return;
    case GGML_TYPE_Q4_1: *bytes = sizeof(block_q4_1); *elems = 32; return;
    case GGML_TYPE_Q5_0: *bytes = sizeof(block_q5_0); *elems = 32; return;
    case GGML_TYPE_Q5_1: *bytes = sizeof(block_q5_1); *elems = 32; return;
    case GGML_TYPE_Q8_0: *bytes = sizeof(block_q8_0); *elems = 32; return;
    case GGML_TYPE_IQ4_NL: *bytes = sizeof(block_iq4_nl); *elems = 32; return;
    case GGML_TYPE_Q2_K: *bytes = sizeof(block_q2_K); *elems = 256; return;
    case GGML_TYPE_Q3_K: *bytes = sizeof(block_q3_K); *elems = 256; return;
    case GGML_TYPE_Q4_K: *bytes = sizeof(block_q4_K); *elems = 256; return;
    case GGML_TYPE_Q5_K: *bytes = sizeof(block_q5_K); *elems = 256; return;
    case GGML_TYPE_Q6_K: *bytes = sizeof(block_q6_K); *elems = 256; return;
    case GGML_TYPE_IQ4_XS: *bytes = sizeof(block_iq4_xs); *elems = 256; return;
    default: fprintf(stderr, "gen: no geometry for type %d\n", (int)type); abort();
    }
}
size_t ggml_row_size(enum ggml_type type, int64_t ne) {
    size_t bytes;
    int64_t elems;
    geometry(type, &bytes, &elems);
    return bytes * (size_t)(ne / elems);
}
const char *ggml_type_name(enum ggml_type type) { (void)type; return "?"; }
size_t ggml_type_size(enum ggml_type type) {
    size_t bytes;
    int64_t elems;
    geometry(type, &bytes, &elems);
    return bytes;
}

enum { ROWS = 8, COLS = 1024 };  // 4 super-blocks of 256 per row

static uint32_t state = 0x9e3779b9u;
static float uniform(void) {  // (0, 1)
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return ((float)(state >> 8) + 0.5f) / 16777216.0f;
}
static float normal(void) { return sqrtf(-2.0f * logf(uniform())) * cosf(6.2831853f * uniform()); }

// Each row stresses something else (tests/data/kquant/README.md lists them).
static void make_input(float *x) {
    for (int r = 0; r < ROWS; r++) {
        float *row = x + r * COLS;
        for (int c = 0; c < COLS; c++) {
            const int blk = c / 256, sub = (c % 256) / 16;
            float v = normal();
            switch (r) {
            case 0: break;                                              // Gaussian
            case 1: v = v / fmaxf(uniform(), 0.02f); break;             // heavy tails
            case 2:                                                     // special blocks
                v = blk == 0 ? 0.0f : blk == 1 ? (c == 300 ? 1e4f : v) : blk == 2 ? v * 1e-6f : 0.5f;
                break;
            case 3: v = -fabsf(v); break;                               // one sign only
            case 4: v = fabsf(v) * (sub % 2 ? 100.0f : 1.0f); break;    // sub-block scales far apart
            case 5: v = roundf(v * 8.0f) / 8.0f; break;                 // a coarse grid: ties
            case 6: v *= 1e-30f; break;                                 // scales below f16's range
            case 7: v = v * 2e4f; break;                                // scales near f16's top
            }
            row[c] = v;
        }
    }
}

static int write(const char *dir, const char *name, const void *p, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gen OUTDIR\n");
        return 2;
    }
    static float x[ROWS * COLS];
    make_input(x);
    int rc = write(argv[1], "input.f32", x, sizeof x);
    static block_q2_K q2[ROWS * COLS / 256];
    static block_q3_K q3[ROWS * COLS / 256];
    static block_q4_K q4[ROWS * COLS / 256];
    static block_q5_K q5[ROWS * COLS / 256];
    static block_q6_K q6[ROWS * COLS / 256];
    static block_q8_K q8[ROWS * COLS / 256];  // static: zeroed, as kiln writes the bsums of a
                                              // zero block that ggml leaves alone
    for (int r = 0; r < ROWS; r++) {  // row by row, as a tensor is quantized
        const int b = r * COLS / 256;
        quantize_row_q2_K_ref(x + r * COLS, q2 + b, COLS);
        quantize_row_q3_K_ref(x + r * COLS, q3 + b, COLS);
        quantize_row_q4_K_ref(x + r * COLS, q4 + b, COLS);
        quantize_row_q5_K_ref(x + r * COLS, q5 + b, COLS);
        quantize_row_q6_K_ref(x + r * COLS, q6 + b, COLS);
        quantize_row_q8_K_ref(x + r * COLS, q8 + b, COLS);  // the K-quant GEMVs' activations
    }
    // The non-linear types, as llama-quantize writes them (quantize_iq4_*: IQ4_NL's _ref differs,
    // trying no extra scales), and every type ggml quantizes with importance weights, given the
    // deterministic positive weights of imatrix.f32 (one per column, as an imatrix row).
    static block_iq4_nl nl[ROWS * COLS / 32];
    static block_iq4_xs xs[ROWS * COLS / 256];
    quantize_iq4_nl(x, nl, ROWS, COLS, NULL);
    quantize_iq4_xs(x, xs, ROWS, COLS, NULL);
    rc |= write(argv[1], "iq4_nl.bin", nl, sizeof nl);
    rc |= write(argv[1], "iq4_xs.bin", xs, sizeof xs);
    static float qw[COLS];
    for (int c = 0; c < COLS; c++)
        qw[c] = c % 97 == 0 ? 0.0f : uniform() * uniform() * (c % 7 == 0 ? 50.0f : 1.0f);
    rc |= write(argv[1], "imatrix.f32", qw, sizeof qw);
    static uint8_t wq[ROWS * COLS * 2];
    static const struct { const char *name; size_t (*fn)(const float *, void *, int64_t, int64_t, const float *); } weighted[] = {
        { "q2_K.imatrix.bin", quantize_q2_K }, { "q3_K.imatrix.bin", quantize_q3_K },
        { "q4_K.imatrix.bin", quantize_q4_K }, { "q5_K.imatrix.bin", quantize_q5_K },
        { "q6_K.imatrix.bin", quantize_q6_K }, { "q4_0.imatrix.bin", quantize_q4_0 },
        { "q4_1.imatrix.bin", quantize_q4_1 }, { "q5_0.imatrix.bin", quantize_q5_0 },
        { "q5_1.imatrix.bin", quantize_q5_1 }, { "q8_0.imatrix.bin", quantize_q8_0 },
        { "iq4_nl.imatrix.bin", quantize_iq4_nl }, { "iq4_xs.imatrix.bin", quantize_iq4_xs },
    };
    for (size_t i = 0; i < sizeof weighted / sizeof weighted[0]; i++) {
        const size_t n = weighted[i].fn(x, wq, ROWS, COLS, qw);
        rc |= write(argv[1], weighted[i].name, wq, n);
    }
    rc |= write(argv[1], "q2_K.bin", q2, sizeof q2);
    rc |= write(argv[1], "q3_K.bin", q3, sizeof q3);
    rc |= write(argv[1], "q4_K.bin", q4, sizeof q4);
    rc |= write(argv[1], "q5_K.bin", q5, sizeof q5);
    rc |= write(argv[1], "q6_K.bin", q6, sizeof q6);
    rc |= write(argv[1], "q8_K.bin", q8, sizeof q8);
    return rc;
}
