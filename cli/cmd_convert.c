// kiln convert | quantize | synth: argument parsing; the work is quant/convert/convert.c, quant/synth/synth.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "quant/convert/convert.h"
#include "quant/synth/synth.h"
#include "bench/model/eval.h"
#include "quant/synth/rng.h"
#include <unistd.h>


static void help_convert(void) {
    printf("usage: kiln convert HF_DIR -o OUT.gguf [--type T] [--tensor-type NAME=T,...] [--threads N]\n"
           "                   [--pure] [--leave-output-tensor] [--output-tensor-type T]\n"
           "                   [--token-embedding-type T] [--imatrix FILE [--include-weights NAME]...\n"
           "                   [--exclude-weights NAME]...] [--dry-run] [--progress|--no-progress]\n"
           "       kiln quantize IN.gguf OUT.gguf T [same options]\n"
           "\n"
           "convert: a Hugging Face folder (config.json + *.safetensors, f32/f16/bf16, sharded or\n"
           "not) of LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM or Qwen3ForCausalLM to\n"
           "GGUF v3 as llama.cpp writes it (general.architecture llama, qwen2 or qwen3; its keys,\n"
           "tensor names, q/k row permutation for llama, biases, q/k norms, rope_freqs for Llama 3).\n"
           "What would make the file a different model than the checkpoint is refused, naming it:\n"
           "another architecture, a tensor the graph does not use, a config field kiln does not\n"
           "implement (experts, sliding windows, rope scaling other than llama3, biases, gelu...).\n"
           "quantize: re-type the tensors of a GGUF file.\n"
           "T is one of llama-quantize's file types (mixes), with its per-tensor rules: Q4_K_M is\n"
           "Q4_K with Q6_K for output.weight and for half of the attn_v/ffn_down weights, Q4_0 has\n"
           "a Q6_K output.weight, ... (aliases Q3_K, Q4_K, Q5_K = their _M mix; case does not\n"
           "matter); the types written equal llama-quantize's, tensor by tensor, and so do the\n"
           "bytes (ggml's reference quantizers). 1-D tensors stay f32; default f16.\n"
           "--tensor-type REGEX=T overrides tensors whose name matches REGEX (POSIX extended,\n"
           "anywhere in the name, lowercased; repeatable; the first matching override wins, as in\n"
           "llama-quantize).\n"
           "A row that is not whole blocks of its type falls back as llama.cpp's (Q4_K -> Q5_0,\n"
           "Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0, then f16), said on stderr.\n"
           "After writing, each tensor's error (RMSE relative to its RMS) is printed (measured on\n"
           "every 8th row of tensors of 256 rows or more).\n"
           "The output is written to a temporary name and renamed when complete.\n"
           "\n"
           "  --pure                  every weight gets T's base type (no mix rules)\n"
           "  --leave-output-tensor   output.weight keeps its type\n"
           "  --output-tensor-type T  the type of output.weight\n"
           "  --token-embedding-type T  the type of token_embd.weight\n"
           "  --imatrix FILE          weight each column by its importance (llama-imatrix's or kiln\n"
           "                          imatrix's file: GGUF, or the legacy .dat), as llama-quantize\n"
           "                          --imatrix: the same bytes; the mixes' imatrix rules apply\n"
           "                          (Q2_K_S needs one); written as quantize.imatrix.* keys\n"
           "  --include-weights NAME  use only the entries whose name contains NAME (repeatable)\n"
           "  --exclude-weights NAME  drop the entries whose name contains NAME (repeatable; not\n"
           "                          with --include-weights)\n"
           "  --eval         then measure what the quantization costs (kiln eval on 256 seeded\n"
           "                 tokens: mean KL, top-1 agreement, RMS delta-p): convert against the\n"
           "                 folder converted unquantized (f32), quantize against IN\n"
           "  --dry-run      print the plan (each tensor's type and bytes; the size and bits per\n"
           "                 weight), write nothing\n"
           "\n"
           "quantize's T may be a list, Q4_K_M,Q5_K_M,Q6_K (or all): each mix is written to\n"
           "OUT-<MIX>.gguf, or only planned with --dry-run, and one line per mix gives its size,\n"
           "bits per weight, error and, with --eval, its KL against IN: which mix to pick.\n"
           "\n"
           "  types: %s\n"
           "         (or any type kiln writes, alone: every weight, no rules)\n", kiln_mix_names());
}

