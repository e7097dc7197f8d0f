#!/usr/bin/env bash
# kiln imatrix beside llama-imatrix on the same model, text, context and threads: the importance
# matrices compared entry by entry (scripts/imatrix_compare.py) and the wall time of each tool.
# Never in CI (the peer's build takes minutes: scripts/peer-llama-bench.sh build).
#
#   scripts/peer-imatrix-check.sh [--out DIR] [--ctx N] [--chunks N] [--threads T]
#
# The model: kiln synth's bench-2l preset (TinyLlama-1.1B shapes, 2 blocks, vocabulary 32000)
# given the Llama SentencePiece vocabulary llama.cpp ships (models/ggml-vocab-llama-spm.gguf,
# scripts/gguf_vocab_swap.py), as f16 and as f32. The text: llama.cpp's README.md and
# docs/build.md. On the f16 file llama.cpp's CPU matmul rounds the activations to f16 (its
# vec_dot_f16) where kiln multiplies f32 activations by the f16 weights, so the two differ by
# about 2^-11 relative downstream of the first matmul; the f32 file leaves only the attention's
# f16 rounding (the K/V cache, both). Writes DIR/compare.txt (default
# results/<machine>/peer-imatrix); exit 1 if an entry is off by more than the tolerance.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
peer_dir=${KILN_PEER_DIR:-$HOME/.cache/kiln-peer}
kiln=${KILN:-$root/build/kiln}
py=${PYTHON:-$root/.venv/bin/python}
die() { echo "peer-imatrix-check: $*" >&2; exit 1; }
machine_id() {  # the id scripts/bench-check.sh names results/<machine>/ with
    local cpu
    cpu=$(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | tr 'A-Z' 'a-z' |
        sed 's/([^)]*)//g; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')
    echo "${cpu}-$(nproc)c"
}
out="results/$(machine_id)/peer-imatrix" ctx=512 chunks=0 threads=2
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --ctx) ctx=$2; shift 2 ;;
        --chunks) chunks=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
    esac
done
imatrix=$peer_dir/build/bin/llama-imatrix
[ -x "$imatrix" ] || bash scripts/peer-llama-bench.sh build >&2
[ -x "$imatrix" ] || die "no $imatrix after the build"
src=$peer_dir/src/vendor/llama.cpp
work=$(mktemp -d /tmp/kiln-peer-imatrix.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
"$kiln" synth --preset bench-2l -o "$work/b2l" >/dev/null
"$kiln" convert "$work/b2l" -o "$work/synth.gguf" --no-progress >/dev/null
"$py" scripts/gguf_vocab_swap.py "$work/synth.gguf" "$src/models/ggml-vocab-llama-spm.gguf" "$work/f16.gguf"
"$kiln" quantize "$work/f16.gguf" "$work/f32.gguf" f32 --no-progress >/dev/null
cat "$src/README.md" "$src/docs/build.md" >"$work/calib.txt"
peer_chunks=() kiln_chunks=()
[ "$chunks" -gt 0 ] && peer_chunks=(--chunks "$chunks") && kiln_chunks=(--chunks "$chunks")
status=0
{
    echo "# kiln imatrix vs llama-imatrix ($(basename "$(ls "$peer_dir"/llama_cpp_python-*.tar.gz | tail -1)")), $(date -u +%F), $(machine_id), kiln $(git rev-parse --short HEAD)"
    echo "# bench-2l + ggml-vocab-llama-spm, $(wc -c <"$work/calib.txt") bytes of text, ctx $ctx, $threads threads"
    for type in f16 f32; do
        m=$work/$type.gguf
        # interleaved: peer, kiln, peer, kiln; wall time of each command (load included)
        declare -a tp=() tk=()
        for rep in 1 2; do
            s0=$(date +%s.%N)
            "$imatrix" -m "$m" -f "$work/calib.txt" -o "$work/peer-$type.gguf" -c "$ctx" "${peer_chunks[@]}" \
                -t "$threads" >"$work/peer-$type.log" 2>&1 || die "llama-imatrix failed: $(tail -2 "$work/peer-$type.log")"
            s1=$(date +%s.%N)
            "$kiln" imatrix "$m" --text "$work/calib.txt" -o "$work/kiln-$type.gguf" --ctx "$ctx" "${kiln_chunks[@]}" \
                --threads "$threads" --no-progress >"$work/kiln-$type.log" 2>&1 ||
                die "kiln imatrix failed: $(tail -1 "$work/kiln-$type.log")"
            s2=$(date +%s.%N)
            tp+=("$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')")
            tk+=("$(awk -v a="$s1" -v b="$s2" 'BEGIN { print b - a }')")
        done
        tokens=$(sed -n 's/.* (\([0-9]*\) tokens) in .*/\1/p' "$work/kiln-$type.log")
        echo "## $type"
        echo "llama-imatrix: $(grep -m1 'Final estimate' "$work/peer-$type.log" | sed 's/.*Final estimate: //')"
        echo "kiln imatrix:  $(tail -1 "$work/kiln-$type.log")"
        awk -v n="$tokens" -v p1="${tp[0]}" -v p2="${tp[1]}" -v k1="${tk[0]}" -v k2="${tk[1]}" 'BEGIN {
            p = (p1 + p2) / 2; k = (k1 + k2) / 2
            printf "wall time (mean of 2, load included): llama-imatrix %.2f s (%.1f tokens/s), kiln %.2f s (%.1f tokens/s): %.2fx\n",
                p, n / p, k, n / k, p / k }'
        tol=$([ "$type" = f16 ] && echo 3e-3 || echo 3e-4)
        "$py" scripts/imatrix_compare.py "$work/peer-$type.gguf" "$work/kiln-$type.gguf" --rtol "$tol" || status=1
    done
    exit $status  # the group is a subshell (the pipe): its status is the pipeline's (pipefail)
} | tee "$out/compare.txt"
