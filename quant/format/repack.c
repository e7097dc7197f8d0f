// Q4_0 and Q8_0 <-> x8 tile layouts, Q4_K <-> x16 tiles (repack.h). Plain byte moves (Q8_0's codes flipped to
// q + 128): the tests check the round trip and the kernels reading x8 are checked by `kiln ops`
// against the reference on the row layout.
#include "quant/format/repack.h"

#include <stdbool.h>
#include <string.h>

// Both block types are {f16 d; code_bytes codes}; `flip` is XORed into every code byte.
static void repack(const void *src, void *dst, int64_t k, int64_t m, size_t code_bytes, uint8_t flip) {
    const int64_t nb = k / 32;
    const size_t block = sizeof(kiln_half) + code_bytes, tile = kiln_x8_tile_bytes_of(k, code_bytes);
    for (int64_t t = 0; t < m / KILN_X8_ROWS; t++) {
        uint8_t *out = (uint8_t *)dst + (size_t)t * tile;
        kiln_half *scales = (kiln_half *)kiln_x8_scales_of(out, k, code_bytes);
        for (int r = 0; r < KILN_X8_ROWS; r++) {
            const uint8_t *row = (const uint8_t *)src + (size_t)(t * KILN_X8_ROWS + r) * (size_t)nb * block;
            for (int64_t b = 0; b < nb; b++) {
                uint8_t *codes = (uint8_t *)kiln_x8_codes_of(out, b, r, code_bytes);
                memcpy(codes, row + (size_t)b * block + sizeof(kiln_half), code_bytes);
                for (size_t i = 0; flip && i < code_bytes; i++)
                    codes[i] ^= flip;
                memcpy(&scales[b * KILN_X8_ROWS + r], row + (size_t)b * block, sizeof(kiln_half));
            }
        }
    }
}

static void unpack(const void *src, void *dst, int64_t k, int64_t m, size_t code_bytes, uint8_t flip) {
    const int64_t nb = k / 32;
    const size_t block = sizeof(kiln_half) + code_bytes, tile = kiln_x8_tile_bytes_of(k, code_bytes);
    for (int64_t t = 0; t < m / KILN_X8_ROWS; t++) {
        const uint8_t *in = (const uint8_t *)src + (size_t)t * tile;
        const kiln_half *scales = kiln_x8_scales_of(in, k, code_bytes);
        for (int r = 0; r < KILN_X8_ROWS; r++) {
            uint8_t *row = (uint8_t *)dst + (size_t)(t * KILN_X8_ROWS + r) * (size_t)nb * block;
            for (int64_t b = 0; b < nb; b++) {
                uint8_t *codes = row + (size_t)b * block + sizeof(kiln_half);
                memcpy(codes, kiln_x8_codes_of(in, b, r, code_bytes), code_bytes);
                for (size_t i = 0; flip && i < code_bytes; i++)
                    codes[i] ^= flip;
                memcpy(row + (size_t)b * block, &scales[b * KILN_X8_ROWS + r], sizeof(kiln_half));
            }
        }
    }
}

void kiln_repack_q4_0_x8(const void *src, void *dst, int64_t k, int64_t m) { repack(src, dst, k, m, 16, 0); }
void kiln_unpack_q4_0_x8(const void *src, void *dst, int64_t k, int64_t m) { unpack(src, dst, k, m, 16, 0); }
void kiln_repack_q8_0_x8(const void *src, void *dst, int64_t k, int64_t m) { repack(src, dst, k, m, 32, 0x80); }
void kiln_unpack_q8_0_x8(const void *src, void *dst, int64_t k, int64_t m) { unpack(src, dst, k, m, 32, 0x80); }

// K-quant x16 (repack.h): the byte moves of one row's block to or from its record.
#define MOVE(tile_off, blk_off, n)                                                                 \
    (to_tile ? memcpy(rec + (tile_off), blk + (blk_off), n) : memcpy(blk + (blk_off), rec + (tile_off), n))
