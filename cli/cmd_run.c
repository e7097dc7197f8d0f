// kiln run MODEL.gguf --tokens 1,2,3 [--logits FILE] [--greedy N]: the forward pass on given
// token ids, with the final logits written raw (f32 LE, n_tokens x n_vocab) so it can be checked
// from outside; --greedy appends N argmax tokens, decoding one at a time.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/model/model.h"
#include "cli/args.h"
#include "quant/file/out_file.h"
#include "quant/tokenizer/vocab.h"

static void help(void) {
    printf("usage: kiln run MODEL.gguf (-p TEXT | --tokens ID,ID,...) [--logits FILE]\n"
           "                [--greedy N | --decode ID,ID,...]\n"
           "                [--ctx N] [--backend DEV] [--threads N]\n"
           "\n"
           "Runs a llama, qwen2 or qwen3 GGUF on a prompt (encoded with the file's vocabulary,\n"
           "SentencePiece or byte-level BPE, as `kiln tokenize` shows) or on token ids, in one\n"
           "batch, and prints the\n"
           "argmax of the last position. --logits writes every position's logits (f32 LE,\n"
           "n_tokens x n_vocab) to FILE; --greedy N then decodes N more tokens one at a time\n"
           "(each step's logits appended to FILE; with -p, their text printed), and\n"
           "--decode ID,... feeds the given ids one at a time instead (a decode step each,\n"
           "through the K/V cache: to check decode against a full-sequence forward pass).\n");
}

static int parse_tokens(const char *option, const char *text, int32_t *out, int max) {
    int n = 0;
    for (const char *p = text; *p && n < max;) {
        char *end;
        const long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 0x7fffffff) {
            fprintf(stderr, "kiln run: %s: '%.*s' is not a token id (0 .. 2147483647)\n", option,
                    (int)strcspn(p, ","), p);
            return -2;
        }
        out[n++] = (int32_t)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return n;
}

static int32_t argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return (int32_t)best;
}

