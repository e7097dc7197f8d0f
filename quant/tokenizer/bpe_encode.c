// Byte-level BPE encoding and decoding (bpe_encode.h). Checked against Hugging Face `tokenizers`
// by tests/oracle/test_bpe_tokenizer.py.
#include "quant/tokenizer/bpe_encode.h"
#include "quant/tokenizer/bpe_split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct added {  // an added token (control or user-defined), matched in the text before splitting
    const char *text;
    size_t len;
    int32_t id;
};

struct kiln_bpe {
    int64_t n;
    const struct kiln_gguf_string *tokens;
    const uint8_t *types;                 // i32 each, read through memcpy (unaligned in the file)
    int32_t *token_table;                 // open addressing over token text: ids, -1 empty
    uint64_t token_table_size;
    const struct kiln_gguf_string *merges;
    int64_t n_merges;
    int32_t *merge_table;                 // over merge text "a b": ranks, -1 empty
    uint64_t merge_table_size;
    struct added *added;                  // longest first
    int n_added;
    enum kiln_bpe_pre pre;
    bool ignore_merges, add_bos;
    int32_t bos;
    char byte_text[256][3];               // GPT-2's bytes_to_unicode, as UTF-8
    uint8_t byte_len[256];
    int16_t unbyte[512];                  // code point (< 512) -> byte, -1 if none
};

static uint64_t hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

static int32_t find(const int32_t *table, uint64_t size, const struct kiln_gguf_string *strs, const char *s, size_t n) {
    for (uint64_t i = hash(s, n) & (size - 1);; i = (i + 1) & (size - 1)) {
        const int32_t id = table[i];
        if (id < 0 || (strs[id].len == n && memcmp(strs[id].data, s, n) == 0))
            return id;
    }
}

static int32_t *build_table(const struct kiln_gguf_string *strs, int64_t n, uint64_t *size_out) {
    uint64_t size = 1;
    while (size < 2 * (uint64_t)n + 2)
        size <<= 1;
    int32_t *t = malloc(size * sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0xff, size * sizeof *t);
    for (int64_t id = 0; id < n; id++) {
        uint64_t i = hash(strs[id].data, strs[id].len) & (size - 1);
        while (t[i] >= 0 && !(strs[t[i]].len == strs[id].len && !memcmp(strs[t[i]].data, strs[id].data, strs[id].len)))
            i = (i + 1) & (size - 1);
        if (t[i] < 0)
            t[i] = (int32_t)id;  // a duplicate keeps the first (lowest id / rank)
    }
    *size_out = size;
    return t;
}

static int32_t token_type(const struct kiln_bpe *t, int64_t id) {
    int32_t v = 1;
    if (t->types)
        memcpy(&v, t->types + 4 * (size_t)id, 4);
    return v;
}

static const struct kiln_gguf_value *array_of(const struct kiln_gguf *g, const char *key, enum kiln_gguf_type elem) {
    const struct kiln_gguf_kv *kv = kiln_gguf_find(g, key);
    return kv && kv->value.type == KILN_GGUF_ARRAY && kv->value.arr.elem == elem ? &kv->value : NULL;
}

static bool string_is(const struct kiln_gguf_kv *kv, const char *s) {
    return kv && kv->value.type == KILN_GGUF_STRING && kv->value.str.len == strlen(s) &&
           !memcmp(kv->value.str.data, s, kv->value.str.len);
}

static int cmp_added(const void *a, const void *b) {
    const struct added *x = a, *y = b;
    return x->len != y->len ? (x->len < y->len ? 1 : -1) : (x->id > y->id) - (x->id < y->id);
}

static void put_utf8(uint32_t cp, char *out, uint8_t *len) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        *len = 1;
    } else {  // bytes_to_unicode stays below U+0800: two bytes
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        *len = 2;
    }
}

