// Hugging Face tokenizer.json -> tokenizer.ggml.* (tokenizer.h).
#include "quant/tokenizer/tokenizer.h"
#include "quant/file/file_read.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// tokenizer.json of a large vocabulary runs to tens of MB; 1 GiB bounds a corrupt one.
// Missing or invalid: NULL (callers decide whether the file was optional).
static cJSON *load_json(const char *path) {
    cJSON *j;
    return kiln_load_json_file(path, (size_t)1 << 30, &j) == KILN_OK ? j : NULL;
}

// The id of a special token named in tokenizer_config.json ("bos_token": "<s>" or {"content": ...}).
static int64_t special_id(const cJSON *config, const char *key, char **tokens, int64_t n) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, key);
    const cJSON *content = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "content") : v;
    if (!cJSON_IsString(content))
        return -1;
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] && !strcmp(tokens[i], content->valuestring))
            return i;
    return -1;
}

static bool valid_id(const cJSON *v) {
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < (double)(1 << 24) &&
           v->valuedouble == floor(v->valuedouble);
}

static const char *id_text(const cJSON *v) {
    static char buf[48];
    if (!cJSON_IsNumber(v))
        return "that is not a number";
    snprintf(buf, sizeof buf, "%.17g", v->valuedouble);
    return buf;
}

// The pre-tokenizers llama.cpp names by tokenizer.ggml.pre (and kiln's bpe_split.h encodes).
static const char llama3_regex[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                                   "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char qwen2_regex[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
                                  "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static const char *str_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

// tokenizer.ggml.pre for tokenizer.json's normalizer + pre_tokenizer, or an error naming what
// kiln does not know: writing another model's pre-tokenizer id would make llama.cpp (and kiln)
// split text differently from the checkpoint's tokenizer. Without a pre_tokenizer (kiln synth's
// test vocabularies) the id is "default", which neither kiln nor this check claims to encode.
static enum kiln_status bpe_pre(const char *path, const cJSON *tok, const cJSON *model, const char **out) {
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(tok, "normalizer");
    const char *nt = str_of(norm, "type");
    // NFC: text already in NFC (nearly all) is unchanged; llama.cpp does not normalize either.
    if (norm && !cJSON_IsNull(norm) && !(nt && !strcmp(nt, "NFC")))
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: normalizer %s is not implemented by kiln (none or NFC are)", path,
                         nt ? nt : "of no type");
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(tok, "pre_tokenizer");
    const char *pt = str_of(pre, "type");
    *out = "default";
    if (!pre || cJSON_IsNull(pre))
        return KILN_OK;
    const cJSON *use_regex = cJSON_GetObjectItemCaseSensitive(pre, "use_regex");
    if (pt && !strcmp(pt, "ByteLevel") && !cJSON_IsFalse(use_regex) &&
        !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pre, "add_prefix_space"))) {
        *out = "gpt2";
    } else if (pt && !strcmp(pt, "Sequence")) {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers");
        const cJSON *split = cJSON_IsArray(seq) && cJSON_GetArraySize(seq) == 2 ? seq->child : NULL;
        const cJSON *bl = split ? split->next : NULL;
        const char *st = str_of(split, "type"), *bt = str_of(bl, "type"), *beh = str_of(split, "behavior");
        const char *re = str_of(cJSON_GetObjectItemCaseSensitive(split, "pattern"), "Regex");
        const bool shape = st && !strcmp(st, "Split") && bt && !strcmp(bt, "ByteLevel") && beh &&
                           !strcmp(beh, "Isolated") && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(split, "invert")) &&
                           cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(bl, "use_regex")) &&
                           !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(bl, "add_prefix_space"));
        if (shape && re && !strcmp(re, llama3_regex))
            *out = "llama-bpe";
        else if (shape && re && !strcmp(re, qwen2_regex))
            *out = "qwen2";
        else
            return kiln_fail(KILN_E_UNSUPPORTED, "%s: pre_tokenizer %s%.60s is not one kiln knows (Llama 3's, Qwen2's "
                             "or GPT-2's byte-level split): refusing to label its vocabulary with another's", path,
                             re ? "regex " : "", re ? re : "sequence");
    } else {
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: pre_tokenizer %s is not one kiln knows (Llama 3's, Qwen2's or GPT-2's "
                         "byte-level split)", path, pt ? pt : "of no type");
    }
    // llama.cpp keeps whole-word tokens (tokenizers' ignore_merges) for llama-bpe only.
    const bool ignore = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "ignore_merges"));
    if (ignore != !strcmp(*out, "llama-bpe"))
        return kiln_fail(KILN_E_UNSUPPORTED, "%s: ignore_merges is %s, but llama.cpp's %s tokenizer %s: the ids "
                         "would differ", path, ignore ? "true" : "false", *out, ignore ? "merges" : "keeps whole words");
    return KILN_OK;
}

