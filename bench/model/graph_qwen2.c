// The qwen2 graph (Qwen2, Qwen2.5), one block: the llama block with
//   - biases added to the q, k and v projections (HF Qwen2Attention: bias=True on q/k/v, not o);
//   - rope on neox pairs (i, i + head_dim/2), HF's rotate_half on unpermuted rows.
#include "bench/model/model_internal.h"

enum kiln_status kiln_graph_qwen2_layer(struct kiln_model *m, struct kiln_stream *s, const struct layer *L,
                                        int64_t n, int64_t pos0) {
    KILN_TRY(kiln_graph_qkv(m, s, L, n));
    struct kiln_tensor q = kiln_graph_cols(&m->q, n), k = kiln_graph_cols(&m->k, n), v = kiln_graph_cols(&m->v, n);
    KILN_TRY(kiln_add(s, &q, &q, &L->w[KILN_BLK_Q_BIAS]));  // one bias row, broadcast over tokens
    KILN_TRY(kiln_add(s, &k, &k, &L->w[KILN_BLK_K_BIAS]));
    KILN_TRY(kiln_add(s, &v, &v, &L->w[KILN_BLK_V_BIAS]));
    KILN_TRY(kiln_graph_attend(m, s, L, n, pos0, KILN_ROPE_NEOX));
    return kiln_graph_ffn(m, s, L, n);
}
