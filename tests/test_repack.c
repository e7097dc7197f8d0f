// The x8 weight layouts of Q4_0 and Q8_0 and Q4_K's x16 (quant/format/repack.h, backends/layout.c): the repack and its inverse move
// every byte where the header says; the layout is refused where it cannot hold a tensor and on
// every op but a matmul weight; a repacked weight only ever meets a kernel row written for it;
// and where the CPU has those rows, matmul on repacked weights gives bit for bit the result on
// GGUF rows (the x8/x16 kernels do the same arithmetic in the same order), for decode (gemv) and
// prefill (gemm) batch sizes.
#include <string.h>

#include "backends/backend.h"
#include "backends/kernel.h"
#include "backends/ops.h"
#include "check.h"
#include "quant/format/repack.h"
#include "quant/format/types.h"

static uint32_t rng_state = 12345;
static uint32_t next_u32(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

// Random q4_0 rows whose scales are finite, small f16 values.
static void random_q4_0(struct kiln_block_q4_0 *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        b[i].d = kiln_f32_to_f16((float)(next_u32() % 1000 + 1) * 1e-4f);
        for (int j = 0; j < 16; j++)
            b[i].qs[j] = (uint8_t)next_u32();
    }
}

static void test_round_trip(void) {
    const int64_t k = 96, m = 24, nb = k / 32;
    struct kiln_block_q4_0 rows[24 * 3], back[24 * 3];
    uint8_t tiles[sizeof rows];
    random_q4_0(rows, (size_t)(m * nb));
    kiln_repack_q4_0_x8(rows, tiles, k, m);
    CHECK(kiln_x8_tile_bytes(k) * 3 == sizeof tiles, "tiles fill the rows' bytes exactly");
    bool placed = true;
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *tile = tiles + (size_t)(i / 8) * kiln_x8_tile_bytes(k);
        for (int64_t b = 0; b < nb; b++) {
            placed &= memcmp(tile + (b * 8 + i % 8) * 16, rows[i * nb + b].qs, 16) == 0;
            placed &= kiln_x8_scales(tile, k)[b * 8 + i % 8] == rows[i * nb + b].d;
            placed &= kiln_x8_codes(tile, b, (int)(i % 8)) == tile + (b * 8 + i % 8) * 16;
        }
    }
    CHECK(placed, "each row's codes and scale sit at the offsets repack.h gives");
    kiln_unpack_q4_0_x8(tiles, back, k, m);
    CHECK(memcmp(rows, back, sizeof rows) == 0, "unpack restores GGUF's rows");
}

static void random_q8_0(struct kiln_block_q8_0 *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        b[i].d = kiln_f32_to_f16((float)(next_u32() % 1000 + 1) * 1e-4f);
        for (int j = 0; j < 32; j++)
            b[i].qs[j] = (int8_t)next_u32();  // -128 included: the sign trick's edge case
    }
}

static void test_round_trip_q8_0(void) {
    const int64_t k = 64, m = 16, nb = k / 32;
    struct kiln_block_q8_0 rows[16 * 2], back[16 * 2];
    uint8_t tiles[sizeof rows];
    random_q8_0(rows, (size_t)(m * nb));
    kiln_repack_q8_0_x8(rows, tiles, k, m);
    CHECK(kiln_x8q8_tile_bytes(k) * 2 == sizeof tiles, "q8_0 tiles fill the rows' bytes exactly");
    bool placed = true;
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *tile = tiles + (size_t)(i / 8) * kiln_x8q8_tile_bytes(k);
        for (int64_t b = 0; b < nb; b++) {
            for (int j = 0; j < 32; j++)
                placed &= tile[(b * 8 + i % 8) * 32 + j] == (uint8_t)(rows[i * nb + b].qs[j] + 128);
            placed &= kiln_x8q8_scales(tile, k)[b * 8 + i % 8] == rows[i * nb + b].d;
        }
    }
    CHECK(placed, "each q8_0 row's codes (as q + 128) and scale sit where repack.h says");
    kiln_unpack_q8_0_x8(tiles, back, k, m);
    CHECK(memcmp(rows, back, sizeof rows) == 0, "unpack restores q8_0 rows");
}

