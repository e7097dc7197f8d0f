// The qwen3 graph (Qwen3 dense), one block: the llama block with
//   - RMSNorm over each head of q and of k (weights attn_q_norm / attn_k_norm [head_dim], the
//     model's eps) after the projections and before rope (HF Qwen3Attention q_norm/k_norm);
//   - head_dim from attention.key_length (128 for every Qwen3, not hidden/heads);
//   - rope on neox pairs; no biases.
#include "bench/model/model_internal.h"

enum kiln_status kiln_graph_qwen3_layer(struct kiln_model *m, struct kiln_stream *s, const struct layer *L,
                                        int64_t n, int64_t pos0) {
    const struct kiln_model_info *c = &m->info;
    KILN_TRY(kiln_graph_qkv(m, s, L, n));
    struct kiln_tensor q = kiln_graph_cols(&m->q, n), k = kiln_graph_cols(&m->k, n);
    // rmsnorm normalizes each ne0 row: viewed [head_dim, heads, n], every head is a row.
    const struct kiln_tensor qh = kiln_graph_heads(&q, c->head_dim, c->n_head, n);
    const struct kiln_tensor kh = kiln_graph_heads(&k, c->head_dim, c->n_head_kv, n);
    KILN_TRY(kiln_rmsnorm(s, &qh, &qh, &L->w[KILN_BLK_Q_NORM], c->rms_eps));
    KILN_TRY(kiln_rmsnorm(s, &kh, &kh, &L->w[KILN_BLK_K_NORM], c->rms_eps));
    KILN_TRY(kiln_graph_attend(m, s, L, n, pos0, KILN_ROPE_NEOX));
    return kiln_graph_ffn(m, s, L, n);
}