static void help_synth(void) {
    printf("usage: kiln synth --preset NAME -o DIR [--seed N] [--dtype f16|bf16] [--tied|--untied]\n"
           "\n"
           "Writes a Hugging Face-style folder of the preset's architecture (Llama, Mistral, Qwen2,\n"
           "Qwen3: config.json + model.safetensors, f16) with\n"
           "the preset's real shapes and seeded random weights: the input for benchmarks and\n"
           "converter tests when no model can be downloaded.\n"
           "\n"
           "  --seed N          the weights' random seed (default 1)\n"
           "  --dtype bf16      write bf16 weights, as most published checkpoints are (default f16)\n"
           "  --tied, --untied  tie the output projection to the embeddings (no lm_head.weight,\n"
           "                    tie_word_embeddings true) or not (default: the preset's)\n"
           "\n"
           "  presets: %s\n", kiln_model_preset_names());
}

static enum kiln_status eval_pair(const char *ref, const char *out, struct kiln_eval_result *r);

// Parses the options shared by convert and quantize; positional arguments go to pos[].
static bool eval_after;

struct convert_args {
    const char *type, *output_type, *token_embd_type;
    bool pure, leave_output;
    const char *include[64], *exclude[64];  // --include-weights / --exclude-weights, repeatable
    int n_include, n_exclude;
    struct kiln_convert_options run;  // threads, dry run, overrides, progress
    char overrides[4096];             // every --tensor-type, in order, joined by commas
};

static bool parse_type_option(const char *cmd, const char *opt, const char *v, const char **out) {
    enum kiln_type t;
    if (!kiln_type_from_name(v, &t)) {
        fprintf(stderr, "kiln %s: %s: unknown type '%s' (f32, f16, bf16, q8_0, q6_K, q4_K, q4_0, ...)\n", cmd, opt, v);
        return false;
    }
    *out = v;
    return true;
}

static int parse(const char *cmd, int argc, char **argv, struct convert_args *a,
                 const char **out, const char **pos, int max_pos, int *n_pos) {
    struct kiln_convert_options *o = &a->run;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        long n;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help_convert();
            return 1;
        } else if (!strcmp(argv[i], "--eval")) {
            eval_after = true;
        } else if (!strcmp(argv[i], "--dry-run")) {
            o->dry_run = true;
        } else if (!strcmp(argv[i], "--pure")) {
            a->pure = true;
        } else if (!strcmp(argv[i], "--leave-output-tensor")) {
            a->leave_output = true;
        } else if (!strcmp(argv[i], "--progress")) {
            o->progress = 1;
        } else if (!strcmp(argv[i], "--no-progress")) {
            o->progress = 0;
        } else if (kiln_arg_value(argc, argv, &i, "-o", &v, &err) || kiln_arg_value(argc, argv, &i, "--output", &v, &err)) {
            *out = v;
        } else if (kiln_arg_value(argc, argv, &i, "--type", &v, &err)) {
            a->type = v;
        } else if (kiln_arg_value(argc, argv, &i, "--output-tensor-type", &v, &err)) {
            if (!err && !parse_type_option(cmd, "--output-tensor-type", v, &a->output_type))
                return -1;
        } else if (kiln_arg_value(argc, argv, &i, "--token-embedding-type", &v, &err)) {
            if (!err && !parse_type_option(cmd, "--token-embedding-type", v, &a->token_embd_type))
                return -1;
        } else if (kiln_arg_value(argc, argv, &i, "--imatrix", &v, &err)) {
            o->imatrix_path = v;
        } else if (kiln_arg_value(argc, argv, &i, "--include-weights", &v, &err) ||
                   kiln_arg_value(argc, argv, &i, "--exclude-weights", &v, &err)) {
            const bool inc = !strcmp(argv[i - 1], "--include-weights");
            int *n_list = inc ? &a->n_include : &a->n_exclude;
            if (!err && *n_list >= 64) {
                fprintf(stderr, "kiln %s: at most 64 %s\n", cmd, argv[i - 1]);
                return -1;
            }
            if (!err)
                (inc ? a->include : a->exclude)[(*n_list)++] = v;
        } else if (kiln_arg_value(argc, argv, &i, "--tensor-type", &v, &err)) {
            // repeatable, as llama-quantize's: each adds its patterns after the earlier ones
            if (!err) {
                const size_t used = strlen(a->overrides);
                if (used + 1 + strlen(v) >= sizeof a->overrides) {
                    fprintf(stderr, "kiln %s: --tensor-type: the overrides exceed %zu characters in all\n", cmd,
                            sizeof a->overrides - 1);
                    return -1;
                }
                snprintf(a->overrides + used, sizeof a->overrides - used, "%s%s", used ? "," : "", v);
                o->overrides = a->overrides;
            }
        } else if (kiln_arg_value(argc, argv, &i, "--threads", &v, &err)) {
            if (err || !kiln_arg_int(cmd, "--threads", v, 0, 1024, &n))
                return -1;
            o->threads = (int)n;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "kiln %s: unknown option '%s' (see kiln %s --help)\n", cmd, argv[i], cmd);
            return -1;
        } else if (*n_pos < max_pos) {
            pos[(*n_pos)++] = argv[i];
        } else {
            fprintf(stderr, "kiln %s: unexpected argument '%s'\n", cmd, argv[i]);
            return -1;
        }
        if (err)
            return -1;
    }
    return 0;
}