enum kiln_status kiln_bpe_load(const struct kiln_gguf *g, struct kiln_bpe **out) {
    *out = NULL;
    const struct kiln_gguf_kv *pre = kiln_gguf_find(g, "tokenizer.ggml.pre");
    enum kiln_bpe_pre kind;
    if (string_is(pre, "llama-bpe") || string_is(pre, "llama3"))
        kind = KILN_BPE_PRE_LLAMA3;
    else if (string_is(pre, "qwen2"))
        kind = KILN_BPE_PRE_QWEN2;
    else if (string_is(pre, "gpt2") || string_is(pre, "gpt-2"))
        kind = KILN_BPE_PRE_GPT2;
    else
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: kiln does not implement the '%.*s' pre-tokenizer of this byte-level "
                         "BPE vocabulary (it does llama-bpe, qwen2, gpt2): give token ids with --tokens", g->path,
                         pre && pre->value.type == KILN_GGUF_STRING ? (int)pre->value.str.len : 4,
                         pre && pre->value.type == KILN_GGUF_STRING ? pre->value.str.data : "none");
    const struct kiln_gguf_value *tok = array_of(g, "tokenizer.ggml.tokens", KILN_GGUF_STRING);
    const struct kiln_gguf_value *mer = array_of(g, "tokenizer.ggml.merges", KILN_GGUF_STRING);
    const struct kiln_gguf_value *ty = array_of(g, "tokenizer.ggml.token_type", KILN_GGUF_INT32);
    if (!tok || !mer || (ty && ty->arr.n != tok->arr.n) || tok->arr.n >= (1u << 30) || mer->arr.n >= (1u << 30))
        return kiln_fail(KILN_E_FORMAT, "%s: the BPE vocabulary needs tokenizer.ggml.tokens and merges (string "
                         "arrays) and token_type of the same length", g->path);
    struct kiln_bpe *t = calloc(1, sizeof *t);
    if (!t)
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    t->n = (int64_t)tok->arr.n;
    t->tokens = (const struct kiln_gguf_string *)tok->arr.data;
    t->types = ty ? ty->arr.data : NULL;
    t->merges = (const struct kiln_gguf_string *)mer->arr.data;
    t->n_merges = (int64_t)mer->arr.n;
    t->pre = kind;
    t->ignore_merges = kind == KILN_BPE_PRE_LLAMA3;  // as llama.cpp (and Llama 3's tokenizer.json)
    t->token_table = build_table(t->tokens, t->n, &t->token_table_size);
    t->merge_table = build_table(t->merges, t->n_merges, &t->merge_table_size);
    t->added = calloc((size_t)t->n + 1, sizeof *t->added);
    if (!t->token_table || !t->merge_table || !t->added) {
        kiln_bpe_free(t);
        return kiln_fail(KILN_E_NOMEM, "out of memory");
    }
    for (int64_t id = 0; id < t->n; id++) {
        const int32_t type = token_type(t, id);
        if ((type == 3 || type == 4) && t->tokens[id].len > 0)
            t->added[t->n_added++] = (struct added){ t->tokens[id].data, t->tokens[id].len, (int32_t)id };
    }
    qsort(t->added, (size_t)t->n_added, sizeof *t->added, cmp_added);
    // bytes_to_unicode: printable Latin-1 bytes stand for themselves, the others 256 + k in order.
    memset(t->unbyte, 0xff, sizeof t->unbyte);
    for (int b = 0, k = 0; b < 256; b++) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        const uint32_t cp = printable ? (uint32_t)b : 256u + (uint32_t)k++;
        put_utf8(cp, t->byte_text[b], &t->byte_len[b]);
        t->unbyte[cp] = (int16_t)b;
    }
    const struct kiln_gguf_kv *bos = kiln_gguf_find(g, "tokenizer.ggml.bos_token_id");
    t->bos = bos && bos->value.type == KILN_GGUF_UINT32 && bos->value.u < (uint64_t)t->n ? (int32_t)bos->value.u : -1;
    const struct kiln_gguf_kv *add_bos = kiln_gguf_find(g, "tokenizer.ggml.add_bos_token");
    t->add_bos = (add_bos && add_bos->value.type == KILN_GGUF_BOOL ? add_bos->value.u != 0 : kind == KILN_BPE_PRE_LLAMA3) &&
                 t->bos >= 0;
    *out = t;
    return KILN_OK;
}

void kiln_bpe_free(struct kiln_bpe *t) {
    if (!t)
        return;
    free(t->token_table);
    free(t->merge_table);
    free(t->added);
    free(t);
}

// ---- BPE over one piece: symbols in a linked list, candidate pairs in a min-heap by (rank,
// position), stale entries skipped when popped (tokenizers' Word::merge_all) ----

