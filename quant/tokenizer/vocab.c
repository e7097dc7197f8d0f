// The vocabulary of either kind (vocab.h).
#include "quant/tokenizer/vocab.h"
#include "quant/tokenizer/bpe_encode.h"
#include "quant/tokenizer/spm_encode.h"

#include <stdlib.h>
#include <string.h>

struct kiln_vocab {
    struct kiln_spm *spm;
    struct kiln_bpe *bpe;
};

enum kiln_status kiln_vocab_load(const struct kiln_gguf *g, struct kiln_vocab **out) {
    *out = NULL;
    const struct kiln_gguf_kv *model = kiln_gguf_find(g, "tokenizer.ggml.model");
    struct kiln_vocab *v = calloc(1, sizeof *v);
    if (!v)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    const bool gpt2 = model && model->value.type == KILN_GGUF_STRING && model->value.str.len == 4 &&
                      !memcmp(model->value.str.data, "gpt2", 4);
    const enum kiln_status s = gpt2 ? kiln_bpe_load(g, &v->bpe) : kiln_spm_load(g, &v->spm);
    if (s != KILN_OK) {
        free(v);
        return s;
    }
    *out = v;
    return KILN_OK;
}

void kiln_vocab_free(struct kiln_vocab *v) {
    if (!v)
        return;
    kiln_spm_free(v->spm);
    kiln_bpe_free(v->bpe);
    free(v);
}

int64_t kiln_vocab_encode(const struct kiln_vocab *v, const char *text, int32_t *out, int64_t max) {
    return v->bpe ? kiln_bpe_encode(v->bpe, text, out, max) : kiln_spm_encode(v->spm, text, out, max);
}

size_t kiln_vocab_decode(const struct kiln_vocab *v, int32_t id, char *buf, size_t size) {
    return v->bpe ? kiln_bpe_decode(v->bpe, id, buf, size) : kiln_spm_decode(v->spm, id, buf, size);
}