// The options for type name `t` and the parsed flags; false (said) for an unknown type.
static bool build_options(const char *cmd, const char *t, const struct convert_args *a, struct kiln_convert_options *o) {
    if (!kiln_convert_options_for(t, o)) {
        fprintf(stderr, "kiln %s: unknown type '%s' (%s, or a type name)\n", cmd, t, kiln_mix_names());
        return false;
    }
    o->threads = a->run.threads;
    o->dry_run = a->run.dry_run;
    o->overrides = a->run.overrides;
    o->progress = a->run.progress;
    o->imatrix_path = a->run.imatrix_path;
    o->include_weights = a->include;
    o->exclude_weights = a->exclude;
    o->n_include = a->n_include;
    o->n_exclude = a->n_exclude;
    o->mix.pure |= a->pure;
    o->mix.leave_output = a->leave_output;
    if (a->output_type)
        kiln_type_from_name(a->output_type, &o->mix.output_type);
    if (a->token_embd_type)
        kiln_type_from_name(a->token_embd_type, &o->mix.token_embd_type);
    return true;
}

static int finish(const char *cmd, enum kiln_status s) {
    if (s == KILN_OK)
        return KILN_EXIT_OK;
    fprintf(stderr, "kiln %s: %s\n", cmd, kiln_last_error());
    return s == KILN_E_INVALID ? KILN_EXIT_USAGE : KILN_EXIT_FAIL;
}

int kiln_cmd_convert(int argc, char **argv) {
    struct convert_args a = { .type = "f16", .run.progress = -1 };
    struct kiln_convert_options o;
    const char *out = NULL, *pos[1];
    int n_pos = 0;
    const int p = parse("convert", argc, argv, &a, &out, pos, 1, &n_pos);
    if (p)
        return p > 0 ? KILN_EXIT_OK : KILN_EXIT_USAGE;
    if (!build_options("convert", a.type, &a, &o))
        return KILN_EXIT_USAGE;
    if (n_pos != 1 || (!out && !o.dry_run)) {
        fprintf(stderr, "kiln convert: expected HF_DIR -o OUT.gguf (see kiln convert --help)\n");
        return KILN_EXIT_USAGE;
    }
    enum kiln_status s = kiln_convert_hf(pos[0], out, &o);
    if (s == KILN_OK && eval_after && !o.dry_run) {
        // The unquantized reference: the same folder converted to f32 (exact for any source).
        char ref[4200];
        snprintf(ref, sizeof ref, "%s.eval-ref-%d.gguf", out, (int)getpid());
        struct kiln_convert_options ro;
        kiln_convert_options_for("f32", &ro);
        ro.threads = o.threads;
        ro.progress = 0;
        fflush(stdout);
        const int saved = dup(1);
        freopen("/dev/null", "w", stdout);
        s = kiln_convert_hf(pos[0], ref, &ro);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        struct kiln_eval_result r;
        if (s == KILN_OK)
            s = kiln_init(NULL);
        if (s == KILN_OK)
            s = eval_pair(ref, out, &r);
        if (s == KILN_OK)
            printf("eval against f32 (256 seeded tokens): mean KL %.6f (max %.6f), top-1 agreement %.2f%%, "
                   "RMS delta-p %.4f%%\n", r.mean_kl, r.max_kl, 100 * r.top1_agreement, 100 * r.rms_dp);
        kiln_shutdown();
        remove(ref);
    }
    return finish("convert", s);
}