// True if the post-processor (TemplateProcessing, alone or in a Sequence) puts `token` first in
// a single sequence: what Llama 3's tokenizer.json does with <|begin_of_text|> (gguf-py reads
// add_bos_token from there too).
static bool template_first(const cJSON *pp, const char *token) {
    const char *type = str_of(pp, "type");
    if (type && !strcmp(type, "Sequence")) {
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(pp, "processors"))
            if (template_first(p, token))
                return true;
        return false;
    }
    if (!type || strcmp(type, "TemplateProcessing"))
        return false;
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single");
    const cJSON *first = cJSON_IsArray(single) ? single->child : NULL;
    const char *id = str_of(cJSON_GetObjectItemCaseSensitive(first, "SpecialToken"), "id");
    return id && !strcmp(id, token);
}

// tokenizer_config.json's chat_template: a string (tokenizer.chat_template), or a list of
// {name, template} (the one named "default" as tokenizer.chat_template, the others as
// tokenizer.chat_template.<name>, as gguf-py writes them).
static void add_chat_templates(struct kiln_gguf_writer *w, const cJSON *tmpl) {
    if (cJSON_IsString(tmpl)) {
        kiln_gguf_add_string(w, "tokenizer.chat_template", tmpl->valuestring);
        return;
    }
    if (!cJSON_IsArray(tmpl))
        return;
    const cJSON *e;
    cJSON_ArrayForEach(e, tmpl) {
        const char *name = str_of(e, "name"), *text = str_of(e, "template");
        if (!name || !text || strlen(name) > 64)
            continue;
        char key[96];
        snprintf(key, sizeof key, strcmp(name, "default") ? "tokenizer.chat_template.%s" : "tokenizer.chat_template", name);
        kiln_gguf_add_string(w, key, text);
    }
}

