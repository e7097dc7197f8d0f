// The converter library behind `kiln convert` and `kiln quantize`: a Hugging Face Llama folder
// (config.json + safetensors) or a GGUF file in, a GGUF v3 file out.
//   names     HF -> GGUF as llama.cpp's converter (spec §5.3), llama.* metadata (§5.1)
//   q/k rows  permuted from HF's rotate-half layout to llama's adjacent pairs (§5.3)
//   types     1-D tensors stay f32; 2-D weights get the mix's type (llama-quantize's rules,
//             mix.h), or the type an override names; a row length that is not whole blocks
//             falls back as llama.cpp's (Q4_K -> Q5_0 ..., then f16: said)
//   bytes     each row converted to f32 exactly, then the reference quantizer: the bytes equal
//             "convert to f16/bf16 GGUF, then llama-quantize" (§5.4). Rows are split across
//             threads, so the output does not depend on the thread count.
// The output streams one tensor at a time (memory: one tensor plus the inputs' mappings),
// is written to a temporary name and renamed when complete; the inputs are never modified.
#pragma once

#include <stdbool.h>

#include "quant/convert/mix.h"
#include "quant/format/types.h"

// The target: a llama.cpp file type ("mix", mix.h) with llama-quantize's per-tensor rules, or one
// type for every 2-D weight (mix.ftype KILN_FTYPE_NONE, or --pure).
struct kiln_convert_options {
    struct kiln_mix_choice mix;
    int threads;               // 0 = one per core
    bool dry_run;              // print the plan and the output size, write nothing
    const char *overrides;     // "ffn_down=q8_0,blk\\.[0-3]\\.attn_v=f16": regex=type, first match wins
    int progress;              // 1 always, 0 never, -1 on a TTY (default)
    // --imatrix FILE (quant/convert/imatrix.h): the quantizers weight each column by its
    // importance, as ggml's with llama-quantize --imatrix; NULL = none. --include-weights /
    // --exclude-weights (substrings of entry names; not both) narrow which entries are used.
    bool quiet;                // no per-tensor plan or table (the caller prints a summary)
    bool silent;               // quiet, and no "wrote" line either (the library API: nothing on stdout)
    struct kiln_convert_summary *summary;  // filled when not NULL
    const char *imatrix_path;
    const char *const *include_weights, *const *exclude_weights;
    int n_include, n_exclude;
    // Called after each tensor is written (the Python package's progress=callable): tensors done
    // of total, its name, input bytes done of total. Non-zero return cancels: the write fails
    // with "cancelled" and no output file is left. NULL = none (the terminal bar is `progress`).
    int (*on_progress)(void *user, int done, int total, const char *tensor, uint64_t bytes_done,
                       uint64_t bytes_total);
    void *progress_user;
};

// What a conversion wrote (or, dry run, would write): bytes of tensor data in and out, weights
// (elements of every tensor: bits per weight = 8 * bytes_out / n_elements, llama-quantize's BPW),
// the error over every quantized weight (relative RMSE), seconds spent.
struct kiln_convert_summary {
    uint64_t bytes_in, bytes_out, n_elements;
    double rel_rmse, seconds;
};

// Options for a --type value: a mix by llama-quantize's name or alias (q4_k_m, Q3_K_S, q4_K =
// Q4_K_M, q8_0, f16), or another type kiln knows, alone; every other field at its default.
// False if the name is neither.
bool kiln_convert_options_for(const char *type_name, struct kiln_convert_options *o);

enum kiln_status kiln_convert_hf(const char *hf_dir, const char *out_path, const struct kiln_convert_options *o);
enum kiln_status kiln_quantize_gguf(const char *in_path, const char *out_path, const struct kiln_convert_options *o);