// kiln eval of `out` against `ref` on 256 seeded tokens (chunks of 128): what --eval prints.
static enum kiln_status eval_pair(const char *ref, const char *out, struct kiln_eval_result *r) {
    int32_t tokens[256];
    struct kiln_rng rng = kiln_rng_seed(1);
    for (int i = 0; i < 256; i++)
        tokens[i] = (int32_t)(kiln_rng_next(&rng) % 256);
    return kiln_eval_models(ref, out, kiln_device_find("cpu"), tokens, 256, 128, r);
}

// OUT with "-MIX" before its .gguf suffix: the file of one mix of a list.
static void mix_path(const char *out, const char *mix, char *dst, size_t n) {
    const size_t len = strlen(out);
    const bool gguf = len > 5 && !strcmp(out + len - 5, ".gguf");
    snprintf(dst, n, "%.*s-%s%s", (int)(gguf ? len - 5 : len), out, mix, gguf ? ".gguf" : "");
}

// A list of mixes (TYPE "Q4_K_M,Q5_K_M,..." or "all"): each planned (--dry-run) or written to
// OUT-<MIX>.gguf (and evaluated against IN with --eval), then one line per mix.
static int quantize_list(const char *in, const char *out, const char *types, const struct convert_args *a) {
    char list[1024];
    snprintf(list, sizeof list, "%s", !strcmp(types, "all") ? kiln_mix_names() : types);
    printf("%-8s %10s %6s%s%s\n", "mix", "MiB", "bpw", a->run.dry_run ? "" : "   rel. RMSE",
           eval_after && !a->run.dry_run ? "    mean KL   top-1   RMS dp" : "");
    enum kiln_status s = KILN_OK;
    bool init = false;
    for (char *save = NULL, *t = strtok_r(list, ", ", &save); t && s == KILN_OK; t = strtok_r(NULL, ", ", &save)) {
        struct kiln_convert_options o;
        struct kiln_convert_summary sum;
        char path[4200];
        if (!build_options("quantize", t, a, &o))
            return KILN_EXIT_USAGE;
        o.quiet = true;
        o.summary = &sum;
        o.progress = 0;
        mix_path(out, t, path, sizeof path);
        fflush(stdout);
        const int saved = dup(1);  // the per-mix "wrote" lines would break the table
        freopen("/dev/null", "w", stdout);
        s = kiln_quantize_gguf(in, path, &o);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        if (s != KILN_OK && !a->run.imatrix_path && strstr(kiln_last_error(), "needs an importance matrix")) {
            printf("%-8s (needs --imatrix: skipped)\n", t);  // Q2_K_S in "all"
            s = KILN_OK;
            continue;
        }
        if (s != KILN_OK)
            break;
        printf("%-8s %10.2f %6.2f", t, (double)sum.bytes_out / 1048576.0,
               8.0 * (double)sum.bytes_out / (double)(sum.n_elements ? sum.n_elements : 1));
        if (!o.dry_run)
            printf(" %11.3e", sum.rel_rmse);
        if (eval_after && !o.dry_run) {
            struct kiln_eval_result r;
            if (!init && (s = kiln_init(NULL)) == KILN_OK)
                init = true;
            if (s == KILN_OK)
                s = eval_pair(in, path, &r);
            if (s == KILN_OK)
                printf("  %9.6f %6.2f%% %7.4f%%", r.mean_kl, 100 * r.top1_agreement, 100 * r.rms_dp);
        }
        printf("%s%s\n", o.dry_run ? "" : "   ", o.dry_run ? "" : path);
    }
    if (init)
        kiln_shutdown();
    return finish("quantize", s);
}

