// Small command-line helpers shared by the subcommands: option matching ("--x V" and "--x=V"),
// number parsing with clear errors, comma lists, and the options every subcommand takes.
#pragma once

#include "bench/report/report.h"  // kiln_list_has

#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"

// Exit codes: 0 success, 1 the job failed (a check failed, a file is bad), 2 usage error.
enum { KILN_EXIT_OK = 0, KILN_EXIT_FAIL = 1, KILN_EXIT_USAGE = 2 };

// If argv[*i] is `name` ("--threads N" or "--threads=N"), stores the value, advances *i past
// it and returns true. A missing value prints a usage error and sets *error.
bool kiln_arg_value(int argc, char **argv, int *i, const char *name, const char **value, bool *error);

// Parses a non-negative integer option value; prints "kiln CMD: --name expects ..." on error.
bool kiln_arg_int(const char *cmd, const char *name, const char *text, long min, long max, long *out);

// True if `item` appears in the comma-separated `list` (NULL list = everything matches).

// Options shared by every subcommand that runs kernels.
struct kiln_common_options {
    struct kiln_init_options init;
    const char *backends;   // device filter for the command ("cpu", "vulkan:0"); NULL = all
};

// Consumes --threads, --backend, --no-pin if argv[*i] is one of them. Returns 1 if consumed,
// 0 if not, -1 on a usage error (message printed).
int kiln_common_option(const char *cmd, int argc, char **argv, int *i, struct kiln_common_options *o);

// The last branch of every subcommand's argument loop: consumes a common option, or prints why
// argv[*i] is not one ("unknown option" / "unexpected argument") and returns false (usage error).
bool kiln_common_option_or_usage(const char *cmd, int argc, char **argv, int *i, struct kiln_common_options *o);

// Starts kiln with the common options; prints the error and returns false on failure.
bool kiln_start(const char *cmd, const struct kiln_common_options *o);

// True for devices --backend selects, less emulated ones unless named (benchmarks; says so).
bool kiln_device_selected_for_timing(const char *cmd, const struct kiln_common_options *o,
                                     const struct kiln_device *dev);
// True if the device is selected by the --backend filter.
bool kiln_device_selected(const struct kiln_common_options *o, const struct kiln_device *dev);

int kiln_cmd_info(int argc, char **argv);
int kiln_cmd_ops(int argc, char **argv);
int kiln_cmd_bench(int argc, char **argv);
int kiln_cmd_compare(int argc, char **argv);
int kiln_cmd_history(int argc, char **argv);
// "5%" or "0.05" -> 0.05 (cmd_compare.c); false if not a number >= 0.
bool kiln_parse_fraction(const char *text, double *out);
int kiln_cmd_plot(int argc, char **argv);
int kiln_cmd_inspect(int argc, char **argv);
int kiln_cmd_convert(int argc, char **argv);
int kiln_cmd_quantize(int argc, char **argv);
int kiln_cmd_synth(int argc, char **argv);
int kiln_cmd_run(int argc, char **argv);
int kiln_cmd_tokenize(int argc, char **argv);
struct kiln_gguf;
struct kiln_vocab;
// TEXT -> ids with the file's vocabulary (cmd_tokenize.c); NULL after printing why. *vocab (if
// given) receives the vocabulary for decoding; the caller frees both.
int32_t *kiln_cli_encode(const char *cmd, const struct kiln_gguf *g, const char *text, int64_t *n,
                         struct kiln_vocab **vocab);
int kiln_cmd_bench_model(int argc, char **argv);
int kiln_cmd_eval(int argc, char **argv);
int kiln_cmd_imatrix(int argc, char **argv);