static enum kiln_status add_bpe(struct kiln_gguf_writer *w, const char *path, const cJSON *tok,
                                const cJSON *model, const char *dir, int64_t vocab_size) {
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(merges))
        return kiln_fail(KILN_E_FORMAT, "%s: the BPE model lacks \"vocab\" or \"merges\"", path);
    // Tokens by id: the vocab, then added_tokens; ids past both up to vocab_size are padding.
    // Every id must be an integer in [0, 2^24): a fractional, negative or huge one (the fuzzer
    // sent 8e58, which the old (int64_t) cast turned into undefined behaviour) is refused.
    const char *pre = NULL;
    KILN_TRY(bpe_pre(path, tok, model, &pre));
    int64_t n = vocab_size;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        if (!valid_id(e))
            return kiln_fail(KILN_E_FORMAT, "%s: vocab entry '%.40s' has id %s (ids are integers in [0, 2^24))",
                             path, e->string ? e->string : "", id_text(e));
        if (e->valuedouble + 1 > n)
            n = (int64_t)e->valuedouble + 1;
    }
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tok, "added_tokens");
    cJSON_ArrayForEach(e, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (!valid_id(id))
            return kiln_fail(KILN_E_FORMAT, "%s: an added token has id %s (ids are integers in [0, 2^24))",
                             path, id_text(id));
        if (id->valuedouble + 1 > n)
            n = (int64_t)id->valuedouble + 1;
    }
    if (n > (1 << 24))
        return kiln_fail(KILN_E_FORMAT, "%s: token ids up to %lld", path, (long long)n);
    char **tokens = calloc((size_t)n, sizeof *tokens);
    int32_t *types = calloc((size_t)n, sizeof *types);
    enum kiln_status s = tokens && types ? KILN_OK : kiln_fail(KILN_E_NOMEM, "out of memory");
    cJSON_ArrayForEach(e, vocab) {
        const int64_t id = cJSON_IsNumber(e) ? (int64_t)e->valuedouble : -1;
        if (s == KILN_OK && id >= 0 && id < n) {
            tokens[id] = e->string;
            types[id] = 1;  // normal
        }
    }
    cJSON_ArrayForEach(e, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id"), *c = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (s == KILN_OK && cJSON_IsNumber(id) && cJSON_IsString(c) && id->valuedouble >= 0 && id->valuedouble < n) {
            tokens[(int64_t)id->valuedouble] = c->valuestring;
            types[(int64_t)id->valuedouble] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "special")) ? 3 : 4;
        }
    }
    char **pads = calloc((size_t)n, sizeof *pads);  // "[PAD<id>]" for holes, as llama.cpp's converter
    for (int64_t i = 0; s == KILN_OK && pads && i < n; i++) {
        if (!tokens[i]) {
            pads[i] = malloc(24);
            snprintf(pads[i], 24, "[PAD%lld]", (long long)i);
            tokens[i] = pads[i];
            types[i] = 5;  // unused
        }
    }
    // Merges: "a b" strings, or ["a", "b"] pairs in newer tokenizer.json files.
    const int n_merges = cJSON_GetArraySize(merges);
    char **merge = calloc((size_t)n_merges + 1, sizeof *merge);
    int m = 0;
    cJSON_ArrayForEach(e, merges) {
        if (!merge || s != KILN_OK)
            break;
        if (cJSON_IsString(e)) {
            merge[m++] = strdup(e->valuestring);
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) &&
                   cJSON_IsString(e->child->next)) {
            const size_t len = strlen(e->child->valuestring) + strlen(e->child->next->valuestring) + 2;
            merge[m] = malloc(len);
            snprintf(merge[m++], len, "%s %s", e->child->valuestring, e->child->next->valuestring);
        } else {
            s = kiln_fail(KILN_E_FORMAT, "%s: merge %d is neither \"a b\" nor [\"a\", \"b\"]", path, m);
        }
    }
    if (s == KILN_OK) {
        kiln_gguf_add_string(w, "tokenizer.ggml.model", "gpt2");
        kiln_gguf_add_string(w, "tokenizer.ggml.pre", pre);  // llama.cpp picks its split rules by this id
        s = kiln_gguf_add_string_array(w, "tokenizer.ggml.tokens", (const char *const *)tokens, (uint64_t)n);
    }
    if (s == KILN_OK)
        s = kiln_gguf_add_array(w, "tokenizer.ggml.token_type", KILN_GGUF_INT32, types, (uint64_t)n);
    if (s == KILN_OK)
        s = kiln_gguf_add_string_array(w, "tokenizer.ggml.merges", (const char *const *)merge, (uint64_t)m);
    char cfg_path[1100];
    snprintf(cfg_path, sizeof cfg_path, "%s/tokenizer_config.json", dir);
    cJSON *cfg = s == KILN_OK ? load_json(cfg_path) : NULL;
    if (cfg) {
        const int64_t bos = special_id(cfg, "bos_token", tokens, n), eos = special_id(cfg, "eos_token", tokens, n);
        if (bos >= 0)
            kiln_gguf_add_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
        if (eos >= 0)
            kiln_gguf_add_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos);
        const cJSON *add_bos = cJSON_GetObjectItemCaseSensitive(cfg, "add_bos_token");
        if (cJSON_IsBool(add_bos))
            kiln_gguf_add_bool(w, "tokenizer.ggml.add_bos_token", cJSON_IsTrue(add_bos));
        else if (bos >= 0)  // Llama 3 says it in tokenizer.json's post-processor instead
            kiln_gguf_add_bool(w, "tokenizer.ggml.add_bos_token", template_first(cJSON_GetObjectItemCaseSensitive(tok, "post_processor"), tokens[bos]));
        add_chat_templates(w, cJSON_GetObjectItemCaseSensitive(cfg, "chat_template"));
        cJSON_Delete(cfg);
    }
    if (s == KILN_OK && !kiln_gguf_has_key(w, "tokenizer.chat_template")) {
        // transformers >= 4.43 saves the template beside the config: chat_template.jinja
        char jinja[1100];
        snprintf(jinja, sizeof jinja, "%s/chat_template.jinja", dir);
        void *text = NULL;
        size_t len = 0;
        if (access(jinja, R_OK) == 0 && kiln_read_whole_file(jinja, (size_t)16 << 20, &text, &len) == KILN_OK)
            kiln_gguf_add_string(w, "tokenizer.chat_template", text);
        free(text);
        kiln_clear_error();
    }
    for (int i = 0; merge && i < m; i++)
        free(merge[i]);
    for (int64_t i = 0; pads && i < n; i++)
        free(pads[i]);
    free(merge);
    free(pads);
    free(tokens);
    free(types);
    return s;
}

