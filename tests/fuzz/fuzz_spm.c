// libFuzzer target: the SentencePiece encoder and decoder behind `kiln run -p` and
// `kiln tokenize` (quant/tokenizer/spm_encode.c) on arbitrary text, with a fixed small vocabulary: the
// three control tokens, the 256 byte-fallback tokens <0x00>..<0xFF> and pieces of one to three
// characters (ASCII and multi-byte UTF-8, with and without the U+2581 word mark), written once
// into a GGUF file the way kiln convert writes a tokenizer.model's pieces. Every id the encoder
// returns must decode, and the count it reports must not exceed what fits when re-asked.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quant/file/gguf.h"
#include "quant/tokenizer/spm_encode.h"

static struct kiln_gguf *vocab_file;
static struct kiln_spm *spm;

static void build_vocab(void) {
    static const char *const pieces[] = { "\xe2\x96\x81", "\xe2\x96\x81" "a", "a", "b", "ab", "\xe2\x96\x81" "ab",
                                          "c", "\xe2\x96\x81" "the", "the", "th", "he", "e", "h", "t",
                                          "\xc3\xa9", "\xe2\x96\x81\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", " ", "\n" };
    enum { N_PIECES = sizeof pieces / sizeof pieces[0], N = 3 + 256 + N_PIECES };
    static char byte_names[256][8];
    const char *tokens[N];
    float scores[N];
    int32_t types[N];
    tokens[0] = "<unk>", tokens[1] = "<s>", tokens[2] = "</s>";
    types[0] = 2, types[1] = types[2] = 3;  // unknown, control
    scores[0] = scores[1] = scores[2] = 0.0f;
    for (int b = 0; b < 256; b++) {
        snprintf(byte_names[b], sizeof byte_names[b], "<0x%02X>", b);
        tokens[3 + b] = byte_names[b];
        types[3 + b] = 6;  // byte
        scores[3 + b] = 0.0f;
    }
    for (int i = 0; i < N_PIECES; i++) {
        tokens[259 + i] = pieces[i];
        types[259 + i] = 1;
        scores[259 + i] = -(float)i;
    }
    struct kiln_gguf_writer *w = kiln_gguf_writer_new();
    char path[] = "/tmp/kiln-fuzz-spm-vocab-XXXXXX.gguf";
    const int fd = mkstemps(path, 5);
    if (!w || fd < 0)
        abort();
    close(fd);
    kiln_gguf_add_string(w, "general.architecture", "llama");
    kiln_gguf_add_string(w, "tokenizer.ggml.model", "llama");
    kiln_gguf_add_string_array(w, "tokenizer.ggml.tokens", tokens, N);
    kiln_gguf_add_array(w, "tokenizer.ggml.scores", KILN_GGUF_FLOAT32, scores, N);
    kiln_gguf_add_array(w, "tokenizer.ggml.token_type", KILN_GGUF_INT32, types, N);
    kiln_gguf_add_u32(w, "tokenizer.ggml.bos_token_id", 1);
    kiln_gguf_add_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    if (kiln_gguf_write(w, path) != KILN_OK || kiln_gguf_open(path, &vocab_file) != KILN_OK ||
        kiln_spm_load(vocab_file, &spm) != KILN_OK)
        abort();
    kiln_gguf_writer_free(w);
    unlink(path);  // kept mapped while open
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!spm)
        build_vocab();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';  // the encoder takes C strings: it sees the text up to the first NUL
    int32_t ids[256];
    const int64_t n = kiln_spm_encode(spm, text, ids, 256);
    if (n > 256) {
        int32_t *all = malloc((size_t)n * sizeof(int32_t));
        if (all && kiln_spm_encode(spm, text, all, n) != n)
            abort();  // the count must be the same when the buffer fits
        free(all);
    }
    char buf[64];
    for (int64_t i = 0; i < (n < 256 ? n : 256); i++)
        (void)kiln_spm_decode(spm, ids[i], buf, sizeof buf);
    free(text);
    return 0;
}
