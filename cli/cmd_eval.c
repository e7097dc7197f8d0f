// kiln eval BASE.gguf QUANT.gguf: what a quantization costs, on the model itself.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/model/eval.h"
#include "quant/synth/rng.h"
#include "cli/args.h"

static void help(void) {
    printf("usage: kiln eval BASE.gguf QUANT.gguf [--tokens-file FILE | -n N] [--seed S] [--chunk C]\n"
           "\n"
           "Runs both models on the same tokens (chunks of C, default 128) and reports, over all\n"
           "positions, the mean and max KL divergence of QUANT's next-token distribution from\n"
           "BASE's, their top-1 agreement, and the RMS change of the probability of the actual next\n"
           "token (llama.cpp's perplexity tool reports the same). Tokens: a file of ids separated\n"
           "by spaces/commas/newlines, or N seeded random ids (default 256).\n");
}

static int read_tokens(const char *path, int32_t *out, int max) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0;
    long v;
    while (n < max && fscanf(f, "%ld%*[ ,\n\t]", &v) == 1)
        out[n++] = (int32_t)v;
    fclose(f);
    return n;
}

int kiln_cmd_eval(int argc, char **argv) {
    struct kiln_common_options o = { 0 };
    const char *files[2], *tokens_file = NULL;
    int n_files = 0;
    long n = 256, seed = 1, chunk = 128;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return KILN_EXIT_OK;
        } else if (kiln_arg_value(argc, argv, &i, "--tokens-file", &v, &err)) {
            tokens_file = v;
        } else if (kiln_arg_value(argc, argv, &i, "-n", &v, &err)) {
            if (err || !kiln_arg_int("eval", "-n", v, 2, 1 << 20, &n)) return KILN_EXIT_USAGE;
        } else if (kiln_arg_value(argc, argv, &i, "--seed", &v, &err)) {
            if (err || !kiln_arg_int("eval", "--seed", v, 0, 2147483647L, &seed)) return KILN_EXIT_USAGE;
        } else if (kiln_arg_value(argc, argv, &i, "--chunk", &v, &err)) {
            if (err || !kiln_arg_int("eval", "--chunk", v, 2, 1 << 16, &chunk)) return KILN_EXIT_USAGE;
        } else if (argv[i][0] != '-' && n_files < 2) {
            files[n_files++] = argv[i];
        } else {
            if (!kiln_common_option_or_usage("eval", argc, argv, &i, &o))
                return KILN_EXIT_USAGE;
        }
        if (err)
            return KILN_EXIT_USAGE;
    }
    if (n_files != 2) {
        fprintf(stderr, "kiln eval: expected BASE.gguf QUANT.gguf (see kiln eval --help)\n");
        return KILN_EXIT_USAGE;
    }
    int32_t *tokens = malloc(sizeof(int32_t) * (1 << 20));
    int count = (int)n;
    if (tokens_file) {
        count = read_tokens(tokens_file, tokens, 1 << 20);
        if (count < 2) {
            fprintf(stderr, "kiln eval: %s: no token ids (need at least 2)\n", tokens_file);
            free(tokens);
            return KILN_EXIT_FAIL;
        }
    }
    if (!kiln_start("eval", &o)) {
        free(tokens);
        return KILN_EXIT_FAIL;
    }
    struct kiln_device *dev = NULL;
    for (int i = 0; i < kiln_device_count() && !dev; i++)
        if (kiln_device_selected(&o, kiln_device_get(i)))
            dev = kiln_device_get(i);
    if (!tokens_file) {  // seeded random ids below the vocabulary: sized after the first load
        struct kiln_rng rng = kiln_rng_seed((uint64_t)seed);
        for (int i = 0; i < count; i++)
            tokens[i] = (int32_t)(kiln_rng_next(&rng) % 256);  // every vocabulary has at least 256 ids
    }
    struct kiln_eval_result r;
    const enum kiln_status st = dev ? kiln_eval_models(files[0], files[1], dev, tokens, count, chunk, &r)
                                    : kiln_fail(KILN_E_INVALID, "no device matches --backend");
    free(tokens);
    kiln_shutdown();
    if (st != KILN_OK) {
        fprintf(stderr, "kiln eval: %s\n", kiln_last_error());
        return KILN_EXIT_FAIL;
    }
    printf("positions %lld: mean KL %.6f (max %.6f), top-1 agreement %.2f%%, RMS delta-p %.4f%%\n",
           (long long)r.positions, r.mean_kl, r.max_kl, 100 * r.top1_agreement, 100 * r.rms_dp);
    return KILN_EXIT_OK;
}
