// Text <-> token ids with a GGUF file's SentencePiece vocabulary (tokenizer.ggml.model "llama",
// Llama 1/2, Mistral): spm_encode.h. The algorithm is SentencePiece's BPE encoding, as llama.cpp's
// llm_tokenizer_spm implements it: spaces become U+2581 and one is prefixed; the text starts as
// one symbol per UTF-8 character; the adjacent pair whose concatenation is a vocabulary piece
// with the highest score (ties: the leftmost) is merged, repeatedly; a final symbol that is no
// piece falls back to its bytes' <0xXX> tokens (or unk). Checked against the sentencepiece
// library by tests/oracle/test_spm_tokenizer.py.
#include "quant/tokenizer/spm_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kiln_spm {
    int64_t n;
    const struct kiln_gguf_string *pieces;
    // Into the mapped file: GGUF packs metadata arrays with no alignment, so these are read
    // through memcpy (score(), type()), never as float/int32 pointers (UBSan caught that).
    const uint8_t *scores;     // f32 each
    const uint8_t *types;      // i32 each: 6 = byte (<0xXX>), 3 = control, ...
    int32_t *table;            // open addressing over piece text: ids, -1 empty
    uint64_t table_size;
    int32_t byte_token[256];
    int32_t bos, unk;
    bool add_bos;
};

static float score(const struct kiln_spm *t, int32_t id) {
    float v;
    memcpy(&v, t->scores + 4 * (size_t)id, 4);
    return v;
}

static int32_t token_type(const struct kiln_spm *t, int32_t id) {
    int32_t v;
    memcpy(&v, t->types + 4 * (size_t)id, 4);
    return v;
}

static uint64_t hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

static int32_t lookup(const struct kiln_spm *t, const char *s, size_t n) {
    for (uint64_t i = hash(s, n) & (t->table_size - 1);; i = (i + 1) & (t->table_size - 1)) {
        const int32_t id = t->table[i];
        if (id < 0)
            return -1;
        if (t->pieces[id].len == n && memcmp(t->pieces[id].data, s, n) == 0)
            return id;
    }
}

static const struct kiln_gguf_value *array_of(const struct kiln_gguf *g, const char *key, enum kiln_gguf_type elem) {
    const struct kiln_gguf_kv *kv = kiln_gguf_find(g, key);
    return kv && kv->value.type == KILN_GGUF_ARRAY && kv->value.arr.elem == elem ? &kv->value : NULL;
}

static int32_t u32_or(const struct kiln_gguf *g, const char *key, int32_t fallback) {
    const struct kiln_gguf_kv *kv = kiln_gguf_find(g, key);
    return kv && (kv->value.type == KILN_GGUF_UINT32 || kv->value.type == KILN_GGUF_INT32) ? (int32_t)kv->value.u : fallback;
}

