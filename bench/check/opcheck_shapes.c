// The shapes `kiln ops` checks each kernel on (opcheck.h). Awkward sizes on purpose: 1, 7, 33,
// 4097 and friends catch tail loops, tile edges and partitioning between threads; strided cases
// catch kernels that assume contiguous rows. Quantized types need k a multiple of their block.
#include <stdio.h>
#include <string.h>

#include "bench/check/opcheck.h"

#define MM(m_, n_, k_, s_) { .op = KILN_OP_MATMUL, .m = m_, .n = n_, .k = k_, .strided = s_ }
static const struct kiln_check_case matmul_shapes[] = {
    // decode (GEMV): n < 16
    // (every case has >= 7 outputs: NMSE over fewer is dominated by chance cancellation in y)
    MM(1, 7, 32, false), MM(7, 1, 64, false), MM(33, 1, 4096, false), MM(4097, 1, 96, false),
    MM(64, 7, 256, true), MM(37, 15, 128, false),
    // prefill (GEMM): n >= 16, tile edges in m and n
    MM(7, 16, 32, false), MM(33, 17, 4096, false), MM(129, 33, 512, true), MM(64, 64, 256, false),
    MM(33, 130, 64, false),  // more x rows than one GEMM n block (NC = 120)
    // whole 8-row tiles, for weights repacked into the x8 layout (quant/format/repack.h), which
    // declines the cases above whose m is not a multiple of 8 or whose rows are strided
    MM(8, 1, 32, false), MM(136, 5, 4096, false), MM(56, 17, 4096, false),
    // float-only k that is not a multiple of 32 (quantized types skip these)
    MM(7, 1, 7, false), MM(33, 3, 4097, false), MM(9, 19, 33, true), MM(3, 3, 1, false),
    // whole super-blocks (k a multiple of 256) with row tails: the K-quant kernels' edges
    MM(7, 3, 256, false), MM(4099, 1, 256, false), MM(13, 15, 512, true),
    // more than one window of rows and panel of x columns of the integer GEMMs (64 x 256 for the
    // K-quants, 32-column panels for the x8 types), both with tails
    MM(72, 300, 256, false),
    // whole 16-row tiles of whole super-blocks, for q4_K repacked into the x16 layout: GEMV with
    // one and several x rows, GEMM over more than one 64-row window with a tail
    MM(48, 1, 512, false), MM(32, 7, 256, false), MM(80, 33, 768, false),
    // batched x and y (run slice by slice, as the entry point does), permuted so that each
    // slice's rows are strided by the batch, and views 2-4 bytes past an aligned address
    { .op = KILN_OP_MATMUL, .m = 33, .n = 5, .k = 256, .batch = 3, .permuted = true },
    { .op = KILN_OP_MATMUL, .m = 64, .n = 17, .k = 128, .batch = 2 },
    { .op = KILN_OP_MATMUL, .m = 40, .n = 3, .k = 96, .offset = true },
    { .op = KILN_OP_MATMUL, .m = 16, .n = 2, .k = 64, .batch = 2, .offset = true },
    { .op = KILN_OP_MATMUL, .m = 24, .n = 20, .k = 64, .batch = 2, .permuted = true, .offset = true },
};
#undef MM

#define AT(d_, nq_, nkv_, h_, hkv_, pos0_, causal_, s_)                                          \
    { .op = KILN_OP_ATTENTION, .d = d_, .n_q = nq_, .n_kv = nkv_, .h = h_, .h_kv = hkv_,          \
      .pos0 = pos0_, .causal = causal_, .strided = s_ }
static const struct kiln_check_case attention_shapes[] = {
    // decode: one query at the end of the cache, GQA groups of 1, 4 and 8
    AT(64, 1, 1, 1, 1, 0, true, false), AT(128, 1, 77, 8, 2, 76, true, true),
    AT(64, 1, 300, 4, 4, 299, true, false), AT(128, 1, 1000, 8, 1, 999, true, false),
    // prefill: causal blocks, a prompt after a cached prefix, non-causal
    AT(64, 7, 7, 4, 2, 0, true, false), AT(128, 33, 40, 4, 1, 7, true, true),
    AT(64, 5, 33, 2, 1, 0, false, false),
    // head dims beyond 64/128: 80 and 72 (a tail of 8), and 7 (fast paths decline it)
    AT(80, 3, 10, 2, 2, 7, true, false), AT(72, 2, 5, 2, 1, 3, true, false),
    AT(7, 2, 3, 3, 1, 1, true, false),
    // large scores (|s| ~ 150): exp of an unshifted score overflows
    { .op = KILN_OP_ATTENTION, .d = 64, .n_q = 1, .n_kv = 300, .h = 4, .h_kv = 4, .pos0 = 299,
      .causal = true, .hot = true },
    { .op = KILN_OP_ATTENTION, .d = 128, .n_q = 9, .n_kv = 40, .h = 4, .h_kv = 1, .pos0 = 31,
      .causal = true, .hot = true },
    { .op = KILN_OP_ATTENTION, .d = 64, .n_q = 3, .n_kv = 3, .h = 2, .h_kv = 2, .causal = true,
      .offset = true },
};
#undef AT

