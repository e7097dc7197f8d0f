// kiln imatrix MODEL.gguf (--text FILE | --tokens FILE) [-o OUT]: the importance matrix
// llama-imatrix computes, with kiln's runner (bench/model/imatrix_run.h), for --imatrix.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/model/imatrix_run.h"
#include "cli/args.h"
#include "quant/file/gguf.h"
#include "quant/tokenizer/vocab.h"

static void help(void) {
    printf("usage: kiln imatrix MODEL.gguf (--text FILE | --tokens FILE) [-o imatrix.gguf] [--ctx N]\n"
           "                    [--chunks N] [--process-output] [--progress|--no-progress]\n"
           "                    [--threads N] [--backend DEV]\n"
           "\n"
           "Runs the model over the text (encoded with the model's vocabulary) or token ids, cut\n"
           "into chunks of --ctx tokens (the first of each replaced by BOS when the vocabulary adds\n"
           "one), and sums, for every matmul weight of the blocks, the squares of the activations\n"
           "entering each of its columns: the importance matrix, as llama-imatrix computes it,\n"
           "written in its GGUF format. Give it to kiln quantize --imatrix (or llama-quantize).\n"
           "Prints the perplexity over each chunk's second half, as llama-imatrix does.\n"
           "\n"
           "  --text FILE       UTF-8 text (a calibration set: wiki text, code, chat, ...)\n"
           "  --tokens FILE     token ids separated by spaces, commas or newlines\n"
           "  -o FILE           the output (default imatrix.gguf)\n"
           "  --ctx N           tokens per chunk (default 512, llama-imatrix's -c)\n"
           "  --chunks N        at most N chunks (default: every whole chunk of the input)\n"
           "  --process-output  also collect output.weight (llama-imatrix --process-output)\n");
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            char *b = realloc(buf, 2 * cap + 1);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static int32_t *parse_ids(const char *text, int64_t *n) {
    const size_t len = strlen(text);
    int32_t *ids = malloc(sizeof(int32_t) * (len / 2 + 2));
    int64_t k = 0;
    for (const char *p = text; ids && *p;) {
        while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\t' || *p == '\r')
            p++;
        if (!*p)
            break;
        char *end;
        const long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 0x7fffffff) {
            fprintf(stderr, "kiln imatrix: --tokens: '%.20s' is not a token id\n", p);
            free(ids);
            return NULL;
        }
        ids[k++] = (int32_t)v;
        p = end;
    }
    *n = k;
    return ids;
}

// The BOS llama-imatrix puts first in each chunk (llama_vocab_get_add_bos): the file's
// bos_token_id when add_bos_token says so; without that key, when kiln's encoder (which has
// llama.cpp's per-tokenizer defaults) starts a text with it.
static int32_t chunk_bos(const struct kiln_gguf *g) {
    const struct kiln_gguf_kv *id = kiln_gguf_find(g, "tokenizer.ggml.bos_token_id");
    if (!id || id->value.type != KILN_GGUF_UINT32)
        return -1;
    const struct kiln_gguf_kv *add = kiln_gguf_find(g, "tokenizer.ggml.add_bos_token");
    if (add && add->value.type == KILN_GGUF_BOOL)
        return add->value.u ? (int32_t)id->value.u : -1;
    struct kiln_vocab *v;
    if (kiln_vocab_load(g, &v) != KILN_OK)
        return -1;
    int32_t ids[16];
    const int64_t n = kiln_vocab_encode(v, "a", ids, 16);
    kiln_vocab_free(v);
    return n >= 1 && n <= 16 && ids[0] == (int32_t)id->value.u ? ids[0] : -1;
}