// Random q4_K blocks: small positive d and dmin, every scale and code byte random.
static void random_q4_K(struct kiln_block_q4_K *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        b[i].d = kiln_f32_to_f16((float)(next_u32() % 1000 + 1) * 1e-4f);
        b[i].dmin = kiln_f32_to_f16((float)(next_u32() % 1000 + 1) * 1e-5f);
        for (int j = 0; j < 12; j++)
            b[i].scales[j] = (uint8_t)next_u32();
        for (int j = 0; j < 128; j++)
            b[i].qs[j] = (uint8_t)next_u32();
    }
}

static void test_round_trip_q4_K(void) {
    const int64_t k = 512, m = 32, nb = k / 256;
    static struct kiln_block_q4_K rows[32 * 2], back[32 * 2];
    static uint8_t tiles[sizeof rows];
    random_q4_K(rows, (size_t)(m * nb));
    kiln_repack_x16(KILN_TYPE_Q4_K, rows, tiles, k, m);
    CHECK(kiln_x16_tile_bytes(KILN_TYPE_Q4_K, k) * 2 == sizeof tiles, "q4_K tiles fill the rows' bytes exactly");
    bool placed = true;
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *tile = tiles + (size_t)(i / 16) * kiln_x16_tile_bytes(KILN_TYPE_Q4_K, k);
        const int r = (int)(i % 16);
        for (int64_t b = 0; b < nb; b++) {
            const struct kiln_block_q4_K *w = &rows[i * nb + b];
            const uint8_t *rec = tile + b * KILN_Q4_K_X16_RECORD;
            placed &= memcmp(rec + 2 * r, &w->d, 2) == 0 && memcmp(rec + 32 + 2 * r, &w->dmin, 2) == 0;
            for (int a = 0; a < 3; a++)
                placed &= memcmp(rec + 64 + 64 * a + 4 * r, w->scales + 4 * a, 4) == 0;
            for (int j = 0; j < 4; j++)
                for (int q = 0; q < 8; q++)
                    placed &= memcmp(rec + 256 + (8 * j + q) * 64 + 4 * r, w->qs + 32 * j + 4 * q, 4) == 0;
            struct kiln_block_q4_K one;
            kiln_x16_block(KILN_TYPE_Q4_K, tile, b, r, &one);
            placed &= memcmp(&one, w, sizeof one) == 0;
        }
    }
    CHECK(placed, "each q4_K row's d, dmin, scales and codes sit where repack.h says");
    kiln_unpack_x16(KILN_TYPE_Q4_K, tiles, back, k, m);
    CHECK(memcmp(rows, back, sizeof rows) == 0, "unpack restores q4_K rows");
}

// Random q6_K blocks: small positive d, every code and scale byte random (scales signed).
static void random_q6_K(struct kiln_block_q6_K *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < 128; j++)
            b[i].ql[j] = (uint8_t)next_u32();
        for (int j = 0; j < 64; j++)
            b[i].qh[j] = (uint8_t)next_u32();
        for (int j = 0; j < 16; j++)
            b[i].scales[j] = (int8_t)next_u32();
        b[i].d = kiln_f32_to_f16((float)(next_u32() % 1000 + 1) * 1e-5f);
    }
}

static void test_round_trip_q6_K(void) {
    const int64_t k = 512, m = 32, nb = k / 256;
    static struct kiln_block_q6_K rows[32 * 2], back[32 * 2];
    static uint8_t tiles[sizeof rows];
    random_q6_K(rows, (size_t)(m * nb));
    kiln_repack_x16(KILN_TYPE_Q6_K, rows, tiles, k, m);
    CHECK(kiln_x16_tile_bytes(KILN_TYPE_Q6_K, k) * 2 == sizeof tiles, "q6_K tiles fill the rows' bytes exactly");
    bool placed = true;
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *tile = tiles + (size_t)(i / 16) * kiln_x16_tile_bytes(KILN_TYPE_Q6_K, k);
        const int r = (int)(i % 16);
        for (int64_t b = 0; b < nb; b++) {
            const struct kiln_block_q6_K *w = &rows[i * nb + b];
            const uint8_t *rec = tile + b * KILN_Q6_K_X16_RECORD;
            for (int h = 0; h < 2; h++)
                for (int g = 0; g < 8; g++) {
                    const uint8_t *base = rec + 1536 * h + 192 * g + 4 * r;
                    placed &= memcmp(base, w->ql + 64 * h + 4 * g, 4) == 0;
                    placed &= memcmp(base + 64, w->ql + 64 * h + 32 + 4 * g, 4) == 0;
                    placed &= memcmp(base + 128, w->qh + 32 * h + 4 * g, 4) == 0;
                }
            for (int a = 0; a < 4; a++)
                placed &= memcmp(rec + 3072 + 64 * a + 4 * r, w->scales + 4 * a, 4) == 0;
            placed &= memcmp(rec + 3328 + 2 * r, &w->d, 2) == 0;
            struct kiln_block_q6_K one;
            kiln_x16_block(KILN_TYPE_Q6_K, tile, b, r, &one);
            placed &= memcmp(&one, w, sizeof one) == 0;
        }
    }
    CHECK(placed, "each q6_K row's codes, scales and d sit where repack.h says");
    kiln_unpack_x16(KILN_TYPE_Q6_K, tiles, back, k, m);
    CHECK(memcmp(rows, back, sizeof rows) == 0, "unpack restores q6_K rows");
}

