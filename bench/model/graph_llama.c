// The llama graph (Llama 1/2/3.x, Mistral as converted to GGUF), one block:
//   cur = rmsnorm(x) * attn_norm; q, k, v = W{q,k,v} . cur;
//   rope(q), rope(k) on adjacent pairs (the converter permuted q/k rows from HF's rotate-half),
//   each pair's angle divided by rope_freqs[i] where the file has them (Llama 3.1+);
//   attention over the f16 K/V cache (causal, GQA); x += Wo . out;
//   x += Wdown . (silu(Wgate . rmsnorm(x) * ffn_norm) * (Wup . ...)).
#include "bench/model/model_internal.h"

enum kiln_status kiln_graph_llama_layer(struct kiln_model *m, struct kiln_stream *s, const struct layer *L,
                                        int64_t n, int64_t pos0) {
    KILN_TRY(kiln_graph_qkv(m, s, L, n));
    KILN_TRY(kiln_graph_attend(m, s, L, n, pos0, KILN_ROPE_NORMAL));
    return kiln_graph_ffn(m, s, L, n);
}
