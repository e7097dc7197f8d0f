// Load-time weight layouts: Q4_0 rows rearranged in memory for the CPU's decode GEMV.
//
// A GGUF Q4_0 matrix is m rows of k/32 blocks, each block {f16 d; 16 code bytes} (blocks.h).
// A GEMV tile reads 8 rows at once, which in that layout is 8 streams of 18-byte blocks (no
// 32-byte alignment, two loads per row pair and a scale gather per row). The x8 layout stores
// the same bytes as tiles of 8 consecutive rows; tile t (rows 8t..8t+7) occupies the bytes rows
// 8t..8t+7 occupied before (8 * k/32 * 18 bytes), as:
//   codes:  for block b = 0..nb-1, for row r = 0..7: the 16 code bytes of row 8t+r, block b
//           (offset (b * 8 + r) * 16: one 32-byte load gives a row pair, in the order the
//           kernel pairs them)
//   scales: then for block b, for row r: the f16 d of row 8t+r, block b (offset nb * 128 +
//           (b * 8 + r) * 2: one 16-byte load gives all eight rows' scales of a block)
// So a tile is one sequential stream of codes plus a short one of scales; the total size is
// unchanged, so a repacked tensor occupies the same buffer range. Not a file format: kiln only
// builds it in memory, after reading a GGUF, for devices whose kernel table has a row for it
// (see kiln_weight_layout in backends/backend.h). m must be a multiple of 8. Q8_0 has an x8
// layout of the same shape (below).
// (llama.cpp's CPU "repack" buffers, Q4_0_8x8, do the same for the same reason; this layout is
// kiln's own and not byte-compatible with theirs.)
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "quant/format/blocks.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { KILN_X8_ROWS = 8 };

// Both x8 layouts have the same shape, for blocks {f16 d; `code_bytes` codes} of 32 elements:
// per block b the eight rows' codes at (b * 8 + r) * code_bytes, then the scales.
static inline size_t kiln_x8_tile_bytes_of(int64_t k, size_t code_bytes) {
    return (size_t)KILN_X8_ROWS * (size_t)(k / 32) * (sizeof(kiln_half) + code_bytes);
}
static inline const uint8_t *kiln_x8_codes_of(const void *tile, int64_t b, int r, size_t code_bytes) {
    return (const uint8_t *)tile + ((size_t)b * KILN_X8_ROWS + (size_t)r) * code_bytes;
}
static inline const kiln_half *kiln_x8_scales_of(const void *tile, int64_t k, size_t code_bytes) {
    return (const kiln_half *)((const uint8_t *)tile + (size_t)(k / 32) * KILN_X8_ROWS * code_bytes);
}

// Q4_0: 16 code bytes per row-block. Bytes of one tile of rows with k elements (k % 32 == 0),
// row r's block b's codes, the tile's scales.
static inline size_t kiln_x8_tile_bytes(int64_t k) { return kiln_x8_tile_bytes_of(k, 16); }
static inline const uint8_t *kiln_x8_codes(const void *tile, int64_t b, int r) {
    return kiln_x8_codes_of(tile, b, r, 16);
}
static inline const kiln_half *kiln_x8_scales(const void *tile, int64_t k) { return kiln_x8_scales_of(tile, k, 16); }

// Q8_0: 32 code bytes per row-block, each stored as q + 128 (q XOR 0x80: unsigned 0..255, the
// operand VNNI's vpdpbusd wants unsigned; the kernels subtract 128 * sum(x) per block).
static inline size_t kiln_x8q8_tile_bytes(int64_t k) { return kiln_x8_tile_bytes_of(k, 32); }
static inline const uint8_t *kiln_x8q8_codes(const void *tile, int64_t b, int r) {
    return kiln_x8_codes_of(tile, b, r, 32);
}
static inline const kiln_half *kiln_x8q8_scales(const void *tile, int64_t k) { return kiln_x8_scales_of(tile, k, 32); }

// Rearranges `m` Q4_0 rows of k elements (GGUF order, rows contiguous) into m / 8 x8 tiles.
// src and dst must not overlap. m % 8 == 0, k % 32 == 0.
void kiln_repack_q4_0_x8(const void *src, void *dst, int64_t k, int64_t m);
// The inverse: x8 tiles back to GGUF row order.
void kiln_unpack_q4_0_x8(const void *src, void *dst, int64_t k, int64_t m);
// The same for Q8_0 (codes offset by 128 on the way in, back on the way out).
void kiln_repack_q8_0_x8(const void *src, void *dst, int64_t k, int64_t m);
void kiln_unpack_q8_0_x8(const void *src, void *dst, int64_t k, int64_t m);

#ifdef __cplusplus
}
#endif
