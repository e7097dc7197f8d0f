// Text to token ids and back with a GGUF file's byte-level BPE vocabulary (tokenizer.ggml.model
// "gpt2": Llama 3, Qwen2/2.5/3), for `kiln run -p` and `kiln tokenize` (through vocab.h).
// What Hugging Face `tokenizers` does with such a tokenizer.json, and llama.cpp with the GGUF:
//   1. added tokens (token types control and user-defined) are split out of the text first,
//      the longest match at the leftmost position;
//   2. the rest is pre-tokenized by the vocabulary's regex (tokenizer.ggml.pre): "llama-bpe"
//      (Llama 3: digits in runs of up to 3), "qwen2" (digits one by one) or "gpt2";
//   3. each piece's bytes are mapped to GPT-2's printable code points (bytes_to_unicode);
//   4. with llama-bpe a piece that is itself a token is that token (tokenizers' ignore_merges);
//      otherwise BPE: the adjacent pair with the lowest merge rank (ties: leftmost) is merged
//      until no pair has a rank, and each symbol is a token.
// Not done: Unicode normalization. Qwen2's tokenizer.json asks for NFC; like llama.cpp, kiln
// encodes the text as given, which equals the NFC result for text already in NFC (nearly all
// text; decomposed accents are the exception). The character classes are Unicode 14
// (unicode_tables.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "quant/file/gguf.h"

struct kiln_bpe;

// The vocabulary of an open GGUF file (which must stay open while it is used). A pre-tokenizer
// kiln does not implement is KILN_E_UNSUPPORTED naming it.
enum kiln_status kiln_bpe_load(const struct kiln_gguf *g, struct kiln_bpe **out);
void kiln_bpe_free(struct kiln_bpe *t);
// Encodes text (BOS first when the file's add_bos_token says so; default: true for llama-bpe,
// false otherwise). Writes at most max ids and returns how many the text has, or -1 when out of
// memory or a piece has no token (a vocabulary without all 256 byte tokens).
int64_t kiln_bpe_encode(const struct kiln_bpe *t, const char *text, int32_t *out, int64_t max);
// The bytes of one token into buf (control tokens as nothing); returns the bytes written.
size_t kiln_bpe_decode(const struct kiln_bpe *t, int32_t id, char *buf, size_t size);
