// Text to token ids and back with a GGUF file's SentencePiece vocabulary (spm_encode.c), for
// `kiln run -p` and `kiln tokenize` (through vocab.h; byte-level BPE is bpe_encode.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "quant/file/gguf.h"

struct kiln_spm;

// The vocabulary of an open GGUF file (which must stay open while it is used).
enum kiln_status kiln_spm_load(const struct kiln_gguf *g, struct kiln_spm **out);
void kiln_spm_free(struct kiln_spm *t);
// Encodes text (with the BOS token first when the file says add_bos_token, the default). Writes
// at most max ids and returns how many the text has (so a larger buffer can be tried), or -1
// when out of memory.
int64_t kiln_spm_encode(const struct kiln_spm *t, const char *text, int32_t *out, int64_t max);
// The text of one token into buf (U+2581 as a space, <0xXX> as its byte, control tokens as
// nothing); returns the bytes written (not NUL-terminated).
size_t kiln_spm_decode(const struct kiln_spm *t, int32_t id, char *buf, size_t size);