int kiln_cmd_quantize(int argc, char **argv) {
    struct convert_args a = { .run.progress = -1 };
    struct kiln_convert_options o;
    const char *out = NULL, *pos[3];
    int n_pos = 0;
    const int p = parse("quantize", argc, argv, &a, &out, pos, 3, &n_pos);
    if (p)
        return p > 0 ? KILN_EXIT_OK : KILN_EXIT_USAGE;
    if (n_pos != 3) {
        fprintf(stderr, "kiln quantize: expected IN.gguf OUT.gguf TYPE (see kiln quantize --help)\n");
        return KILN_EXIT_USAGE;
    }
    if (!strcmp(pos[0], pos[1])) {
        fprintf(stderr, "kiln quantize: the output would overwrite the input\n");
        return KILN_EXIT_USAGE;
    }
    if (strchr(pos[2], ',') || !strcmp(pos[2], "all"))
        return quantize_list(pos[0], pos[1], pos[2], &a);
    if (!build_options("quantize", pos[2], &a, &o))
        return KILN_EXIT_USAGE;
    enum kiln_status s = kiln_quantize_gguf(pos[0], pos[1], &o);
    if (s == KILN_OK && eval_after && !o.dry_run) {
        struct kiln_eval_result r;
        s = kiln_init(NULL);
        if (s == KILN_OK)
            s = eval_pair(pos[0], pos[1], &r);
        if (s == KILN_OK)
            printf("eval against %s (256 seeded tokens): mean KL %.6f (max %.6f), top-1 agreement %.2f%%, "
                   "RMS delta-p %.4f%%\n", pos[0], r.mean_kl, r.max_kl, 100 * r.top1_agreement, 100 * r.rms_dp);
        kiln_shutdown();
    }
    return finish("quantize", s);
}

int kiln_cmd_synth(int argc, char **argv) {
    const char *preset = NULL, *out = NULL, *dtype = "f16";
    long seed = 1;
    int tied = -1;  // -1: the preset's choice
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool err = false;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help_synth();
            return KILN_EXIT_OK;
        } else if (kiln_arg_value(argc, argv, &i, "--preset", &v, &err)) {
            preset = v;
        } else if (kiln_arg_value(argc, argv, &i, "-o", &v, &err)) {
            out = v;
        } else if (kiln_arg_value(argc, argv, &i, "--seed", &v, &err)) {
            if (err || !kiln_arg_int("synth", "--seed", v, 0, 2147483647L, &seed))
                return KILN_EXIT_USAGE;
        } else if (kiln_arg_value(argc, argv, &i, "--dtype", &v, &err)) {
            dtype = v;
            if (!err && strcmp(v, "f16") && strcmp(v, "bf16")) {
                fprintf(stderr, "kiln synth: --dtype takes f16 or bf16, not '%s'\n", v);
                return KILN_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--tied") || !strcmp(argv[i], "--untied")) {
            tied = !strcmp(argv[i], "--tied");
        } else {
            fprintf(stderr, "kiln synth: unknown option '%s' (see kiln synth --help)\n", argv[i]);
            return KILN_EXIT_USAGE;
        }
        if (err)
            return KILN_EXIT_USAGE;
    }
    struct kiln_model_config c;
    if (!preset || !out) {
        fprintf(stderr, "kiln synth: expected --preset NAME -o DIR (see kiln synth --help)\n");
        return KILN_EXIT_USAGE;
    }
    if (!kiln_model_preset(preset, &c)) {
        fprintf(stderr, "kiln synth: unknown preset '%s' (%s)\n", preset, kiln_model_preset_names());
        return KILN_EXIT_USAGE;
    }
    snprintf(c.name, sizeof c.name, "kiln-synth-%s", preset);
    if (tied >= 0)
        c.tie_embeddings = tied;
    const enum kiln_status s = kiln_synth_write(&c, out, (uint64_t)seed, !strcmp(dtype, "bf16"));
    if (s == KILN_OK)
        printf("wrote %s (preset %s, seed %ld, %s%s)\n", out, preset, seed, dtype,
               c.tie_embeddings ? ", tied embeddings" : "");
    return finish("synth", s);
}
