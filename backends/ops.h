// kiln's ops: what each computes, the tensor layout it takes, and the entry points that pick a
// kernel and enqueue it on a stream.
//
// All shapes are in GGUF order (ne[0] fastest). Rows may be strided (any nb[1..3]); elements
// within a row are contiguous (nb[0] = bytes per block). Every entry point validates its tensors
// first and returns KILN_E_INVALID / KILN_E_UNSUPPORTED with a message naming the problem.
#pragma once

#include "backends/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

enum kiln_op_kind {
    KILN_OP_MATMUL,     // y[n][m] = x[n][k] . W[m][k]^T
    KILN_OP_ATTENTION,  // causal multi-head attention with grouped-query heads
    KILN_OP_DEQUANT,    // any type -> f32 or f16
    KILN_OP_RMSNORM,    // y = x / sqrt(mean(x^2) + eps) * w
    KILN_OP_ROPE,       // rotary position embedding, normal or neox pairing
    KILN_OP_SWIGLU,     // y = silu(gate) * up
    KILN_OP_ADD,        // y = a + b
    KILN_OP_GET_ROWS,   // y[i] = dequant(table[ids[i]])
    KILN_OP_COPY,       // y = convert(x) between any types kiln can read and write
    KILN_OP_COUNT
};

const char *kiln_op_name(enum kiln_op_kind op);            // "matmul"
bool kiln_op_from_name(const char *name, enum kiln_op_kind *out);

enum kiln_rope_mode {
    KILN_ROPE_NORMAL = 0,  // rotates pairs (2i, 2i+1): Llama as converted to GGUF
    KILN_ROPE_NEOX   = 2,  // rotates pairs (i, i + n_dims/2): GPT-NeoX, HF layout (ggml's id 2)
};

struct kiln_attention_params {
    float scale;    // applied to q.k, usually 1/sqrt(head_dim)
    int32_t pos0;   // position of the first query; query i sits at pos0 + i
    bool causal;    // key j is visible to query i iff j <= pos0 + i
};

struct kiln_rmsnorm_params { float eps; };

#define KILN_ROPE_MAX_PAIRS 128  // frequency factors for head dims up to 256

struct kiln_rope_params {
    enum kiln_rope_mode mode;
    int32_t n_dims;     // leading dims rotated (= head dim for Llama); the rest pass through
    float theta_base;   // 10000 (Llama 2), 500000 (Llama 3)
    // Llama 3's rope scaling (ggml's freq_factors, GGUF rope_freqs.weight): pair i's angle is
    // pos * theta_base^(-2i/n_dims) / freq_factors[i]. Held by value (n_dims/2 <= 128 pairs),
    // so every backend reads them from the op, also inside a captured graph.
    bool has_freq_factors;
    float freq_factors[KILN_ROPE_MAX_PAIRS];
};

// One op as the kernels see it: the destination, up to three sources, the op's parameters.
// Tensors are held by value, so an enqueued op does not depend on the caller's structs.
struct kiln_op {
    enum kiln_op_kind kind;
    struct kiln_tensor dst;
    struct kiln_tensor src[3];
    int n_src;
    union {
        struct kiln_attention_params attention;
        struct kiln_rmsnorm_params rmsnorm;
        struct kiln_rope_params rope;
    } params;
};

// Which kernel(s) an entry point ran: "matmul.q4_0.avx2.gemv", or for the fallback
// "dequant.q4_1.f32.avx2 + matmul.f32.avx2.gemm".
struct kiln_kernel;
struct kiln_path {
    char name[160];
    bool fallback;   // dequantize-then-float, because no fused kernel fits
    const struct kiln_kernel *kernel;  // the row that ran (the matmul's, for the fallback)
};

// matmul: W [k, m] of any type kiln can dequantize, x [k, n] f32, y [m, n] f32.
// Dims 2 and 3 of x and y are batch dims (equal in x and y; W is shared).
enum kiln_status kiln_matmul(struct kiln_stream *s, const struct kiln_tensor *y,
                             const struct kiln_tensor *w, const struct kiln_tensor *x,
                             struct kiln_path *path);

// attention: q [D, n_q, H] f32; k, v [D, n_kv, H_kv] f16 or f32 (same type); out [D, n_q, H] f32.
// H must be a multiple of H_kv (query head h reads kv head h / (H / H_kv)). Causal attention
// needs pos0 + n_q <= n_kv (the cache holds the queries' own keys).
enum kiln_status kiln_attention(struct kiln_stream *s, const struct kiln_tensor *out,
                                const struct kiln_tensor *q, const struct kiln_tensor *k,
                                const struct kiln_tensor *v,
                                const struct kiln_attention_params *params,
                                struct kiln_path *path);

// dequant: src of any dequantizable type -> dst f32 or f16 of the same shape.
enum kiln_status kiln_dequant(struct kiln_stream *s, const struct kiln_tensor *dst,
                              const struct kiln_tensor *src, struct kiln_path *path);

// rmsnorm over ne[0] of each row; w [ne0] f32, or NULL for no weight.
enum kiln_status kiln_rmsnorm(struct kiln_stream *s, const struct kiln_tensor *dst,
                              const struct kiln_tensor *x, const struct kiln_tensor *w, float eps);

// rope: x, dst [D, H, n] f32; pos [n] i32 (token i of dim 2 at position pos[i]).
enum kiln_status kiln_rope(struct kiln_stream *s, const struct kiln_tensor *dst,
                           const struct kiln_tensor *x, const struct kiln_tensor *pos,
                           const struct kiln_rope_params *params);

// swiglu: dst = silu(gate) * up, all f32 of one shape.
enum kiln_status kiln_swiglu(struct kiln_stream *s, const struct kiln_tensor *dst,
                             const struct kiln_tensor *gate, const struct kiln_tensor *up);

// add: dst = a + b, all f32 of one shape; or b one row [ne0] (a bias), added to every row of a.
enum kiln_status kiln_add(struct kiln_stream *s, const struct kiln_tensor *dst,
                          const struct kiln_tensor *a, const struct kiln_tensor *b);

// get_rows: table [k, n_rows] any dequantizable type, ids [n] i32, dst [k, n] f32.
// An id outside [0, n_rows) is an error found by the kernel: it writes zeros for that row and
// the op returns KILN_E_INVALID at the next sync on asynchronous devices, at once on the CPU.
enum kiln_status kiln_get_rows(struct kiln_stream *s, const struct kiln_tensor *dst,
                               const struct kiln_tensor *table, const struct kiln_tensor *ids);

// copy: src -> dst of the same shape; src any type with a dequantizer, dst any type with a
// quantizer (f32, f16, bf16, q8_0, ...). Used for K/V cache writes.
enum kiln_status kiln_copy(struct kiln_stream *s, const struct kiln_tensor *dst,
                           const struct kiln_tensor *src);

#ifdef __cplusplus
}
#endif