int kiln_cmd_imatrix(int argc, char **argv) {
    struct kiln_common_options co = { 0 };
    struct kiln_imatrix_run_options o = { .n_ctx = 512, .progress = -1 };
    const char *model = NULL, *text_path = NULL, *tokens_path = NULL, *out = "imatrix.gguf";
    long v_ctx = 512, v_chunks = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return KILN_EXIT_OK;
        } else if (!strcmp(argv[i], "--process-output")) {
            o.process_output = true;
        } else if (!strcmp(argv[i], "--progress") || !strcmp(argv[i], "--no-progress")) {
            o.progress = !strcmp(argv[i], "--progress");
        } else if (kiln_arg_value(argc, argv, &i, "--text", &v, &err)) {
            text_path = v;
        } else if (kiln_arg_value(argc, argv, &i, "--tokens", &v, &err)) {
            tokens_path = v;
        } else if (kiln_arg_value(argc, argv, &i, "-o", &v, &err) ||
                   kiln_arg_value(argc, argv, &i, "--output", &v, &err)) {
            out = v;
        } else if (kiln_arg_value(argc, argv, &i, "--ctx", &v, &err)) {
            if (err || !kiln_arg_int("imatrix", "--ctx", v, 16, 1 << 20, &v_ctx))
                return KILN_EXIT_USAGE;
        } else if (kiln_arg_value(argc, argv, &i, "--chunks", &v, &err)) {
            if (err || !kiln_arg_int("imatrix", "--chunks", v, 1, 1 << 24, &v_chunks))
                return KILN_EXIT_USAGE;
        } else if (argv[i][0] != '-' && !model) {
            model = argv[i];
        } else if (!kiln_common_option_or_usage("imatrix", argc, argv, &i, &co)) {
            return KILN_EXIT_USAGE;
        }
        if (err)
            return KILN_EXIT_USAGE;
    }
    if (!model || !!text_path == !!tokens_path) {
        fprintf(stderr, "kiln imatrix: expected MODEL.gguf and one of --text FILE, --tokens FILE (see kiln imatrix "
                "--help)\n");
        return KILN_EXIT_USAGE;
    }
    o.n_ctx = v_ctx;
    o.n_chunks = v_chunks;
    o.dataset = text_path ? text_path : tokens_path;
    size_t len = 0;
    char *input = read_file(o.dataset, &len);
    if (!input) {
        fprintf(stderr, "kiln imatrix: %s: cannot read\n", o.dataset);
        return KILN_EXIT_FAIL;
    }
    struct kiln_gguf *g;
    if (kiln_gguf_open(model, &g) != KILN_OK) {
        fprintf(stderr, "kiln imatrix: %s\n", kiln_last_error());
        free(input);
        return KILN_EXIT_FAIL;
    }
    int64_t n = 0;
    int32_t *ids = text_path ? kiln_cli_encode("imatrix", g, input, &n, NULL) : parse_ids(input, &n);
    o.bos = chunk_bos(g);
    kiln_gguf_close(g);
    free(input);
    if (!ids)
        return KILN_EXIT_FAIL;
    printf("%s: %lld tokens from %s; chunks of %lld%s\n", model, (long long)n, o.dataset, (long long)o.n_ctx,
           o.bos >= 0 ? ", each starting with BOS" : "");
    if (!kiln_start("imatrix", &co)) {
        free(ids);
        return KILN_EXIT_FAIL;
    }
    struct kiln_device *dev = NULL;
    for (int i = 0; i < kiln_device_count() && !dev; i++)
        if (kiln_device_selected(&co, kiln_device_get(i)))
            dev = kiln_device_get(i);
    struct kiln_imatrix_run_stats st;
    const enum kiln_status s = dev ? kiln_imatrix_compute(model, dev, ids, n, &o, out, &st)
                                   : kiln_fail(KILN_E_INVALID, "no device matches --backend");
    free(ids);
    kiln_shutdown();
    if (s != KILN_OK) {
        fprintf(stderr, "kiln imatrix: %s\n", kiln_last_error());
        return s == KILN_E_INVALID ? KILN_EXIT_USAGE : KILN_EXIT_FAIL;
    }
    printf("wrote %s: %lld entries, %lld chunks of %lld (%lld tokens) in %.2f s (%.1f tokens/s); PPL %.4f\n", out,
           (long long)st.entries, (long long)st.chunks, (long long)o.n_ctx, (long long)st.tokens, st.seconds,
           (double)st.tokens / (st.seconds > 0 ? st.seconds : 1e-9), st.ppl);
    return KILN_EXIT_OK;
}
