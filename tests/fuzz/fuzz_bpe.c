// libFuzzer target: the byte-level BPE encoder and decoder behind `kiln run -p` and
// `kiln tokenize` (quant/tokenizer/bpe_encode.c, bpe_split.c) on arbitrary text. The first byte
// picks the pre-tokenizer (llama-bpe, qwen2, gpt2); the vocabulary is fixed: the 256 byte
// tokens in GPT-2's code points, a few merges and their results, and added tokens of both kinds
// (control, user-defined), written once per pre-tokenizer into a GGUF file as kiln convert
// writes a tokenizer.json. Every text must encode (byte tokens cover any input), every id must
// decode, and the count must be the same when re-asked with room for all of it.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quant/file/gguf.h"
#include "quant/tokenizer/bpe_encode.h"

static struct kiln_gguf *files[3];
static struct kiln_bpe *vocabs[3];

static void build_vocabs(void) {
    static char bytes[256][4];
    static const char *const extra[] = { "th", "the", "ab", "\xc4\xa0" "a", "\xc4\xa0" "the", "12", "123",
                                         "<|im_start|>", "<|x|>" };
    static const char *const merges[] = { "t h", "th e", "a b", "\xc4\xa0 a", "\xc4\xa0 the", "1 2", "12 3" };
    enum { N_EXTRA = sizeof extra / sizeof extra[0], N = 256 + N_EXTRA, N_MERGES = sizeof merges / sizeof merges[0] };
    const char *tokens[N];
    int32_t types[N];
    for (int b = 0, k = 0; b < 256; b++) {  // GPT-2's bytes_to_unicode
        const int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        const unsigned cp = printable ? (unsigned)b : 256u + (unsigned)k++;
        if (cp < 0x80)
            bytes[b][0] = (char)cp;
        else
            bytes[b][0] = (char)(0xC0 | (cp >> 6)), bytes[b][1] = (char)(0x80 | (cp & 0x3F));
        tokens[b] = bytes[b];
        types[b] = 1;
    }
    for (int i = 0; i < N_EXTRA; i++) {
        tokens[256 + i] = extra[i];
        types[256 + i] = i == N_EXTRA - 2 ? 3 : i == N_EXTRA - 1 ? 4 : 1;  // control, user-defined
    }
    static const char *const pres[3] = { "llama-bpe", "qwen2", "gpt2" };
    for (int p = 0; p < 3; p++) {
        struct kiln_gguf_writer *w = kiln_gguf_writer_new();
        char path[] = "/tmp/kiln-fuzz-bpe-vocab-XXXXXX.gguf";
        const int fd = mkstemps(path, 5);
        if (!w || fd < 0)
            abort();
        close(fd);
        kiln_gguf_add_string(w, "general.architecture", "llama");
        kiln_gguf_add_string(w, "tokenizer.ggml.model", "gpt2");
        kiln_gguf_add_string(w, "tokenizer.ggml.pre", pres[p]);
        kiln_gguf_add_string_array(w, "tokenizer.ggml.tokens", tokens, N);
        kiln_gguf_add_array(w, "tokenizer.ggml.token_type", KILN_GGUF_INT32, types, N);
        kiln_gguf_add_string_array(w, "tokenizer.ggml.merges", merges, N_MERGES);
        kiln_gguf_add_u32(w, "tokenizer.ggml.bos_token_id", 256 + N_EXTRA - 2);
        if (kiln_gguf_write(w, path) != KILN_OK || kiln_gguf_open(path, &files[p]) != KILN_OK ||
            kiln_bpe_load(files[p], &vocabs[p]) != KILN_OK)
            abort();
        kiln_gguf_writer_free(w);
        unlink(path);  // kept mapped while open
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!vocabs[0])
        build_vocabs();
    if (size < 1)
        return 0;
    const struct kiln_bpe *v = vocabs[data[0] % 3];
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';  // the encoder takes C strings: it sees the text up to the first NUL
    int32_t ids[256];
    const int64_t n = kiln_bpe_encode(v, text, ids, 256);
    if (n < 0)
        abort();  // every byte has a token: nothing can fail but memory
    if (n > 256) {
        int32_t *all = malloc((size_t)n * sizeof(int32_t));
        if (all && kiln_bpe_encode(v, text, all, n) != n)
            abort();
        free(all);
    }
    char buf[64];
    for (int64_t i = 0; i < (n < 256 ? n : 256); i++)
        (void)kiln_bpe_decode(v, ids[i], buf, sizeof buf);
    free(text);
    return 0;
}
