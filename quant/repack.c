// Q4_0 and Q8_0 <-> x8 tile layouts (repack.h). Plain byte moves: the tests check the round trip and the
// kernels reading x8 are checked by `kiln ops` against the reference on the row layout.
#include "quant/repack.h"

#include <string.h>

void kiln_repack_q4_0_x8(const void *src, void *dst, int64_t k, int64_t m) {
    const int64_t nb = k / KILN_QK4_0;
    const size_t row_bytes = (size_t)nb * sizeof(struct kiln_block_q4_0), tile = kiln_x8_tile_bytes(k);
    for (int64_t t = 0; t < m / KILN_X8_ROWS; t++) {
        uint8_t *out = (uint8_t *)dst + (size_t)t * tile;
        kiln_half *scales = (kiln_half *)(out + (size_t)nb * KILN_X8_ROWS * 16);
        for (int r = 0; r < KILN_X8_ROWS; r++) {
            const struct kiln_block_q4_0 *row =
                (const struct kiln_block_q4_0 *)((const uint8_t *)src + (size_t)(t * KILN_X8_ROWS + r) * row_bytes);
            for (int64_t b = 0; b < nb; b++) {
                memcpy(out + ((size_t)b * KILN_X8_ROWS + (size_t)r) * 16, row[b].qs, 16);
                memcpy(&scales[b * KILN_X8_ROWS + r], &row[b].d, sizeof(kiln_half));
            }
        }
    }
}

void kiln_unpack_q4_0_x8(const void *src, void *dst, int64_t k, int64_t m) {
    const int64_t nb = k / KILN_QK4_0;
    const size_t row_bytes = (size_t)nb * sizeof(struct kiln_block_q4_0), tile = kiln_x8_tile_bytes(k);
    for (int64_t t = 0; t < m / KILN_X8_ROWS; t++) {
        const uint8_t *in = (const uint8_t *)src + (size_t)t * tile;
        const kiln_half *scales = kiln_x8_scales(in, k);
        for (int r = 0; r < KILN_X8_ROWS; r++) {
            struct kiln_block_q4_0 *row =
                (struct kiln_block_q4_0 *)((uint8_t *)dst + (size_t)(t * KILN_X8_ROWS + r) * row_bytes);
            for (int64_t b = 0; b < nb; b++) {
                memcpy(row[b].qs, kiln_x8_codes(in, b, r), 16);
                memcpy(&row[b].d, &scales[b * KILN_X8_ROWS + r], sizeof(kiln_half));
            }
        }
    }
}

void kiln_repack_q8_0_x8(const void *src, void *dst, int64_t k, int64_t m) {
    const int64_t nb = k / KILN_QK8_0;
    const size_t row_bytes = (size_t)nb * sizeof(struct kiln_block_q8_0), tile = kiln_x8q8_tile_bytes(k);
    for (int64_t t = 0; t < m / KILN_X8_ROWS; t++) {
        uint8_t *out = (uint8_t *)dst + (size_t)t * tile;
        kiln_half *scales = (kiln_half *)(out + (size_t)nb * KILN_X8_ROWS * 32);
        for (int r = 0; r < KILN_X8_ROWS; r++) {
            const struct kiln_block_q8_0 *row =
                (const struct kiln_block_q8_0 *)((const uint8_t *)src + (size_t)(t * KILN_X8_ROWS + r) * row_bytes);
            for (int64_t b = 0; b < nb; b++) {
                uint8_t *codes = out + ((size_t)b * KILN_X8_ROWS + (size_t)r) * 32;
                for (int i = 0; i < 32; i++)
                    codes[i] = (uint8_t)row[b].qs[i] ^ 0x80;
                memcpy(&scales[b * KILN_X8_ROWS + r], &row[b].d, sizeof(kiln_half));
            }
        }
    }
}

void kiln_unpack_q8_0_x8(const void *src, void *dst, int64_t k, int64_t m) {
    const int64_t nb = k / KILN_QK8_0;
    const size_t row_bytes = (size_t)nb * sizeof(struct kiln_block_q8_0), tile = kiln_x8q8_tile_bytes(k);
    for (int64_t t = 0; t < m / KILN_X8_ROWS; t++) {
        const uint8_t *in = (const uint8_t *)src + (size_t)t * tile;
        const kiln_half *scales = kiln_x8q8_scales(in, k);
        for (int r = 0; r < KILN_X8_ROWS; r++) {
            struct kiln_block_q8_0 *row =
                (struct kiln_block_q8_0 *)((uint8_t *)dst + (size_t)(t * KILN_X8_ROWS + r) * row_bytes);
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *codes = kiln_x8q8_codes(in, b, r);
                for (int i = 0; i < 32; i++)
                    row[b].qs[i] = (int8_t)(codes[i] ^ 0x80);
                memcpy(&row[b].d, &scales[b * KILN_X8_ROWS + r], sizeof(kiln_half));
            }
        }
    }
}
