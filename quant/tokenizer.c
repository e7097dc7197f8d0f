// Hugging Face tokenizer.json -> tokenizer.ggml.* (tokenizer.h).
#include "quant/tokenizer.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cJSON *load_json(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = n > 0 && n < (1L << 30) ? malloc((size_t)n + 1) : NULL;
    const bool ok = text && fread(text, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    cJSON *j = NULL;
    if (ok) {
        text[n] = '\0';
        j = cJSON_Parse(text);
    }
    free(text);
    return j;
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

static enum kiln_status add_bpe(struct kiln_gguf_writer *w, const char *path, const cJSON *tok,
                                const cJSON *model, const char *dir, int64_t vocab_size) {
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(merges))
        return kiln_fail(KILN_E_FORMAT, "%s: the BPE model lacks \"vocab\" or \"merges\"", path);
    // Tokens by id: the vocab, then added_tokens; ids past both up to vocab_size are padding.
    int64_t n = vocab_size;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) if (cJSON_IsNumber(e) && e->valuedouble + 1 > n) n = (int64_t)e->valuedouble + 1;
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tok, "added_tokens");
    cJSON_ArrayForEach(e, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (cJSON_IsNumber(id) && id->valuedouble + 1 > n)
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
        // llama.cpp picks pre-tokenizer rules by this id; Llama 3's vocabulary is "llama-bpe".
        bool llama3 = false;
        for (int64_t i = 128000; i < n && !llama3; i++)
            llama3 = !strcmp(tokens[i], "<|begin_of_text|>");
        kiln_gguf_add_string(w, "tokenizer.ggml.pre", llama3 ? "llama-bpe" : "default");
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
        const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(cfg, "chat_template");
        if (cJSON_IsString(tmpl))
            kiln_gguf_add_string(w, "tokenizer.chat_template", tmpl->valuestring);
        cJSON_Delete(cfg);
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

enum kiln_status kiln_tokenizer_add(struct kiln_gguf_writer *w, const char *dir, int64_t vocab_size,
                                    bool *added) {
    *added = false;
    char path[1100];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (access(path, R_OK) != 0) {
        snprintf(path, sizeof path, "%s/tokenizer.model", dir);
        if (access(path, R_OK) == 0)
            fprintf(stderr, "note: %s (SentencePiece) is not carried over yet: the file is vocab-less\n", path);
        return KILN_OK;
    }
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
        fprintf(stderr, "note: %s has a %s model%s, which kiln does not carry over yet: the file is vocab-less\n",
                path, cJSON_IsString(type) ? type->valuestring : "unknown",
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback")) ? " with byte fallback (SentencePiece-style)" : "");
    }
    cJSON_Delete(tok);
    return s;
}
