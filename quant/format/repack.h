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
#include "quant/format/types.h"

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

// ---- K-quants in tiles of 16 rows (KILN_LAYOUT_Q2_K_X16 .. _Q6_K_X16) ----
//
// Why: the row-layout K-quant GEMV (matmul_kquant_tile_avx512.c) spends ~50 vector uops per row
// and super-block on ports 0 and 5, a third of them unpacking the block's scales and its mins or
// offset term, and stays compute-bound below the read bandwidth. With 16 rows side by side one
// zmm lane is one row: the 4 x codes of a group are one broadcast for all 16 rows (vpdpbusd's
// embedded {1to16}), and the scales of 16 rows unpack in one pass of dword ops
// (matmul_kquant_x16_avx512.c). ggml's Q4_K_8x8 repack does the same for the same reason; these
// layouts are kiln's own (not byte-compatible with ggml's).
//
// Tile t holds rows 16t..16t+15 in the bytes those rows occupied (16 x k/256 blocks), as one
// record of 16 blocks' bytes per super-block b (record b at b * 16 * block size). In a record,
// "A[16]" is a 64-byte array of one dword per row (row r at 4r).
// q4_K (block {d, dmin, scales[12], qs[128]}; record 2304 bytes):
//   [0, 32) f16 d of rows 0..15; [32, 64) f16 dmin
//   [64, 256) the 12 packed scale bytes (spec 3.4) as A[16] of bytes 0-3, 4-7, 8-11
//   [256, 2304) codes: for chunk j = 0..3, group q = 0..7: A[16] of qs bytes 32j + 4q .. + 3
//                (offset 256 + (8j + q) * 64): low nibbles are elements 64j + 4q + i, high
//                nibbles 64j + 32 + 4q + i
// q5_K (block {d, dmin, scales[12], qh[32], qs[128]}; record 2816 bytes): q4_K's record, then
//   [2304, 2816) the 5th bits: for group q = 0..7, A[16] of qh bytes 4q .. 4q + 3 (offset
//                2304 + 64q): bit s of byte i is the 5th bit of element 4q + i of sub-block s
// q6_K (block {ql[128], qh[64], scales[16], d}; record 3360 bytes):
//   [0, 3072) codes: for half h = 0..1, group g = 0..7, at 3072 / 2 h + 192 g: A[16] of ql
//                bytes 64h + 4g .. + 3, A[16] of ql bytes 64h + 32 + 4g .. + 3, A[16] of qh
//                bytes 32h + 4g .. + 3 (the four 32-element runs of the half, spec 3.6)
//   [3072, 3328) the 16 int8 scales as A[16] of bytes 0-3, 4-7, 8-11, 12-15
//   [3328, 3360) f16 d of rows 0..15
// q2_K (block {scales[16], qs[64], d, dmin}; record 1344 bytes):
//   [0, 1024)    codes: for half h = 0..1, group g = 0..7, at 512h + 64g: A[16] of qs bytes
//                32h + 4g .. + 3 (bits 2j..2j+1 of byte i: element 128h + 32j + 4g + i)
//   [1024, 1280) the 16 scale bytes (low nibble scale, high nibble min) as A[16] of bytes
//                0-3, 4-7, 8-11, 12-15
//   [1280, 1312) f16 d of rows 0..15; [1312, 1344) f16 dmin
// q3_K (block {hmask[32], qs[64], scales[12], d}; record 1760 bytes):
//   [0, 1024)    codes as q2_K's
//   [1024, 1536) high bits: for group g = 0..7, A[16] of hmask bytes 4g .. 4g + 3 (bit 4h + j
//                of byte i: element 128h + 32j + 4g + i)
//   [1536, 1728) the 12 packed scale bytes as A[16] of bytes 0-3, 4-7, 8-11
//   [1728, 1760) f16 d of rows 0..15
// m % 16 == 0, k % 256 == 0, rows contiguous (kiln_layout_fits).
enum { KILN_X16_ROWS = 16, KILN_Q2_K_X16_RECORD = 16 * 84, KILN_Q3_K_X16_RECORD = 16 * 110,
       KILN_Q4_K_X16_RECORD = 16 * 144, KILN_Q5_K_X16_RECORD = 16 * 176, KILN_Q6_K_X16_RECORD = 16 * 210 };
static inline size_t kiln_x16_record_bytes(enum kiln_type type) {
    switch (type) {
    case KILN_TYPE_Q2_K: return KILN_Q2_K_X16_RECORD;
    case KILN_TYPE_Q3_K: return KILN_Q3_K_X16_RECORD;
    case KILN_TYPE_Q5_K: return KILN_Q5_K_X16_RECORD;
    case KILN_TYPE_Q6_K: return KILN_Q6_K_X16_RECORD;
    default: return KILN_Q4_K_X16_RECORD;
    }
}
static inline size_t kiln_x16_tile_bytes(enum kiln_type type, int64_t k) {
    return (size_t)(k / 256) * kiln_x16_record_bytes(type);
}
// `type` is one of KILN_TYPE_Q2_K .. KILN_TYPE_Q6_K. src and dst must not overlap.
void kiln_repack_x16(enum kiln_type type, const void *src, void *dst, int64_t k, int64_t m);
void kiln_unpack_x16(enum kiln_type type, const void *src, void *dst, int64_t k, int64_t m);
// Row r's super-block b of one tile, back to GGUF's block bytes (out).
void kiln_x16_block(enum kiln_type type, const void *tile, int64_t b, int r, void *out);

#ifdef __cplusplus
}
#endif