#define ROWS(op_, k_, n_, s_) { .op = KILN_OP_##op_, .k = k_, .n = n_, .strided = s_ }
static const struct kiln_check_case dequant_shapes[] = {
    ROWS(DEQUANT, 32, 1, false), ROWS(DEQUANT, 4096, 3, false), ROWS(DEQUANT, 96, 7, true),
    ROWS(DEQUANT, 7, 2, false), ROWS(DEQUANT, 33, 3, true), ROWS(DEQUANT, 512, 5, true),
    { .op = KILN_OP_DEQUANT, .k = 256, .n = 9, .offset = true },
};
static const struct kiln_check_case copy_shapes[] = {
    ROWS(COPY, 64, 3, false), ROWS(COPY, 4096, 2, true), ROWS(COPY, 7, 3, false),
    { .op = KILN_OP_COPY, .k = 128, .n = 5, .offset = true },
};
static const struct kiln_check_case rmsnorm_shapes[] = {
    ROWS(RMSNORM, 4096, 3, false), ROWS(RMSNORM, 7, 1, false), ROWS(RMSNORM, 33, 5, true),
    { .op = KILN_OP_RMSNORM, .k = 96, .n = 6, .offset = true },
};
static const struct kiln_check_case swiglu_shapes[] = {
    ROWS(SWIGLU, 4097, 2, false), ROWS(SWIGLU, 1, 1, false), ROWS(SWIGLU, 33, 7, true),
    { .op = KILN_OP_SWIGLU, .k = 65, .n = 4, .offset = true },
};
static const struct kiln_check_case add_shapes[] = {
    ROWS(ADD, 4097, 2, false), ROWS(ADD, 1, 1, false), ROWS(ADD, 33, 7, true),
    { .op = KILN_OP_ADD, .k = 65, .n = 4, .offset = true },
    // a bias row added to every row (qwen2's q/k/v biases)
    { .op = KILN_OP_ADD, .k = 96, .n = 5, .broadcast = true }, { .op = KILN_OP_ADD, .k = 33, .n = 7, .strided = true, .broadcast = true },
    { .op = KILN_OP_ADD, .k = 64, .n = 3, .offset = true, .broadcast = true },
};
#undef ROWS

static const struct kiln_check_case rope_shapes[] = {
    { .op = KILN_OP_ROPE, .k = 128, .h = 4, .n = 3, .rope_mode = KILN_ROPE_NORMAL },
    { .op = KILN_OP_ROPE, .k = 64, .h = 2, .n = 5, .rope_mode = KILN_ROPE_NEOX },
    { .op = KILN_OP_ROPE, .k = 96, .h = 3, .n = 2, .rope_mode = KILN_ROPE_NORMAL, .rope_dims = 64 },
    { .op = KILN_OP_ROPE, .k = 2, .h = 1, .n = 1, .rope_mode = KILN_ROPE_NEOX },
    { .op = KILN_OP_ROPE, .k = 64, .h = 3, .n = 4, .rope_mode = KILN_ROPE_NORMAL, .offset = true },
    // with Llama 3's frequency factors, both pairings, and rotated dims below the head size
    { .op = KILN_OP_ROPE, .k = 128, .h = 4, .n = 3, .rope_mode = KILN_ROPE_NORMAL, .rope_ff = true },
    { .op = KILN_OP_ROPE, .k = 64, .h = 2, .n = 5, .rope_mode = KILN_ROPE_NEOX, .rope_ff = true },
    { .op = KILN_OP_ROPE, .k = 96, .h = 3, .n = 2, .rope_mode = KILN_ROPE_NEOX, .rope_dims = 64, .rope_ff = true },
};

