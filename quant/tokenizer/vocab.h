// A GGUF file's vocabulary for encoding text, whichever kind it is: SentencePiece
// (tokenizer.ggml.model "llama": Llama 1/2, Mistral; spm_encode.h) or byte-level BPE ("gpt2":
// Llama 3, Qwen; bpe_encode.h). What `kiln run -p` and `kiln tokenize` use.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "quant/file/gguf.h"

struct kiln_vocab;

// A file without a vocabulary, or of a kind kiln does not encode, is KILN_E_UNSUPPORTED with a
// message saying to pass token ids.
enum kiln_status kiln_vocab_load(const struct kiln_gguf *g, struct kiln_vocab **out);
void kiln_vocab_free(struct kiln_vocab *v);
// Writes at most max ids, returns how many the text has, -1 on failure (out of memory, a byte
// without a token).
int64_t kiln_vocab_encode(const struct kiln_vocab *v, const char *text, int32_t *out, int64_t max);
// One token's text (bytes) into buf; returns the bytes written.
size_t kiln_vocab_decode(const struct kiln_vocab *v, int32_t id, char *buf, size_t size);
