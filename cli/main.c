// kiln: one binary, one thin file per subcommand (cli/cmd_*.c).
#include "quant/file/out_file.h"
#include "kiln_git_commit.h"
#include <stdio.h>
#include <string.h>

#include "cli/args.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "convert", kiln_cmd_convert, "Hugging Face Llama folder -> GGUF, quantized" },
    { "quantize", kiln_cmd_quantize, "GGUF -> GGUF of another type" },
    { "inspect", kiln_cmd_inspect, "a GGUF file's metadata, tensors, types, sizes, bits per weight" },
    { "synth", kiln_cmd_synth, "write a synthetic Llama model (HF folder) with real shapes" },
    { "run", kiln_cmd_run, "run a GGUF model on a prompt or token ids; write its logits" },
    { "tokenize", kiln_cmd_tokenize, "the token ids of a text under a model's vocabulary" },
    { "eval", kiln_cmd_eval, "KL divergence, top-1 agreement, delta-p of QUANT vs BASE" },
    { "imatrix", kiln_cmd_imatrix, "the importance matrix of a model over a text, for quantize --imatrix" },
    { "info", kiln_cmd_info, "devices, CPU features, cores, caches, NUMA, memory, absent backends" },
    { "ops", kiln_cmd_ops, "check every kernel on every device against the reference" },
    { "bench", kiln_cmd_bench, "time ops (bench ops) and measure the roofline (bench roofline)" },
    { "compare", kiln_cmd_compare, "two benchmark results (files or db:COMMIT) in, regressions out (exit 1)" },
    { "history", kiln_cmd_history, "each benchmark's series across stored runs, with change points" },
    { "plot", kiln_cmd_plot, "SVG roofline and comparison charts from benchmark files" },
};

static void usage(FILE *f) {
    fprintf(f,
            "kiln %s: quantize LLM weights, run hand-written kernels on CPU/CUDA/Vulkan, measure.\n"
            "\n"
            "usage: kiln COMMAND [options]     (kiln COMMAND --help for its options)\n"
            "\n"
            "commands:\n", KILN_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-8s %s\n", "help", "this text");
    fprintf(f,
            "\n"
            "environment:\n"
            "  KILN_CPU_ISA=ref|avx2|neon|native   limit the CPU kernels to an ISA level (avx2: no AVX-VNNI)\n"
            "  KILN_CPU_PREFETCH=0|1               the float GEMVs' software prefetch (default: off on AMD\n"
            "                                      with AVX-512, where it measured slower; kiln info says)\n"
            "  KILN_VULKAN_VALIDATION=1            Vulkan under the Khronos validation layer; its errors fail\n"
            "  KILN_VULKAN_PORTABLE=1              Vulkan without optional features (subgroups, 16/8-bit)\n"
            "  KILN_VULKAN_TIMEOUT=S               longest wait for one Vulkan submit (default 600)\n"
            "  KILN_NO_SPLITK=1                    GPU decode attention in one pass (no split-K)\n"
            "  KILN_CUDA_NO_DP4A=1                 CUDA Q4_0/Q8_0 GEMV in float instead of int8 dp4a\n"
            "  KILN_WEIGHT_ARENA_BYTES=N           model weights in arenas of N bytes (default 1 GiB)\n"
            "  KILN_NO_REPACK=1                    keep weights in GGUF rows (no load-time x8 repack)\n"
            "  KILN_CPU_MEMORY_BYTES=N             the CPU device reports at most N bytes (models past it are refused)\n"
            "  KILN_DB=FILE                        the results history of --db / db:REF (default results.sqlite)\n"
            "\n"
            "exit status: 0 success, 1 the job failed, 2 usage error\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return KILN_EXIT_USAGE;
    }
    kiln_out_cleanup_on_signals();  // an interrupted write leaves no temporary (quant/file/out_file.h)
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2) {  // "kiln help ops" = "kiln ops --help"
            for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
                if (strcmp(commands[i].name, argv[2]) == 0) {
                    char *sub[] = { argv[2], "--help", NULL };
                    return commands[i].run(2, sub);
                }
            }
        }
        usage(stdout);
        return KILN_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("kiln %s (%s)\n", KILN_VERSION, KILN_GIT_COMMIT);
        return KILN_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, cmd) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "kiln: unknown command '%s' (see kiln help)\n", cmd);
    return KILN_EXIT_USAGE;
}