// ---- SentencePiece tokenizer.model: a protobuf ModelProto whose field 1 repeats
// SentencePiece { string piece = 1; float score = 2; Type type = 3; } (type NORMAL by default) ----

struct pb {
    const uint8_t *p, *end;
};

static bool pb_varint(struct pb *b, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64 && b->p < b->end; shift += 7) {
        const uint8_t c = *b->p++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return true;
    }
    return false;
}

// Skips a field of wire type wt; false if malformed.
static bool pb_skip(struct pb *b, int wt) {
    uint64_t v;
    switch (wt) {
    case 0: return pb_varint(b, &v);
    case 1: if (b->end - b->p < 8) return false; b->p += 8; return true;
    case 2: if (!pb_varint(b, &v) || v > (uint64_t)(b->end - b->p)) return false; b->p += v; return true;
    case 5: if (b->end - b->p < 4) return false; b->p += 4; return true;
    default: return false;
    }
}

struct spm {
    char **pieces;
    float *scores;
    int32_t *types;
    int64_t n, cap;
};

// One SentencePiece message into s; false if malformed or out of memory (nothing leaks: the
// fuzzer found the piece text of a malformed message left behind).
static bool spm_piece(struct spm *s, struct pb msg) {
    char *piece = NULL;
    float score = 0;
    int32_t type = 1;
    while (msg.p < msg.end) {
        uint64_t tag;
        if (!pb_varint(&msg, &tag))
            goto fail;
        const int field = (int)(tag >> 3), wt = (int)(tag & 7);
        uint64_t v;
        if (field == 1 && wt == 2) {
            if (!pb_varint(&msg, &v) || v > (uint64_t)(msg.end - msg.p))
                goto fail;
            free(piece);
            piece = malloc(v + 1);
            if (!piece)
                return false;
            memcpy(piece, msg.p, v);
            piece[v] = '\0';
            msg.p += v;
        } else if (field == 2 && wt == 5) {
            if (msg.end - msg.p < 4)
                goto fail;
            uint32_t bits = (uint32_t)msg.p[0] | (uint32_t)msg.p[1] << 8 | (uint32_t)msg.p[2] << 16 | (uint32_t)msg.p[3] << 24;
            memcpy(&score, &bits, 4);
            msg.p += 4;
        } else if (field == 3 && wt == 0) {
            if (!pb_varint(&msg, &v))
                goto fail;
            type = (int32_t)v;
        } else if (!pb_skip(&msg, wt)) {
            goto fail;
        }
    }
    if (!piece && !(piece = strdup("")))
        return false;
    if (s->n == s->cap) {
        const int64_t cap = s->cap ? 2 * s->cap : 1024;
        char **pieces = realloc(s->pieces, sizeof *s->pieces * (size_t)cap);
        if (pieces)
            s->pieces = pieces;
        float *scores = pieces ? realloc(s->scores, sizeof *s->scores * (size_t)cap) : NULL;
        if (scores)
            s->scores = scores;
        int32_t *types = scores ? realloc(s->types, sizeof *s->types * (size_t)cap) : NULL;
        if (!types)
            goto fail;
        s->types = types;
        s->cap = cap;
    }
    s->pieces[s->n] = piece;
    s->scores[s->n] = score;
    s->types[s->n++] = type;
    return true;
fail:
    free(piece);
    return false;
}