enum kiln_status kiln_spm_load(const struct kiln_gguf *g, struct kiln_spm **out) {
    *out = NULL;
    const struct kiln_gguf_kv *model = kiln_gguf_find(g, "tokenizer.ggml.model");
    if (!model || model->value.type != KILN_GGUF_STRING)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s has no tokenizer (tokenizer.ggml.model): give token ids with --tokens",
                         g->path);
    if (model->value.str.len != 5 || memcmp(model->value.str.data, "llama", 5) != 0)
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: kiln encodes text for SentencePiece ('llama') and byte-level BPE ('gpt2') "
                         "vocabularies; this one is '%.*s': give token ids with --tokens", g->path, (int)model->value.str.len,
                         model->value.str.data);
    const struct kiln_gguf_value *tok = array_of(g, "tokenizer.ggml.tokens", KILN_GGUF_STRING);
    const struct kiln_gguf_value *sc = array_of(g, "tokenizer.ggml.scores", KILN_GGUF_FLOAT32);
    const struct kiln_gguf_value *ty = array_of(g, "tokenizer.ggml.token_type", KILN_GGUF_INT32);
    if (!tok || !sc || sc->arr.n != tok->arr.n || (ty && ty->arr.n != tok->arr.n) || tok->arr.n >= (1u << 30))
        return kiln_fail(KILN_E_FORMAT, "%s: tokenizer.ggml.tokens/scores/token_type missing or of unequal lengths", g->path);
    struct kiln_spm *t = calloc(1, sizeof *t);
    if (!t)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    t->n = (int64_t)tok->arr.n;
    t->pieces = tok->arr.data;
    t->scores = sc->arr.data;
    t->types = ty ? ty->arr.data : NULL;
    t->table_size = 1;
    while (t->table_size < 2 * (uint64_t)t->n + 2)
        t->table_size <<= 1;
    t->table = malloc(t->table_size * sizeof *t->table);
    if (!t->table) {
        free(t);
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    }
    memset(t->table, 0xff, t->table_size * sizeof *t->table);
    for (int i = 0; i < 256; i++)
        t->byte_token[i] = -1;
    for (int64_t id = 0; id < t->n; id++) {
        const struct kiln_gguf_string *p = &t->pieces[id];
        if (lookup(t, p->data, p->len) < 0) {  // first of duplicate pieces wins
            uint64_t i = hash(p->data, p->len) & (t->table_size - 1);
            while (t->table[i] >= 0)
                i = (i + 1) & (t->table_size - 1);
            t->table[i] = (int32_t)id;
        }
        unsigned byte;
        if (p->len == 6 && memcmp(p->data, "<0x", 3) == 0 && p->data[5] == '>' && sscanf(p->data + 3, "%2X", &byte) == 1)
            t->byte_token[byte] = (int32_t)id;
    }
    t->bos = u32_or(g, "tokenizer.ggml.bos_token_id", 1);
    t->unk = u32_or(g, "tokenizer.ggml.unknown_token_id", 0);
    const struct kiln_gguf_kv *ab = kiln_gguf_find(g, "tokenizer.ggml.add_bos_token");
    t->add_bos = !ab || ab->value.u != 0;
    *out = t;
    return KILN_OK;
}

void kiln_spm_free(struct kiln_spm *t) {
    if (t)
        free(t->table);
    free(t);
}

struct symbol {
    const char *text;
    size_t len;
    int prev, next;
};

static size_t utf8_len(uint8_t c) { return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1; }

// A candidate merge: symbols left and right (adjacent when queued), their total bytes, the
// merged piece's score. The heap's top is the highest score, ties the leftmost.
struct pair {
    int left, right;
    size_t size;
    float score;
};
struct pair_heap {
    struct pair *p;
    size_t n;
};