// q4_K: {f16 d; f16 dmin; 12 scale bytes; 128 qs bytes}; q5_K (five): {f16 d; f16 dmin; 12 scale
// bytes; 32 qh bytes; 128 qs bytes}.
static void q45_K_move(uint8_t *rec, uint8_t *blk, int r, bool to_tile, bool five) {
    const int qs = five ? 48 : 16;
    MOVE(2 * r, 0, 2);
    MOVE(32 + 2 * r, 2, 2);
    for (int a = 0; a < 3; a++)
        MOVE(64 + 64 * a + 4 * r, 4 + 4 * a, 4);
    for (int g = 0; g < 32; g++)  // g = 8j + q: qs bytes 4g .. 4g + 3
        MOVE(256 + 64 * g + 4 * r, qs + 4 * g, 4);
    for (int q = 0; five && q < 8; q++)
        MOVE(2304 + 64 * q + 4 * r, 16 + 4 * q, 4);
}
static void q4_K_move(uint8_t *rec, uint8_t *blk, int r, bool to_tile) { q45_K_move(rec, blk, r, to_tile, false); }
static void q5_K_move(uint8_t *rec, uint8_t *blk, int r, bool to_tile) { q45_K_move(rec, blk, r, to_tile, true); }
// q6_K: {ql[128]; qh[64]; int8 scales[16]; f16 d}.
static void q6_K_move(uint8_t *rec, uint8_t *blk, int r, bool to_tile) {
    for (int h = 0; h < 2; h++) {
        for (int g = 0; g < 8; g++) {
            const int off = 1536 * h + 192 * g + 4 * r, ql = 64 * h + 4 * g, qh = 128 + 32 * h + 4 * g;
            MOVE(off, ql, 4);
            MOVE(off + 64, ql + 32, 4);
            MOVE(off + 128, qh, 4);
        }
    }
    for (int a = 0; a < 4; a++)
        MOVE(3072 + 64 * a + 4 * r, 192 + 4 * a, 4);
    MOVE(3328 + 2 * r, 208, 2);
}
// q2_K: {scales[16]; qs[64]; f16 d; f16 dmin}; q3_K (q3): {hmask[32]; qs[64]; scales[12]; f16 d}.
static void q23_K_move(uint8_t *rec, uint8_t *blk, int r, bool to_tile, bool q3) {
    const int qs = q3 ? 32 : 16;
    for (int h = 0; h < 2; h++)
        for (int g = 0; g < 8; g++)
            MOVE(512 * h + 64 * g + 4 * r, qs + 32 * h + 4 * g, 4);
    if (q3) {
        for (int g = 0; g < 8; g++)
            MOVE(1024 + 64 * g + 4 * r, 4 * g, 4);
        for (int a = 0; a < 3; a++)
            MOVE(1536 + 64 * a + 4 * r, 96 + 4 * a, 4);
        MOVE(1728 + 2 * r, 108, 2);
    } else {
        for (int a = 0; a < 4; a++)
            MOVE(1024 + 64 * a + 4 * r, 4 * a, 4);
        MOVE(1280 + 2 * r, 80, 2);
        MOVE(1312 + 2 * r, 82, 2);
    }
}
static void q2_K_move(uint8_t *rec, uint8_t *blk, int r, bool to_tile) { q23_K_move(rec, blk, r, to_tile, false); }
static void q3_K_move(uint8_t *rec, uint8_t *blk, int r, bool to_tile) { q23_K_move(rec, blk, r, to_tile, true); }
#undef MOVE

static void (*move_of(enum kiln_type type))(uint8_t *, uint8_t *, int, bool) {
    switch (type) {
    case KILN_TYPE_Q2_K: return q2_K_move;
    case KILN_TYPE_Q3_K: return q3_K_move;
    case KILN_TYPE_Q5_K: return q5_K_move;
    case KILN_TYPE_Q6_K: return q6_K_move;
    default: return q4_K_move;
    }
}

static void x16(enum kiln_type type, const void *src, void *dst, int64_t k, int64_t m, bool to_tile) {
    const int64_t nb = k / 256;
    const size_t rec_bytes = kiln_x16_record_bytes(type), blk_bytes = rec_bytes / KILN_X16_ROWS;
    for (int64_t t = 0; t < m / KILN_X16_ROWS; t++) {
        uint8_t *tile = (uint8_t *)(to_tile ? dst : src) + (size_t)t * kiln_x16_tile_bytes(type, k);
        for (int r = 0; r < KILN_X16_ROWS; r++) {
            uint8_t *row = (uint8_t *)(to_tile ? src : dst) + (size_t)(t * KILN_X16_ROWS + r) * (size_t)nb * blk_bytes;
            for (int64_t b = 0; b < nb; b++)
                move_of(type)(tile + (size_t)b * rec_bytes, row + (size_t)b * blk_bytes, r, to_tile);
        }
    }
}

void kiln_repack_x16(enum kiln_type type, const void *src, void *dst, int64_t k, int64_t m) {
    x16(type, src, dst, k, m, true);
}
void kiln_unpack_x16(enum kiln_type type, const void *src, void *dst, int64_t k, int64_t m) {
    x16(type, src, dst, k, m, false);
}
void kiln_x16_block(enum kiln_type type, const void *tile, int64_t b, int r, void *out) {
    move_of(type)((uint8_t *)tile + (size_t)b * kiln_x16_record_bytes(type), out, r, false);
}
