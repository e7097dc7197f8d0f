#!/usr/bin/env bash
# Remakes tests/data/kquant/ (the K-quant quantizer vectors test_quant_vectors checks kiln's
# reference quantizers against, byte for byte) with ggml's own code: scripts/kquant_vectors/gen.c
# compiled against ggml-quants.c of a ggml source tree. Not run by CI (it needs that tree);
# the committed files say which ggml commit made them (tests/data/kquant/README.md).
# Usage: scripts/make-kquant-vectors.sh GGML_SOURCE_DIR   (a checkout of ggml-org/ggml)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: scripts/make-kquant-vectors.sh GGML_SOURCE_DIR}
out=tests/data/kquant
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
gcc -O2 -std=gnu11 -I"$src/src" -I"$src/include" -o "$tmp/gen" scripts/kquant_vectors/gen.c "$src/src/ggml-quants.c" -lm
"$tmp/gen" "$out"
commit=${GGML_COMMIT:-$(git -C "$src" rev-parse HEAD 2>/dev/null || echo "unknown")}
echo "made by ggml commit $commit with $(gcc --version | head -1)" >"$out/PROVENANCE"
ls -l "$out"
