// The pre-tokenizer regexes of byte-level BPE vocabularies, hand-written over code points (as
// llama.cpp's unicode.cpp does, without a regex engine), for bpe_encode.c:
//   llama-bpe  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//              ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2      the same with \p{N} (one digit per piece)
//   gpt2       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Each alternative is tried in order at the current position and the first that matches ends
// the piece, as a backtracking regex engine does; the alternatives together match any
// character, so the pieces cover the text.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kiln_bpe_pre { KILN_BPE_PRE_LLAMA3, KILN_BPE_PRE_QWEN2, KILN_BPE_PRE_GPT2 };

bool kiln_unicode_is_letter(uint32_t cp);
bool kiln_unicode_is_number(uint32_t cp);
bool kiln_unicode_is_space(uint32_t cp);

// The end (exclusive) of the piece that starts at cp[i], i < n.
size_t kiln_bpe_split(enum kiln_bpe_pre pre, const uint32_t *cp, size_t n, size_t i);
