// kiln tokenize MODEL.gguf TEXT: the token ids a model's vocabulary (SentencePiece or byte-level BPE) gives TEXT
// (what `kiln run -p TEXT` feeds the model), one line of comma-separated ids; --pieces also
// prints each token's text. llama.cpp's llama-tokenize does the same job.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "quant/tokenizer/vocab.h"

static void help(void) {
    printf("usage: kiln tokenize MODEL.gguf TEXT [--pieces]\n"
           "\n"
           "Encodes TEXT with the model's vocabulary and prints the token ids, BOS first when the\n"
           "file asks for it: SentencePiece (tokenizer.ggml.model 'llama': Llama 1/2, Mistral) or\n"
           "byte-level BPE ('gpt2' with pre-tokenizer llama-bpe, qwen2 or gpt2: Llama 3, Qwen).\n"
           "Added and special tokens written in TEXT (<|im_start|>) are those tokens.\n"
           "  --pieces   one line per token: id and its text\n");
}

// Encodes text with the file's vocabulary into a malloc'd array; *n its length. NULL on error
// (message printed with `cmd`).
int32_t *kiln_cli_encode(const char *cmd, const struct kiln_gguf *g, const char *text, int64_t *n,
                         struct kiln_vocab **vocab) {
    struct kiln_vocab *t;
    if (kiln_vocab_load(g, &t) != KILN_OK) {
        fprintf(stderr, "kiln %s: %s\n", cmd, kiln_last_error());
        return NULL;
    }
    // One pass: a token covers at least one byte of the normalized text (spaces become 3-byte
    // U+2581, one is prefixed), plus BOS, so 3 n + 4 ids always suffice.
    const int64_t cap = 3 * (int64_t)strlen(text) + 4;
    int32_t *ids = malloc((size_t)cap * sizeof *ids);
    const int64_t want = ids ? kiln_vocab_encode(t, text, ids, cap) : -1;
    if (want < 0 || want > cap) {
        fprintf(stderr, "kiln %s: out of memory\n", cmd);
        free(ids);
        kiln_vocab_free(t);
        return NULL;
    }
    *n = want;
    if (vocab)
        *vocab = t;
    else
        kiln_vocab_free(t);
    return ids;
}

int kiln_cmd_tokenize(int argc, char **argv) {
    const char *path = NULL, *text = NULL;
    bool pieces = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return KILN_EXIT_OK;
        } else if (!strcmp(argv[i], "--pieces")) {
            pieces = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "kiln tokenize: unknown option '%s' (see kiln tokenize --help)\n", argv[i]);
            return KILN_EXIT_USAGE;
        } else if (!path) {
            path = argv[i];
        } else if (!text) {
            text = argv[i];
        } else {
            fprintf(stderr, "kiln tokenize: unexpected argument '%s'\n", argv[i]);
            return KILN_EXIT_USAGE;
        }
    }
    if (!path || !text) {
        fprintf(stderr, "kiln tokenize: expected MODEL.gguf TEXT (see kiln tokenize --help)\n");
        return KILN_EXIT_USAGE;
    }
    struct kiln_gguf *g;
    if (kiln_gguf_open(path, &g) != KILN_OK) {
        fprintf(stderr, "kiln tokenize: %s\n", kiln_last_error());
        return KILN_EXIT_FAIL;
    }
    struct kiln_vocab *t = NULL;
    int64_t n = 0;
    int32_t *ids = kiln_cli_encode("tokenize", g, text, &n, &t);
    if (ids) {
        for (int64_t i = 0; i < n; i++) {
            if (pieces) {
                char buf[256];
                const size_t len = kiln_vocab_decode(t, ids[i], buf, sizeof buf);
                printf("%6d '%.*s'\n", ids[i], (int)len, buf);
            } else {
                printf("%s%d", i ? "," : "", ids[i]);
            }
        }
        if (!pieces)
            printf("\n");
    }
    free(ids);
    kiln_vocab_free(t);
    kiln_gguf_close(g);
    return ids ? KILN_EXIT_OK : KILN_EXIT_FAIL;
}