static const struct kiln_check_case get_rows_shapes[] = {
    { .op = KILN_OP_GET_ROWS, .k = 64, .m = 100, .n = 5 },
    { .op = KILN_OP_GET_ROWS, .k = 4096, .m = 33, .n = 2 },
    { .op = KILN_OP_GET_ROWS, .k = 7, .m = 3, .n = 4 },
    { .op = KILN_OP_GET_ROWS, .k = 256, .m = 9, .n = 3 },
    { .op = KILN_OP_GET_ROWS, .k = 64, .m = 17, .n = 6, .offset = true },
};

#define LIST(a) { a, (int)(sizeof a / sizeof a[0]) }
static const struct { const struct kiln_check_case *cases; int n; } lists[KILN_OP_COUNT] = {
    [KILN_OP_MATMUL] = LIST(matmul_shapes),   [KILN_OP_ATTENTION] = LIST(attention_shapes),
    [KILN_OP_DEQUANT] = LIST(dequant_shapes), [KILN_OP_RMSNORM] = LIST(rmsnorm_shapes),
    [KILN_OP_ROPE] = LIST(rope_shapes),       [KILN_OP_SWIGLU] = LIST(swiglu_shapes),
    [KILN_OP_ADD] = LIST(add_shapes),         [KILN_OP_GET_ROWS] = LIST(get_rows_shapes),
    [KILN_OP_COPY] = LIST(copy_shapes),
};
#undef LIST

int kiln_check_cases_for(enum kiln_op_kind op, enum kiln_type src_type, enum kiln_type dst_type,
                         struct kiln_check_case *out, int max) {
    if ((unsigned)op >= KILN_OP_COUNT)
        return 0;
    const int block = kiln_type_block_size(src_type) > kiln_type_block_size(dst_type)
                          ? kiln_type_block_size(src_type)
                          : kiln_type_block_size(dst_type);
    int count = 0;
    for (int i = 0; i < lists[op].n && count < max; i++) {
        struct kiln_check_case c = lists[op].cases[i];
        const int64_t row = op == KILN_OP_ATTENTION ? c.d : c.k;
        if (block > 1 && row % block)
            continue;  // quantized rows hold whole blocks only
        c.src_type = src_type;
        c.dst_type = dst_type;
        out[count++] = c;
    }
    return count;
}

void kiln_check_case_describe(const struct kiln_check_case *c, char *buf, size_t size) {
    const char *strided = c->strided ? " strided" : "";
    switch (c->op) {
    case KILN_OP_MATMUL:
        snprintf(buf, size, "m=%lld n=%lld k=%lld%s", (long long)c->m, (long long)c->n,
                 (long long)c->k, strided);
        if (c->batch > 1)
            snprintf(buf + strlen(buf), size - strlen(buf), " batch=%lld%s", (long long)c->batch,
                     c->permuted ? " permuted" : "");
        break;
    case KILN_OP_ATTENTION:
        snprintf(buf, size, "D=%lld q=%lld kv=%lld H=%lld/%lld pos0=%lld%s%s", (long long)c->d,
                 (long long)c->n_q, (long long)c->n_kv, (long long)c->h, (long long)c->h_kv,
                 (long long)c->pos0, c->causal ? "" : " non-causal", strided);
        if (c->hot)
            snprintf(buf + strlen(buf), size - strlen(buf), " large-scores");
        break;
    case KILN_OP_ROPE:
        snprintf(buf, size, "D=%lld H=%lld n=%lld %s dims=%d", (long long)c->k, (long long)c->h,
                 (long long)c->n, c->rope_mode == KILN_ROPE_NEOX ? "neox" : "normal",
                 c->rope_dims ? c->rope_dims : (int)c->k);
        if (c->rope_ff)
            snprintf(buf + strlen(buf), size - strlen(buf), " freq-factors");
        break;
    case KILN_OP_GET_ROWS:
        snprintf(buf, size, "k=%lld rows=%lld ids=%lld", (long long)c->k, (long long)c->m,
                 (long long)c->n);
        break;
    default:
        snprintf(buf, size, "k=%lld rows=%lld%s", (long long)c->k, (long long)c->n, strided);
        break;
    }
    if (c->broadcast)
        snprintf(buf + strlen(buf), size - strlen(buf), " bias-row");
    if (c->offset)
        snprintf(buf + strlen(buf), size - strlen(buf), " unaligned");
}

enum kiln_type kiln_check_case_tolerance_type(const struct kiln_check_case *c) {
    switch (c->op) {
    case KILN_OP_MATMUL:
    case KILN_OP_ATTENTION:
    case KILN_OP_DEQUANT:
    case KILN_OP_GET_ROWS: return c->src_type;
    case KILN_OP_COPY: return c->dst_type;
    default: return KILN_TYPE_F32;
    }
}