struct sym {
    int32_t start, len, prev, next;  // into the piece's mapped text; len 0 = merged away
};
struct cand {
    int32_t rank, left, left_len, right_len;
};

static bool cand_less(const struct cand *a, const struct cand *b, const struct sym *s) {
    return a->rank != b->rank ? a->rank < b->rank : s[a->left].start < s[b->left].start;
}

static void heap_push(struct cand *h, int *n, struct cand c, const struct sym *s) {
    int i = (*n)++;
    h[i] = c;
    while (i > 0 && cand_less(&h[i], &h[(i - 1) / 2], s)) {
        const struct cand tmp = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
}

static struct cand heap_pop(struct cand *h, int *n, const struct sym *s) {
    const struct cand top = h[0];
    h[0] = h[--(*n)];
    for (int i = 0;;) {
        const int l = 2 * i + 1, r = l + 1;
        int m = i;
        if (l < *n && cand_less(&h[l], &h[m], s))
            m = l;
        if (r < *n && cand_less(&h[r], &h[m], s))
            m = r;
        if (m == i)
            break;
        const struct cand tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
    return top;
}

// The merge rank of symbols a and b, -1 if "a b" is no merge.
static int32_t rank_of(const struct kiln_bpe *t, const char *text, const struct sym *a, const struct sym *b,
                       char *scratch) {
    memcpy(scratch, text + a->start, (size_t)a->len);
    scratch[a->len] = ' ';
    memcpy(scratch + a->len + 1, text + b->start, (size_t)b->len);
    return find(t->merge_table, t->merge_table_size, t->merges, scratch, (size_t)(a->len + 1 + b->len));
}

static void push_pair(const struct kiln_bpe *t, const char *text, struct sym *s, int i, struct cand *h, int *nh,
                      char *scratch) {
    const int j = s[i].next;
    if (j < 0)
        return;
    const int32_t r = rank_of(t, text, &s[i], &s[j], scratch);
    if (r >= 0)
        heap_push(h, nh, (struct cand){ r, i, s[i].len, s[j].len }, s);
}

struct emit {
    int32_t *out;
    int64_t max, n;
    bool failed;
};

static void emit(struct emit *e, int32_t id) {
    if (id < 0)
        e->failed = true;
    else if (e->n < e->max)
        e->out[e->n] = id;
    e->n++;
}

// One pre-tokenized piece (mapped to GPT-2's code points: `text`, len bytes) into tokens.
static void encode_piece(const struct kiln_bpe *t, const char *text, size_t len, struct emit *e) {
    const int32_t whole = find(t->token_table, t->token_table_size, t->tokens, text, len);
    if (t->ignore_merges && whole >= 0) {
        emit(e, whole);
        return;
    }
    int n = 0;  // one symbol per code point
    for (size_t i = 0; i < len; i++)
        n += ((uint8_t)text[i] & 0xC0) != 0x80;
    struct sym *s = malloc(sizeof *s * (size_t)n);
    struct cand *h = malloc(sizeof *h * (size_t)(3 * n + 1));  // n - 1 pairs, then two per merge
    char *scratch = malloc(len + 2);
    if (!s || !h || !scratch) {
        free(s), free(h), free(scratch);
        e->failed = true;
        return;
    }
    for (int i = 0, at = 0; i < n; i++) {
        int l = 1;
        while ((size_t)(at + l) < len && ((uint8_t)text[at + l] & 0xC0) == 0x80)
            l++;
        s[i] = (struct sym){ at, l, i - 1, i + 1 < n ? i + 1 : -1 };
        at += l;
    }
    int nh = 0;
    for (int i = 0; i + 1 < n; i++)
        push_pair(t, text, s, i, h, &nh, scratch);
    while (nh > 0) {
        const struct cand c = heap_pop(h, &nh, s);
        struct sym *a = &s[c.left];
        if (a->len != c.left_len || a->next < 0 || s[a->next].len != c.right_len)
            continue;  // stale: one side has merged since
        struct sym *b = &s[a->next];
        a->len += b->len;
        b->len = 0;
        a->next = b->next;
        if (b->next >= 0)
            s[b->next].prev = c.left;
        if (a->prev >= 0)
            push_pair(t, text, s, a->prev, h, &nh, scratch);
        push_pair(t, text, s, c.left, h, &nh, scratch);
    }
    for (int i = 0; i >= 0 && i < n; i = s[i].next)
        emit(e, find(t->token_table, t->token_table_size, t->tokens, text + s[i].start, (size_t)s[i].len));
    free(s);
    free(h);
    free(scratch);
}

// UTF-8 -> code points (an invalid byte stands for itself as U+FFFD-like "other", keeping its
// byte); off[i] is the byte offset of code point i, off[n] the end.
static size_t decode_utf8(const uint8_t *s, size_t len, uint32_t *cp, size_t *off) {
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        const uint8_t c = s[i];
        size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        for (size_t k = 1; l && k < l; k++)
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
                l = 0;
        uint32_t v = 0xFFFD;
        if (l == 1)
            v = c;
        else if (l == 2)
            v = (uint32_t)(c & 0x1F) << 6 | (s[i + 1] & 0x3F);
        else if (l == 3)
            v = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F);
        else if (l == 4)
            v = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3F) << 12 | (uint32_t)(s[i + 2] & 0x3F) << 6 |
                (s[i + 3] & 0x3F);
        cp[n] = v;
        off[n++] = i;
        i += l ? l : 1;
    }
    off[n] = len;
    return n;
}

