// Carrying a Hugging Face tokenizer into GGUF's tokenizer.ggml.* keys (spec §5.1), so llama.cpp
// can load the file with its vocabulary. Supported: tokenizer.json with a BPE model (GPT-2 style
// byte-level BPE, as Llama 3 and Qwen use): tokens by id, token types (normal, control for special
// added tokens, user-defined for other added tokens), merges, bos/eos, add_bos_token and the
// chat template from tokenizer_config.json, and tokenizer.ggml.pre named from the pre_tokenizer
// itself (Llama 3's split regex: llama-bpe; Qwen2's: qwen2; plain ByteLevel: gpt2; none:
// default). A pre-tokenizer or normalizer kiln does not know is refused naming it, since another
// model's id would make llama.cpp and kiln split text differently;
// and SentencePiece tokenizer.model (Llama 2 style, model "llama"): pieces, scores and types
// parsed from its protobuf, bos/eos/unk ids. A tokenizer.json of another kind (byte-fallback
// BPE without a tokenizer.model, Unigram, WordPiece) is an error naming model.type. A folder
// with no tokenizer at all converts vocab-less (tokenizer.ggml.model "none"), as llama.cpp's.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "quant/file/gguf.h"

// Adds the keys when dir has a usable tokenizer.json; *added says whether it did. A malformed
// tokenizer.json is an error naming the file.
enum kiln_status kiln_tokenizer_add(struct kiln_gguf_writer *w, const char *dir, int64_t vocab_size,
                                    bool *added);