// Random q5_K blocks (q4_K's fields plus random 5th bits).
static void random_q5_K(struct kiln_block_q5_K *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        struct kiln_block_q4_K q4;
        random_q4_K(&q4, 1);
        b[i].d = q4.d;
        b[i].dmin = q4.dmin;
        memcpy(b[i].scales, q4.scales, 12);
        memcpy(b[i].qs, q4.qs, 128);
        for (int j = 0; j < 32; j++)
            b[i].qh[j] = (uint8_t)next_u32();
    }
}

static void test_round_trip_q5_K(void) {
    const int64_t k = 256, m = 32;
    static struct kiln_block_q5_K rows[32], back[32];
    static uint8_t tiles[sizeof rows];
    random_q5_K(rows, (size_t)m);
    kiln_repack_x16(KILN_TYPE_Q5_K, rows, tiles, k, m);
    CHECK(kiln_x16_tile_bytes(KILN_TYPE_Q5_K, k) * 2 == sizeof tiles, "q5_K tiles fill the rows' bytes exactly");
    bool placed = true;
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *rec = tiles + (size_t)(i / 16) * kiln_x16_tile_bytes(KILN_TYPE_Q5_K, k);
        const int r = (int)(i % 16);
        const struct kiln_block_q5_K *w = &rows[i];
        placed &= memcmp(rec + 2 * r, &w->d, 2) == 0 && memcmp(rec + 32 + 2 * r, &w->dmin, 2) == 0;
        for (int a = 0; a < 3; a++)
            placed &= memcmp(rec + 64 + 64 * a + 4 * r, w->scales + 4 * a, 4) == 0;
        for (int g = 0; g < 32; g++)
            placed &= memcmp(rec + 256 + 64 * g + 4 * r, w->qs + 4 * g, 4) == 0;
        for (int q = 0; q < 8; q++)
            placed &= memcmp(rec + 2304 + 64 * q + 4 * r, w->qh + 4 * q, 4) == 0;
        struct kiln_block_q5_K one;
        kiln_x16_block(KILN_TYPE_Q5_K, rec, 0, r, &one);
        placed &= memcmp(&one, w, sizeof one) == 0;
    }
    CHECK(placed, "each q5_K row's fields and 5th bits sit where repack.h says");
    kiln_unpack_x16(KILN_TYPE_Q5_K, tiles, back, k, m);
    CHECK(memcmp(rows, back, sizeof rows) == 0, "unpack restores q5_K rows");
}

// Random q2_K / q3_K blocks: every byte random but d and dmin (small positive).
static void random_q23_K(void *blocks, size_t n, bool q3) {
    const size_t size = q3 ? sizeof(struct kiln_block_q3_K) : sizeof(struct kiln_block_q2_K);
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = (uint8_t *)blocks + i * size;
        for (size_t j = 0; j < size; j++)
            b[j] = (uint8_t)next_u32();
        const kiln_half d = kiln_f32_to_f16((float)(next_u32() % 1000 + 1) * 1e-4f);
        const kiln_half dmin = kiln_f32_to_f16((float)(next_u32() % 1000 + 1) * 1e-5f);
        memcpy(b + (q3 ? 108 : 80), &d, 2);
        if (!q3)
            memcpy(b + 82, &dmin, 2);
    }
}