static bool pair_before(const struct pair *a, const struct pair *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void push_pair(struct pair_heap *h, struct pair v) {
    size_t i = h->n++;
    while (i > 0 && pair_before(&v, &h->p[(i - 1) / 2])) {
        h->p[i] = h->p[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->p[i] = v;
}

static struct pair pop_pair(struct pair_heap *h) {
    const struct pair top = h->p[0], last = h->p[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && pair_before(&h->p[c + 1], &h->p[c]))
            c++;
        if (!pair_before(&h->p[c], &last))
            break;
        h->p[i] = h->p[c];
        i = c;
    }
    if (h->n > 0)
        h->p[i] = last;
    return top;
}

// Queues the pair (i, j) if their concatenation is a piece.
static void queue_pair(const struct kiln_spm *t, const struct symbol *sym, struct pair_heap *h, int i, int j) {
    const size_t size = sym[i].len + sym[j].len;
    const int32_t id = lookup(t, sym[i].text, size);
    if (id >= 0)
        push_pair(h, (struct pair){ i, j, size, score(t, id) });
}

int64_t kiln_spm_encode(const struct kiln_spm *t, const char *text, int32_t *out, int64_t max) {
    // normalized text: "▁" + text with every ' ' as "▁" (3 bytes)
    const size_t n = strlen(text);
    // One symbol per character at most, and a character is at least one byte of the normalized
    // text: 3n + 3 bytes bound them. (Sized n + 2 before, which a lead byte swallowing a space's
    // first byte overflowed: found by fuzz_spm.)
    char *norm = malloc(3 * n + 4);
    struct symbol *sym = malloc((3 * n + 4) * sizeof *sym);
    if (!norm || !sym) {
        free(norm);
        free(sym);
        return -1;
    }
    size_t len = 0;
    memcpy(norm, "\xe2\x96\x81", 3);
    len = 3;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == ' ') {
            memcpy(norm + len, "\xe2\x96\x81", 3);
            len += 3;
        } else {
            norm[len++] = text[i];
        }
    }
    int ns = 0;
    for (size_t i = 0; i < len; ns++) {
        // A character: its lead byte's length, cut short at the first byte that is not a
        // continuation (10xxxxxx), so invalid UTF-8 never swallows the next character.
        const size_t want = utf8_len((uint8_t)norm[i]);
        size_t l = 1;
        while (l < want && i + l < len && ((uint8_t)norm[i + l] & 0xC0) == 0x80)
            l++;
        sym[ns] = (struct symbol){ norm + i, l, ns - 1, ns + 1 };
        i += l;
    }
    if (ns)
        sym[ns - 1].next = -1;
    // Repeatedly merge the best adjacent pair, best first from a heap of candidate pairs (as
    // llama.cpp's llm_tokenizer_spm: O(n log n), where rescanning every pair was O(n^2) and took
    // 17 s for a 50 KB calibration text). A popped pair whose symbols changed since it was
    // queued is stale and skipped; merging queues the new pairs on either side.
    struct pair_heap h = { malloc((3 * (3 * n + 4) + 8) * sizeof(struct pair)), 0 };  // <= 3 per symbol
    if (!h.p) {
        free(norm);
        free(sym);
        return -1;
    }
    for (int i = 0; i + 1 < ns; i++)
        queue_pair(t, sym, &h, i, i + 1);
    while (h.n > 0) {
        const struct pair b = pop_pair(&h);
        struct symbol *l = &sym[b.left], *r = &sym[b.right];
        if (l->len == 0 || r->len == 0 || l->len + r->len != b.size || l->next != b.right)
            continue;
        l->len += r->len;
        l->next = r->next;
        if (r->next >= 0)
            sym[r->next].prev = b.left;
        r->len = 0;
        if (l->prev >= 0)
            queue_pair(t, sym, &h, l->prev, b.left);
        if (l->next >= 0)
            queue_pair(t, sym, &h, b.left, l->next);
    }
    free(h.p);
    int64_t count = 0;
    if (t->add_bos) {
        if (count < max)
            out[count] = t->bos;
        count++;
    }
    for (int i = ns ? 0 : -1; i >= 0; i = sym[i].next) {
        const int32_t id = lookup(t, sym[i].text, sym[i].len);
        if (id >= 0) {
            if (count < max)
                out[count] = id;
            count++;
            continue;
        }
        for (size_t b = 0; b < sym[i].len; b++) {  // byte fallback
            const int32_t bt = t->byte_token[(uint8_t)sym[i].text[b]];
            if (count < max)
                out[count] = bt >= 0 ? bt : t->unk;
            count++;
        }
    }
    free(norm);
    free(sym);
    return count;
}

size_t kiln_spm_decode(const struct kiln_spm *t, int32_t id, char *buf, size_t size) {
    if (id < 0 || id >= t->n || size == 0)
        return 0;
    const struct kiln_gguf_string *p = &t->pieces[id];
    if (t->types && token_type(t, id) == 3)  // control tokens (<s>, </s>) print nothing
        return 0;
    unsigned byte;
    if (p->len == 6 && memcmp(p->data, "<0x", 3) == 0 && sscanf(p->data + 3, "%2X", &byte) == 1) {
        buf[0] = (char)byte;
        return 1;
    }
    size_t o = 0;
    for (size_t i = 0; i < p->len && o + 1 < size;) {
        if (i + 3 <= p->len && memcmp(p->data + i, "\xe2\x96\x81", 3) == 0) {
            buf[o++] = ' ';
            i += 3;
        } else {
            buf[o++] = p->data[i++];
        }
    }
    return o;
}