int kiln_cmd_run(int argc, char **argv) {
    struct kiln_common_options o = { 0 };
    const char *path = NULL, *tokens_text = NULL, *logits_path = NULL, *prompt = NULL, *decode_text = NULL;
    long greedy = 0, ctx = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return KILN_EXIT_OK;
        } else if (kiln_arg_value(argc, argv, &i, "--tokens", &v, &err)) {
            tokens_text = v;
        } else if (kiln_arg_value(argc, argv, &i, "-p", &v, &err) ||
                   kiln_arg_value(argc, argv, &i, "--prompt", &v, &err)) {
            prompt = v;
        } else if (kiln_arg_value(argc, argv, &i, "--logits", &v, &err)) {
            logits_path = v;
        } else if (kiln_arg_value(argc, argv, &i, "--decode", &v, &err)) {
            decode_text = v;
        } else if (kiln_arg_value(argc, argv, &i, "--greedy", &v, &err)) {
            if (err || !kiln_arg_int("run", "--greedy", v, 0, 100000, &greedy))
                return KILN_EXIT_USAGE;
        } else if (kiln_arg_value(argc, argv, &i, "--ctx", &v, &err)) {
            if (err || !kiln_arg_int("run", "--ctx", v, 1, INT32_MAX, &ctx))
                return KILN_EXIT_USAGE;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            if (!kiln_common_option_or_usage("run", argc, argv, &i, &o))
                return KILN_EXIT_USAGE;
        }
        if (err)
            return KILN_EXIT_USAGE;
    }
    static int32_t tokens[65536];
    int n = tokens_text ? parse_tokens("--tokens", tokens_text, tokens, 65536) : -1;
    if (n == -2)
        return KILN_EXIT_USAGE;
    static int32_t forced[65536];
    const int n_forced = decode_text ? parse_tokens("--decode", decode_text, forced, 65536) : 0;
    if (n_forced == -2)
        return KILN_EXIT_USAGE;
    if (decode_text && (n_forced < 1 || greedy)) {
        fprintf(stderr, "kiln run: --decode takes ID,ID,... and excludes --greedy (see kiln run --help)\n");
        return KILN_EXIT_USAGE;
    }
    if (n_forced > 0)
        greedy = n_forced;
    if (!path || (n < 1 && !prompt) || (prompt && tokens_text)) {
        fprintf(stderr, "kiln run: expected MODEL.gguf -p TEXT or --tokens ID,ID,... (see kiln run --help)\n");
        return KILN_EXIT_USAGE;
    }
    struct kiln_vocab *vocab = NULL;
    struct kiln_gguf *g = NULL;
    if (prompt) {  // the prompt's ids under the model's own vocabulary
        if (kiln_gguf_open(path, &g) != KILN_OK) {
            fprintf(stderr, "kiln run: %s\n", kiln_last_error());
            return KILN_EXIT_FAIL;
        }
        int64_t count = 0;
        int32_t *ids = kiln_cli_encode("run", g, prompt, &count, &vocab);
        if (!ids || count < 1 || count > 65536) {
            if (ids)
                fprintf(stderr, "kiln run: the prompt is %lld tokens (1 to 65536)\n", (long long)count);
            free(ids);
            kiln_vocab_free(vocab);
            kiln_gguf_close(g);
            return KILN_EXIT_FAIL;
        }
        memcpy(tokens, ids, (size_t)count * sizeof *ids);
        n = (int)count;
        free(ids);
        printf("prompt: %d tokens\n", n);
    }
    if (!kiln_start("run", &o))
        return KILN_EXIT_FAIL;
    struct kiln_device *dev = NULL;
    for (int i = 0; i < kiln_device_count() && !dev; i++)
        if (kiln_device_selected(&o, kiln_device_get(i)))
            dev = kiln_device_get(i);
    struct kiln_model *m = NULL;
    struct kiln_stream *s = NULL;
    float *logits = NULL;
    int rc = KILN_EXIT_FAIL;
    const int64_t n_ctx = ctx ? ctx : n + greedy;
    if (!dev) {
        fprintf(stderr, "kiln run: no device matches --backend %s\n", o.backends);
    } else if (kiln_model_load(path, dev, n_ctx, n, &m) != KILN_OK || kiln_stream_new(dev, &s) != KILN_OK) {
        fprintf(stderr, "kiln run: %s\n", kiln_last_error());
    } else {
        const int64_t V = kiln_model_get_info(m)->n_vocab;
        logits = malloc(sizeof(float) * (size_t)(V * n));
        enum kiln_status st = logits ? kiln_model_forward(m, s, tokens, n, 0, logits, false)
                                     : kiln_fail(KILN_E_NOMEM, "out of memory");
        struct kiln_out_file out;
        bool to_file = false;  // the logits file is open (write errors surface at the commit)
        if (st == KILN_OK && logits_path && (st = kiln_out_open(&out, logits_path)) == KILN_OK) {
            to_file = true;
            kiln_out_write(&out, logits, sizeof(float) * (size_t)(V * n));
        }
        if (st == KILN_OK) {
            int32_t next = argmax(logits + (size_t)(n - 1) * (size_t)V, V);
            printf("argmax after %d tokens: %d\n", n, next);
            char *text = vocab && greedy ? calloc((size_t)greedy, 64) : NULL;
            size_t text_len = 0;
            for (long k = 0; k < greedy && st == KILN_OK; k++) {
                if (n_forced)
                    next = forced[k];
                st = kiln_model_forward(m, s, &next, 1, n + k, logits, true);
                if (!n_forced)
                    printf("%s%d", k ? "," : "greedy: ", next);
                if (text)
                    text_len += kiln_vocab_decode(vocab, next, text + text_len, 63);
                if (st == KILN_OK && to_file)
                    kiln_out_write(&out, logits, sizeof(float) * (size_t)V);
                next = argmax(logits, V);
            }
            if (greedy && !n_forced)
                printf("\n");
            if (n_forced)
                printf("decoded %d forced tokens; argmax after the last: %d\n", n_forced, next);
            if (text)
                printf("text: %.*s\n", (int)text_len, text);
            free(text);
        }
        if (to_file) {
            if (st == KILN_OK)
                st = kiln_out_commit(&out);
            else
                kiln_out_discard(&out);
        }
        if (st == KILN_OK)
            rc = KILN_EXIT_OK;
        else
            fprintf(stderr, "kiln run: %s\n", kiln_last_error());
    }
    free(logits);
    kiln_stream_free(s);
    kiln_model_free(m);
    kiln_vocab_free(vocab);
    kiln_gguf_close(g);
    kiln_shutdown();
    return rc;
}