// q2_K and q3_K x16: every byte of each row's block where repack.h says, and back.
static void test_round_trip_q23_K(bool q3) {
    const enum kiln_type type = q3 ? KILN_TYPE_Q3_K : KILN_TYPE_Q2_K;
    const int64_t k = 256, m = 32;
    const size_t bsz = q3 ? 110 : 84;
    static uint8_t rows[32 * 110], back[32 * 110], tiles[32 * 110];
    random_q23_K(rows, (size_t)m, q3);
    kiln_repack_x16(type, rows, tiles, k, m);
    bool placed = true;
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *rec = tiles + (size_t)(i / 16) * kiln_x16_tile_bytes(type, k), *w = rows + i * bsz;
        const int r = (int)(i % 16);
        const int qs = q3 ? 32 : 16;
        for (int h = 0; h < 2; h++)
            for (int g = 0; g < 8; g++)
                placed &= memcmp(rec + 512 * h + 64 * g + 4 * r, w + qs + 32 * h + 4 * g, 4) == 0;
        if (q3) {
            for (int g = 0; g < 8; g++)
                placed &= memcmp(rec + 1024 + 64 * g + 4 * r, w + 4 * g, 4) == 0;
            for (int a = 0; a < 3; a++)
                placed &= memcmp(rec + 1536 + 64 * a + 4 * r, w + 96 + 4 * a, 4) == 0;
            placed &= memcmp(rec + 1728 + 2 * r, w + 108, 2) == 0;
        } else {
            for (int a = 0; a < 4; a++)
                placed &= memcmp(rec + 1024 + 64 * a + 4 * r, w + 4 * a, 4) == 0;
            placed &= memcmp(rec + 1280 + 2 * r, w + 80, 2) == 0 && memcmp(rec + 1312 + 2 * r, w + 82, 2) == 0;
        }
        uint8_t one[110];
        kiln_x16_block(type, rec, 0, r, one);
        placed &= memcmp(one, w, bsz) == 0;
    }
    CHECK(placed, "each %s row's bytes sit where repack.h says", q3 ? "q3_K" : "q2_K");
    kiln_unpack_x16(type, tiles, back, k, m);
    CHECK(memcmp(rows, back, (size_t)m * bsz) == 0, "unpack restores %s rows", q3 ? "q3_K" : "q2_K");
}

static void test_fits(struct kiln_device *cpu) {
    struct kiln_buffer *buf;
    CHECK(kiln_buffer_alloc(cpu, 1 << 16, &buf) == KILN_OK, "buffer");
    struct kiln_tensor t = kiln_tensor_make(buf, 0, KILN_TYPE_Q4_0, 64, 16, 1, 1);
    CHECK(kiln_layout_fits(KILN_LAYOUT_Q4_0_X8, &t) == KILN_OK, "16 rows of q4_0 fit");
    t.ne[1] = 12;
    CHECK(kiln_layout_fits(KILN_LAYOUT_Q4_0_X8, &t) != KILN_OK && strstr(kiln_last_error(), "8-row"),
          "12 rows do not: %s", kiln_last_error());
    t = kiln_tensor_make(buf, 0, KILN_TYPE_Q8_0, 64, 16, 1, 1);
    CHECK(kiln_layout_fits(KILN_LAYOUT_Q4_0_X8, &t) != KILN_OK, "q8_0 does not fit q4_0's");
    CHECK(kiln_layout_fits(KILN_LAYOUT_Q8_0_X8, &t) == KILN_OK, "but its own");
    t = kiln_tensor_make(buf, 0, KILN_TYPE_Q4_0, 64, 16, 1, 1);
    t.nb[1] += 32;
    CHECK(kiln_layout_fits(KILN_LAYOUT_Q4_0_X8, &t) != KILN_OK, "strided rows do not");
    t = kiln_tensor_make(buf, 0, KILN_TYPE_Q4_K, 256, 32, 1, 1);
    CHECK(kiln_layout_fits(KILN_LAYOUT_Q4_K_X16, &t) == KILN_OK, "32 rows of q4_K fit x16");
    t.ne[1] = 24;
    CHECK(kiln_layout_fits(KILN_LAYOUT_Q4_K_X16, &t) != KILN_OK && strstr(kiln_last_error(), "16-row"),
          "24 rows do not: %s", kiln_last_error());
    CHECK(kiln_layout_fits(KILN_LAYOUT_Q4_0_X8, &t) != KILN_OK, "q4_K does not fit q4_0's");

    // only a matmul weight may be repacked
    struct kiln_buffer *f;
    CHECK(kiln_buffer_alloc(cpu, 1 << 16, &f) == KILN_OK, "buffer");
    struct kiln_op op = { .kind = KILN_OP_GET_ROWS, .n_src = 2 };
    op.src[0] = kiln_tensor_make(buf, 0, KILN_TYPE_Q4_0, 64, 16, 1, 1);
    op.src[0].layout = KILN_LAYOUT_Q4_0_X8;
    op.src[1] = kiln_tensor_make(f, 0, KILN_TYPE_I32, 2, 1, 1, 1);
    op.dst = kiln_tensor_make(f, 4096, KILN_TYPE_F32, 64, 2, 1, 1);
    CHECK(kiln_op_validate(&op) == KILN_E_INVALID && strstr(kiln_last_error(), "repacked"),
          "get_rows from a repacked table is refused: %s", kiln_last_error());
    kiln_buffer_free(f);
    kiln_buffer_free(buf);
}