static enum kiln_status add_spm(struct kiln_gguf_writer *w, const char *path, const char *dir, int64_t vocab_size) {
    void *file;
    size_t size;
    enum kiln_status s = kiln_read_whole_file(path, (size_t)1 << 30, &file, &size);
    uint8_t *data = file;
    struct spm sp = { 0 };
    struct pb b = { data, data ? data + size : NULL };
    while (s == KILN_OK && b.p < b.end) {
        uint64_t tag, len;
        if (!pb_varint(&b, &tag)) {
            s = kiln_fail(KILN_E_FORMAT, "%s: not a SentencePiece model (bad protobuf)", path);
        } else if (tag == ((1 << 3) | 2)) {
            if (!pb_varint(&b, &len) || len > (uint64_t)(b.end - b.p) ||
                !spm_piece(&sp, (struct pb){ b.p, b.p + len }))
                s = kiln_fail(KILN_E_FORMAT, "%s: piece %lld is malformed", path, (long long)sp.n);
            else
                b.p += len;
        } else if (!pb_skip(&b, (int)(tag & 7))) {
            s = kiln_fail(KILN_E_FORMAT, "%s: not a SentencePiece model (bad protobuf)", path);
        }
    }
    if (s == KILN_OK && sp.n == 0)
        s = kiln_fail(KILN_E_FORMAT, "%s: no pieces", path);
    while (s == KILN_OK && sp.n < vocab_size) {  // the embedding may be padded past the pieces
        char pad[32];
        snprintf(pad, sizeof pad, "[PAD%lld]", (long long)sp.n);
        struct pb none = { NULL, NULL };
        if (!spm_piece(&sp, none)) {
            s = kiln_fail(KILN_E_NOMEM, "out of memory");
            break;
        }
        free(sp.pieces[sp.n - 1]);
        sp.pieces[sp.n - 1] = strdup(pad);
        sp.types[sp.n - 1] = 5;  // unused
    }
    if (s == KILN_OK) {
        kiln_gguf_add_string(w, "tokenizer.ggml.model", "llama");
        kiln_gguf_add_string_array(w, "tokenizer.ggml.tokens", (const char *const *)sp.pieces, (uint64_t)sp.n);
        kiln_gguf_add_array(w, "tokenizer.ggml.scores", KILN_GGUF_FLOAT32, sp.scores, (uint64_t)sp.n);
        kiln_gguf_add_array(w, "tokenizer.ggml.token_type", KILN_GGUF_INT32, sp.types, (uint64_t)sp.n);
        char cfg_path[1100];
        snprintf(cfg_path, sizeof cfg_path, "%s/tokenizer_config.json", dir);
        cJSON *cfg = load_json(cfg_path);
        static const struct { const char *key, *config, *fallback; } ids[] = {
            { "tokenizer.ggml.bos_token_id", "bos_token", "<s>" },
            { "tokenizer.ggml.eos_token_id", "eos_token", "</s>" },
            { "tokenizer.ggml.unknown_token_id", "unk_token", "<unk>" },
        };
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
            int64_t id = cfg ? special_id(cfg, ids[i].config, sp.pieces, sp.n) : -1;
            for (int64_t t = 0; id < 0 && t < sp.n; t++)
                if (!strcmp(sp.pieces[t], ids[i].fallback))
                    id = t;
            if (id >= 0)
                kiln_gguf_add_u32(w, ids[i].key, (uint32_t)id);
        }
        cJSON_Delete(cfg);
    }
    for (int64_t i = 0; i < sp.n; i++)
        free(sp.pieces[i]);
    free(sp.pieces);
    free(sp.scores);
    free(sp.types);
    free(data);
    return s;
}

enum kiln_status kiln_tokenizer_add(struct kiln_gguf_writer *w, const char *dir, int64_t vocab_size,
                                    bool *added) {
    *added = false;
    char path[1100];
    // A SentencePiece tokenizer.model takes precedence (llama.cpp's converter prefers it too).
    snprintf(path, sizeof path, "%s/tokenizer.model", dir);
    if (access(path, R_OK) == 0) {
        const enum kiln_status s = add_spm(w, path, dir, vocab_size);
        *added = s == KILN_OK;
        return s;
    }
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (access(path, R_OK) != 0)
        return KILN_OK;
    cJSON *tok = load_json(path);
    if (!tok)
        return kiln_fail(KILN_E_FORMAT, "%s: not valid JSON", path);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    enum kiln_status s = KILN_OK;
    if (cJSON_IsString(type) && !strcmp(type->valuestring, "BPE") &&
        !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback"))) {
        s = add_bpe(w, path, tok, model, dir, vocab_size);
        *added = s == KILN_OK;
    } else {
        // Converting the weights without the vocabulary would hand users a model whose text
        // nobody can encode the way the checkpoint does: refused, naming the field.
        s = kiln_fail(KILN_E_UNSUPPORTED, "%s: model.type \"%s\"%s is not a tokenizer kiln converts (byte-level BPE in "
                      "tokenizer.json, or a SentencePiece tokenizer.model beside it)", path,
                      cJSON_IsString(type) ? type->valuestring : "(missing)",
                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback"))
                          ? " with byte_fallback (SentencePiece-style, whose tokenizer.model is missing)" : "");
    }
    cJSON_Delete(tok);
    return s;
}
