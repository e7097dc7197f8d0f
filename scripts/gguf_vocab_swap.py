#!/usr/bin/env python3
"""A GGUF model with another file's vocabulary (gguf-py): every tokenizer.* key replaced.

    gguf_vocab_swap.py MODEL.gguf VOCAB.gguf OUT.gguf

kiln synth's models have a synthetic vocabulary no text encodes to; llama.cpp ships real
vocabularies without weights (vendor/llama.cpp/models/ggml-vocab-*.gguf). Put together (the
vocabulary's size must equal the model's token_embd rows), both kiln and llama.cpp can run the
model on text: what scripts/peer-imatrix-check.sh compares kiln imatrix with llama-imatrix on.
"""
import sys

from gguf import GGUFReader, GGUFValueType, GGUFWriter


def copy_field(w, field):
    vtype = field.types[0]
    sub = field.types[1] if vtype == GGUFValueType.ARRAY and len(field.types) > 1 else None
    w.add_key_value(field.name, field.contents(), vtype, sub)


def main():
    model, vocab, out = sys.argv[1:4]
    rm, rv = GGUFReader(model), GGUFReader(vocab)
    arch = bytes(rm.fields["general.architecture"].parts[-1]).decode()
    tokens = len(rv.fields["tokenizer.ggml.tokens"].data)
    embd = next(t for t in rm.tensors if t.name == "token_embd.weight")
    if int(embd.shape[1]) != tokens:
        sys.exit(f"{vocab} has {tokens} tokens, {model}'s token_embd {int(embd.shape[1])} rows")
    w = GGUFWriter(out, arch=arch)
    for name, field in rm.fields.items():
        if name.startswith("GGUF.") or name.startswith("tokenizer.") or name == "general.architecture":
            continue
        copy_field(w, field)
    for name, field in rv.fields.items():
        if name.startswith("tokenizer."):
            copy_field(w, field)
    for t in rm.tensors:
        shape = [int(x) for x in reversed(t.shape)]
        w.add_tensor(t.name, t.data, raw_shape=shape, raw_dtype=t.tensor_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