// y = W x for W [k, m] of `type` and x [k, n], with W in `layout`.
static void matmul(struct kiln_stream *s, enum kiln_type type, const void *w, const float *x, int64_t k, int64_t m,
                   int64_t n, enum kiln_layout layout, float *y, char *kernel, size_t kernel_size) {
    struct kiln_device *dev = kiln_stream_device(s);
    const size_t wbytes = kiln_row_size(type, k) * (size_t)m;
    struct kiln_buffer *bw, *bx, *by;
    CHECK(kiln_buffer_alloc(dev, wbytes, &bw) == KILN_OK && kiln_buffer_alloc(dev, (size_t)(k * n) * 4, &bx) == KILN_OK &&
          kiln_buffer_alloc(dev, (size_t)(m * n) * 4, &by) == KILN_OK, "buffers");
    struct kiln_tensor tw = kiln_tensor_make(bw, 0, type, k, m, 1, 1);
    tw.layout = layout;
    const struct kiln_tensor tx = kiln_tensor_make(bx, 0, KILN_TYPE_F32, k, n, 1, 1);
    const struct kiln_tensor ty = kiln_tensor_make(by, 0, KILN_TYPE_F32, m, n, 1, 1);
    CHECK(kiln_weight_upload(s, &tw, w) == KILN_OK, "weight upload: %s", kiln_last_error());
    CHECK(kiln_buffer_upload(s, bx, 0, x, (size_t)(k * n) * 4) == KILN_OK, "x upload");
    struct kiln_path path = { 0 };
    CHECK(kiln_matmul(s, &ty, &tw, &tx, &path) == KILN_OK, "matmul: %s", kiln_last_error());
    CHECK(kiln_buffer_download(s, by, 0, y, (size_t)(m * n) * 4) == KILN_OK, "download");
    snprintf(kernel, kernel_size, "%s", path.name);
    kiln_buffer_free(bw);
    kiln_buffer_free(bx);
    kiln_buffer_free(by);
}