// Text between added tokens: split, mapped to GPT-2's code points, BPE per piece.
static void encode_fragment(const struct kiln_bpe *t, const char *text, size_t len, struct emit *e) {
    uint32_t *cp = malloc(sizeof *cp * (len + 1));
    size_t *off = malloc(sizeof *off * (len + 1));
    char *mapped = malloc(2 * len + 1);
    if (!cp || !off || !mapped) {
        free(cp), free(off), free(mapped);
        e->failed = true;
        return;
    }
    const size_t n = decode_utf8((const uint8_t *)text, len, cp, off);
    for (size_t i = 0; i < n;) {
        const size_t j = kiln_bpe_split(t->pre, cp, n, i);
        size_t m = 0;
        for (size_t b = off[i]; b < off[j]; b++) {
            const uint8_t byte = (uint8_t)text[b];
            memcpy(mapped + m, t->byte_text[byte], t->byte_len[byte]);
            m += t->byte_len[byte];
        }
        encode_piece(t, mapped, m, e);
        i = j;
    }
    free(cp);
    free(off);
    free(mapped);
}

int64_t kiln_bpe_encode(const struct kiln_bpe *t, const char *text, int32_t *out, int64_t max) {
    struct emit e = { out, max, 0, false };
    if (t->add_bos)
        emit(&e, t->bos);
    const size_t len = strlen(text);
    size_t start = 0;  // of the fragment not yet encoded
    for (size_t i = 0; i < len;) {
        const struct added *hit = NULL;
        for (int a = 0; a < t->n_added && !hit; a++)  // longest first
            if (t->added[a].len <= len - i && !memcmp(text + i, t->added[a].text, t->added[a].len))
                hit = &t->added[a];
        if (!hit) {
            i++;
            continue;
        }
        if (i > start)
            encode_fragment(t, text + start, i - start, &e);
        emit(&e, hit->id);
        i += hit->len;
        start = i;
    }
    if (len > start)
        encode_fragment(t, text + start, len - start, &e);
    return e.failed ? -1 : e.n;
}

size_t kiln_bpe_decode(const struct kiln_bpe *t, int32_t id, char *buf, size_t size) {
    if (id < 0 || id >= t->n || token_type(t, id) == 3)
        return 0;
    const struct kiln_gguf_string *s = &t->tokens[id];
    if (token_type(t, id) == 4) {  // user-defined added tokens are stored as their text
        const size_t n = s->len < size ? s->len : size;
        memcpy(buf, s->data, n);
        return n;
    }
    size_t n = 0;
    for (size_t i = 0; i < s->len && n < size;) {  // GPT-2's code points back to bytes
        const uint8_t c = (uint8_t)s->data[i];
        uint32_t cp = c;
        size_t l = 1;
        if ((c >> 5) == 6 && i + 1 < s->len) {
            cp = (uint32_t)(c & 0x1F) << 6 | ((uint8_t)s->data[i + 1] & 0x3F);
            l = 2;
        }
        const int b = cp < 512 ? t->unbyte[cp] : -1;
        buf[n++] = (char)(b >= 0 ? b : '?');
        i += l;
    }
    return n;
}
