// Block layouts of the quantized types, byte for byte as ggml's (spec/ggml-formats.md §6).
// Every struct is packed by construction (only uint8/uint16 members, or sizes that leave no
// padding) and its size is checked below; GLSL and CUDA mirrors are checked against these by
// tests that dequantize known bytes on every backend.
#pragma once

#include <assert.h>
#include <stdint.h>

#include "quant/format/fp16.h"

#define KILN_QK4_0 32
#define KILN_QK4_1 32
#define KILN_QK5_0 32
#define KILN_QK5_1 32
#define KILN_QK8_0 32
#define KILN_QK8_1 32

struct kiln_block_q4_0 {
    kiln_half d;               // scale; value = (q - 8) * d
    uint8_t qs[KILN_QK4_0 / 2]; // byte j: element j in the low nibble, j + 16 in the high nibble
};

struct kiln_block_q4_1 {
    kiln_half d;               // scale; value = q * d + m
    kiln_half m;               // block minimum
    uint8_t qs[KILN_QK4_1 / 2];
};

struct kiln_block_q5_0 {
    kiln_half d;               // value = ((nibble | hbit << 4) - 16) * d
    uint8_t qh[4];             // uint32 LE: bit j = bit 4 of element j
    uint8_t qs[KILN_QK5_0 / 2];
};

struct kiln_block_q5_1 {
    kiln_half d;
    kiln_half m;
    uint8_t qh[4];
    uint8_t qs[KILN_QK5_1 / 2];
};

struct kiln_block_q8_0 {
    kiln_half d;               // value = qs[i] * d
    int8_t qs[KILN_QK8_0];
};

struct kiln_block_q8_1 {
    kiln_half d;
    kiln_half s;               // fp16(d * sum(qs)), the min-term partner of Q4_1/Q5_1 on the CPU
    int8_t qs[KILN_QK8_1];
};

static_assert(sizeof(struct kiln_block_q4_0) == 18, "q4_0 block is 18 bytes");
static_assert(sizeof(struct kiln_block_q4_1) == 20, "q4_1 block is 20 bytes");
static_assert(sizeof(struct kiln_block_q5_0) == 22, "q5_0 block is 22 bytes");
static_assert(sizeof(struct kiln_block_q5_1) == 24, "q5_1 block is 24 bytes");
static_assert(sizeof(struct kiln_block_q8_0) == 34, "q8_0 block is 34 bytes");
static_assert(sizeof(struct kiln_block_q8_1) == 36, "q8_1 block is 36 bytes");

// ---- K-quants: super-blocks of 256 (spec §6.9-6.14) ----
#define KILN_QK_K 256

struct kiln_block_q2_K {
    uint8_t scales[16];        // low nibble: scale code, high nibble: min code, per 16 elements
    uint8_t qs[64];            // 2-bit codes
    kiln_half d, dmin;
};

struct kiln_block_q3_K {
    uint8_t hmask[32];         // high bit of element e: bit e/32 of hmask[e % 32]
    uint8_t qs[64];            // low 2 bits, as Q2_K
    uint8_t scales[12];        // sixteen 6-bit codes
    kiln_half d;
};

struct kiln_block_q4_K {
    kiln_half d, dmin;
    uint8_t scales[12];        // eight 6-bit scale codes and eight 6-bit min codes
    uint8_t qs[128];
};

struct kiln_block_q5_K {
    kiln_half d, dmin;
    uint8_t scales[12];
    uint8_t qh[32];            // 5th bit of element e (sub-block j): bit j of qh[e % 32]
    uint8_t qs[128];
};

struct kiln_block_q6_K {
    uint8_t ql[128];           // low 4 bits
    uint8_t qh[64];            // high 2 bits
    int8_t scales[16];
    kiln_half d;
};

struct kiln_block_q8_K {
    float d;                   // float32, not fp16
    int8_t qs[KILN_QK_K];
    int16_t bsums[16];         // sums of qs per 16 elements
};

// The non-linear 4-bit types (ggml-common.h): codes index kiln_iq4_values, not a linear grid.
#define KILN_QK4_NL 32
struct kiln_block_iq4_nl {
    kiln_half d;               // value = d * kiln_iq4_values[code]
    uint8_t qs[KILN_QK4_NL / 2]; // as q4_0: element j low nibble of byte j, j + 16 high nibble
};

struct kiln_block_iq4_xs {
    kiln_half d;               // super-block scale
    uint16_t scales_h;         // bits 4-5 of the eight 6-bit block scales, 2 bits each
    uint8_t scales_l[KILN_QK_K / 64]; // bits 0-3: block 2i low nibble, 2i + 1 high nibble
    uint8_t qs[KILN_QK_K / 2]; // per block of 32, as iq4_nl; value = d * (scale - 32) * kvalue
};

// ggml's kvalues_iq4nl: the 16 levels, denser near zero (what Gaussian-like weights need).
static const int8_t kiln_iq4_values[16] = { -127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113 };

static_assert(sizeof(struct kiln_block_iq4_nl) == 18, "iq4_nl block is 18 bytes");
static_assert(sizeof(struct kiln_block_iq4_xs) == 136, "iq4_xs block is 136 bytes");
static_assert(sizeof(struct kiln_block_q2_K) == 84, "q2_K block is 84 bytes");
static_assert(sizeof(struct kiln_block_q3_K) == 110, "q3_K block is 110 bytes");
static_assert(sizeof(struct kiln_block_q4_K) == 144, "q4_K block is 144 bytes");
static_assert(sizeof(struct kiln_block_q5_K) == 176, "q5_K block is 176 bytes");
static_assert(sizeof(struct kiln_block_q6_K) == 210, "q6_K block is 210 bytes");
static_assert(sizeof(struct kiln_block_q8_K) == 292, "q8_K block is 292 bytes");