// For each type with an x8 layout: x8 weights run an x8 kernel and give the rows result bit for bit.
static void test_same_results(struct kiln_device *cpu) {
    const int64_t k = 512, m = 48;
    CHECK(kiln_weight_layout(cpu, KILN_TYPE_F16, k, m) == KILN_LAYOUT_ROWS, "f16 stays rows");
    CHECK(kiln_weight_layout(cpu, KILN_TYPE_Q4_0, k, 33) == KILN_LAYOUT_ROWS, "33 rows stay rows");
    CHECK(kiln_weight_layout(cpu, KILN_TYPE_Q4_K, k, 40) == KILN_LAYOUT_ROWS, "40 q4_K rows stay rows");
    static const struct { enum kiln_type type; enum kiln_layout layout; const char *name; } types[] = {
        { KILN_TYPE_Q4_0, KILN_LAYOUT_Q4_0_X8, "q4_0x8" }, { KILN_TYPE_Q8_0, KILN_LAYOUT_Q8_0_X8, "q8_0x8" },
        { KILN_TYPE_Q4_K, KILN_LAYOUT_Q4_K_X16, "q4_Kx16" }, { KILN_TYPE_Q6_K, KILN_LAYOUT_Q6_K_X16, "q6_Kx16" },
        { KILN_TYPE_Q5_K, KILN_LAYOUT_Q5_K_X16, "q5_Kx16" }, { KILN_TYPE_Q2_K, KILN_LAYOUT_Q2_K_X16, "q2_Kx16" },
        { KILN_TYPE_Q3_K, KILN_LAYOUT_Q3_K_X16, "q3_Kx16" } };
    struct kiln_stream *s;
    CHECK(kiln_stream_new(cpu, &s) == KILN_OK, "stream");
    static struct kiln_block_q4_0 w4[48 * 16];
    static struct kiln_block_q8_0 w8[48 * 16];
    static struct kiln_block_q4_K wk[48 * 2];
    static struct kiln_block_q6_K w6[48 * 2];
    static struct kiln_block_q5_K w5[48 * 2];
    static struct kiln_block_q2_K w2[48 * 2];
    static struct kiln_block_q3_K w3[48 * 2];
    static float x[45 * 512], y_rows[45 * 48], y_x8[45 * 48];
    random_q4_0(w4, sizeof w4 / sizeof w4[0]);
    random_q8_0(w8, sizeof w8 / sizeof w8[0]);
    random_q4_K(wk, sizeof wk / sizeof wk[0]);
    random_q6_K(w6, sizeof w6 / sizeof w6[0]);
    random_q5_K(w5, sizeof w5 / sizeof w5[0]);
    random_q23_K(w2, sizeof w2 / sizeof w2[0], false);
    random_q23_K(w3, sizeof w3 / sizeof w3[0], true);
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)((int)(next_u32() % 2001) - 1000) * 1e-3f;
    for (int ti = 0; ti < 7; ti++) {
        if (kiln_weight_layout(cpu, types[ti].type, k, m) != types[ti].layout) {
            printf("note: this CPU has no %s kernels (kiln_weight_layout keeps rows); skipping them\n", types[ti].name);
            continue;
        }
        const void *w = types[ti].type == KILN_TYPE_Q4_0 ? (const void *)w4
                        : types[ti].type == KILN_TYPE_Q8_0 ? (const void *)w8
                        : types[ti].type == KILN_TYPE_Q4_K ? (const void *)wk
                        : types[ti].type == KILN_TYPE_Q6_K ? (const void *)w6
                        : types[ti].type == KILN_TYPE_Q5_K ? (const void *)w5
                        : types[ti].type == KILN_TYPE_Q2_K ? (const void *)w2 : (const void *)w3;
        // gemv, gemv with several x rows, gemm (one panel of the integer GEMM with a column
        // tail; several panels with a tail)
        const int64_t batches[] = { 1, 3, 20, 45 };
        for (int b = 0; b < 4; b++) {
            const int64_t n = batches[b];
            char k_rows[160], k_x8[160];
            matmul(s, types[ti].type, w, x, k, m, n, KILN_LAYOUT_ROWS, y_rows, k_rows, sizeof k_rows);
            matmul(s, types[ti].type, w, x, k, m, n, types[ti].layout, y_x8, k_x8, sizeof k_x8);
            CHECK(strstr(k_x8, types[ti].name) && !strstr(k_rows, types[ti].name),
                  "n=%lld: repacked weights ran %s, rows ran %s", (long long)n, k_x8, k_rows);
            CHECK(memcmp(y_rows, y_x8, (size_t)(m * n) * 4) == 0, "n=%lld: %s gives %s's results bit for bit",
                  (long long)n, k_x8, k_rows);
        }
    }
    kiln_stream_free(s);
}

int main(void) {
    test_round_trip();
    test_round_trip_q8_0();
    test_round_trip_q4_K();
    test_round_trip_q5_K();
    test_round_trip_q6_K();
    test_round_trip_q23_K(false);
    test_round_trip_q23_K(true);
    if (kiln_init(&(struct kiln_init_options){ .backends = "cpu" }) != KILN_OK) {
        fprintf(stderr, "kiln_init: %s\n", kiln_last_error());
        return 1;
    }
    struct kiln_device *cpu = kiln_device_find("cpu");
    test_fits(cpu);
    test_same_results(cpu);
    kiln_shutdown();
    return test_finish("test_repack");
}
