#!/usr/bin/env bash
# kiln quantize beside llama-quantize on the same f16 GGUF, mix by mix: whole files compared
# tensor by tensor (name, type, shape, bytes, general.file_type) by gguf-py (scripts/gguf_compare.py).
# Never in CI: the peer's build takes minutes (scripts/peer-llama-bench.sh build, which this runs
# when llama-quantize is missing).
#
#   scripts/peer-quantize-check.sh check [--out DIR] [--mixes M,..] [--threads T]
#       the quant-mix preset (Llama, 16 blocks, GQA 4, FFN 704: not whole 256-blocks) and the
#       tiny preset (GQA 2): every mix, then --pure, --leave-output-tensor and the
#       output/token-embedding type options; then all of it again with one importance matrix
#       given to both (tests/make_imatrix.py), Q2_K_S, the legacy .dat format and the
#       --include/--exclude-weights options; writes DIR/compare.txt and DIR/README.md
#       (DIR default results/<machine>/peer-quantize); exit 1 if any file differs
#   scripts/peer-quantize-check.sh expected
#       writes tests/data/quant-mixes/<preset>-<MIX>.types from llama-quantize's files (the
#       per-tensor types tests/quant_mixes.sh holds kiln's --dry-run plans to, in CI)
#   scripts/peer-quantize-check.sh expected-imatrix
#       writes tests/data/imatrix/: importance matrices for the tiny preset and the hashes of
#       llama-quantize's tensors made with them, per mix (what tests/quant_imatrix.sh checks)
#   scripts/peer-quantize-check.sh time [--mixes M,..] [--threads 1,2] [--imatrix F] MODEL-F16.gguf
#       wall time of each tool per mix and thread count on the same file, interleaved
#       (peer, kiln, peer, kiln): one table
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
peer_dir=${KILN_PEER_DIR:-$HOME/.cache/kiln-peer}
kiln=${KILN:-$root/build/kiln}
py=${PYTHON:-$root/.venv/bin/python}
all_mixes=Q4_0,Q4_1,Q5_0,Q5_1,Q8_0,Q2_K,Q3_K_S,Q3_K_M,Q3_K_L,Q4_K_S,Q4_K_M,Q5_K_S,Q5_K_M,Q6_K,IQ4_NL,IQ4_XS,F16,BF16

die() { echo "peer-quantize-check: $*" >&2; exit 1; }

quantize_bin() {
    local b="$peer_dir/build/bin/llama-quantize"
    [ -x "$b" ] || bash scripts/peer-llama-bench.sh build >&2
    [ -x "$b" ] || die "no $b after the build"
    echo "$b"
}

machine_id() {  # the id scripts/bench-check.sh names results/<machine>/ with
    local cpu
    cpu=$(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | tr 'A-Z' 'a-z' |
        sed 's/([^)]*)//g; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')
    echo "${cpu}-$(nproc)c"
}

# make_model PRESET DIR: DIR/PRESET-f16.gguf (kiln synth, then kiln convert to f16).
make_model() {
    local preset=$1 dir=$2
    [ -f "$dir/$preset-f16.gguf" ] && return
    "$kiln" synth --preset "$preset" -o "$dir/$preset" >/dev/null
    "$kiln" convert "$dir/$preset" -o "$dir/$preset-f16.gguf" --no-progress >/dev/null
}

# one LABEL IN "PEER_OPTS" "KILN_OPTS" MIX: both tools, then the comparison line(s).
one() {
    local label=$1 in=$2 popts=$3 kopts=$4 mix=$5 dir=$6
    local p="$dir/peer-$label.gguf" k="$dir/kiln-$label.gguf"
    # shellcheck disable=SC2086
    if ! "$q" $popts "$in" "$p" "$mix" "$threads" >"$dir/peer-$label.log" 2>&1; then
        echo "$(printf '%-26s' "$label") PEER-FAILED $(grep -m1 -iE 'error|failed' "$dir/peer-$label.log" || true)"
        return 0
    fi
    # shellcheck disable=SC2086
    if ! "$kiln" quantize "$in" "$k" "$mix" $kopts --threads "$threads" --no-progress >"$dir/kiln-$label.log" 2>&1; then
        echo "$(printf '%-26s' "$label") KILN-FAILED $(tail -1 "$dir/kiln-$label.log")"
        status=1
        return 0
    fi
    "$py" scripts/gguf_compare.py "$p" "$k" --label "$label" --keys quantize.imatrix. || status=1
    rm -f "$p" "$k"
}

cmd_check() {
    local out="results/$(machine_id)/peer-quantize" mixes=$all_mixes
    threads=2
    while [ $# -gt 0 ]; do
        case $1 in
            --out) out=$2; shift 2 ;;
            --mixes) mixes=$2; shift 2 ;;
            --threads) threads=$2; shift 2 ;;
            *) die "check: unknown option $1" ;;
        esac
    done
    q=$(quantize_bin)

    work=$(mktemp -d /tmp/kiln-peer-quant.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$out"
    status=0
    {
        echo "# kiln quantize vs llama-quantize ($(basename "$(ls "$peer_dir"/llama_cpp_python-*.tar.gz | tail -1)")), $(date -u +%F), $(machine_id), kiln $(git rev-parse --short HEAD)"
        for preset in quant-mix tiny; do
            make_model "$preset" "$work"
            echo "## $preset"
            for mix in ${mixes//,/ }; do
                one "$preset-$mix" "$work/$preset-f16.gguf" "" "" "$mix" "$work"
            done
        done
        echo "## options (quant-mix)"
        local in="$work/quant-mix-f16.gguf"
        one "pure-Q4_K_M" "$in" "--pure" "--pure" Q4_K_M "$work"
        one "pure-Q3_K_S" "$in" "--pure" "--pure" Q3_K_S "$work"
        one "leave-output-Q3_K_M" "$in" "--leave-output-tensor" "--leave-output-tensor" Q3_K_M "$work"
        one "out-q8_0-embd-q4_0-Q5_K_M" "$in" "--output-tensor-type q8_0 --token-embedding-type q4_0" \
            "--output-tensor-type q8_0 --token-embedding-type q4_0" Q5_K_M "$work"
        one "tensor-type-Q4_K_M" "$in" "--tensor-type blk\.0\.attn_v=q8_0" "--tensor-type blk\.0\.attn_v=q8_0" \
            Q4_K_M "$work"
        # two overlapping patterns, repeated options, an upper-case pattern: the first match wins
        one "tensor-type-first-Q4_K_M" "$in" "--tensor-type blk\.0\.attn_v=q8_0 --tensor-type ATTN_V=q5_0" \
            "--tensor-type blk\.0\.attn_v=q8_0 --tensor-type ATTN_V=q5_0" Q4_K_M "$work"
        # The same importance matrix given to both (tests/make_imatrix.py: llama-imatrix's layout,
        # seeded values): every mix again, Q2_K_S (which needs one), the legacy .dat format,
        # --include-weights / --exclude-weights, and an imatrix with output.weight.
        for preset in quant-mix tiny; do
            local im="$work/$preset-imatrix.gguf"
            "$py" tests/make_imatrix.py "$work/$preset-f16.gguf" "$im"
            echo "## $preset with --imatrix ($(basename "$im"), tests/make_imatrix.py)"
            for mix in ${mixes//,/ } Q2_K_S; do
                one "$preset-imatrix-$mix" "$work/$preset-f16.gguf" "--imatrix $im" "--imatrix $im" "$mix" "$work"
            done
        done
        echo "## imatrix options (quant-mix)"
        "$py" tests/make_imatrix.py "$in" "$work/im.dat" --format dat --seed 2
        "$py" tests/make_imatrix.py "$in" "$work/im-out.gguf" --process-output --seed 3
        one "dat-Q4_K_M" "$in" "--imatrix $work/im.dat" "--imatrix $work/im.dat" Q4_K_M "$work"
        one "dat-IQ4_XS" "$in" "--imatrix $work/im.dat" "--imatrix $work/im.dat" IQ4_XS "$work"
        one "process-output-Q3_K_M" "$in" "--imatrix $work/im-out.gguf" "--imatrix $work/im-out.gguf" Q3_K_M "$work"
        one "include-ffn-Q4_0" "$in" "--imatrix $work/im.dat --include-weights ffn_ --include-weights attn_v" \
            "--imatrix $work/im.dat --include-weights ffn_ --include-weights attn_v" Q4_0 "$work"
        one "exclude-attn-Q5_K_S" "$in" "--imatrix $work/im.dat --exclude-weights attn" \
            "--imatrix $work/im.dat --exclude-weights attn" Q5_K_S "$work"
        echo "## refusals (quant-mix)"
        local msg
        msg=$("$q" "$in" "$work/x.gguf" Q2_K_S 2>&1 | grep -m1 "requires an imatrix" || true)
        echo "Q2_K_S without an imatrix: llama-quantize: ${msg:-(no refusal)}"
        msg=$("$kiln" quantize "$in" "$work/x.gguf" Q2_K_S --no-progress 2>&1 | tail -1 || true)
        echo "Q2_K_S without an imatrix: kiln: $msg"
        exit $status  # the group is a subshell (the pipe): its status is the pipeline's (pipefail)
    } | tee "$out/compare.txt"
}

cmd_expected() {
    q=$(quantize_bin)
    threads=2
    local dest=tests/data/quant-mixes
    work=$(mktemp -d /tmp/kiln-peer-quant.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$dest"
    for preset in quant-mix tiny; do
        make_model "$preset" "$work"
        for mix in ${all_mixes//,/ }; do
            "$q" "$work/$preset-f16.gguf" "$work/p.gguf" "$mix" 2 >/dev/null 2>&1 || { echo "skip $mix: peer failed"; continue; }
            "$py" - "$work/p.gguf" >"$dest/$preset-$mix.types" <<'EOF'
import sys
from gguf import GGUFReader
for t in sorted(GGUFReader(sys.argv[1]).tensors, key=lambda t: t.name):
    print(t.name, t.tensor_type.name.lower().replace("_k", "_K"))
EOF
            echo "wrote $dest/$preset-$mix.types"
        done
    done
}

# The data tests/quant_imatrix.sh checks kiln against in CI: importance matrices for the tiny
# preset (tests/make_imatrix.py, GGUF and .dat) and, per mix, llama-quantize's tensors' hashes.
imatrix_mixes="Q2_K_S Q3_K_M Q4_K_M Q5_K_S Q6_K Q4_0 Q4_1 Q5_0 Q5_1 IQ4_NL IQ4_XS"
cmd_expected_imatrix() {
    q=$(quantize_bin)
    local dest=tests/data/imatrix
    work=$(mktemp -d /tmp/kiln-peer-quant.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$dest"
    make_model tiny "$work"
    "$py" tests/make_imatrix.py "$work/tiny-f16.gguf" "$dest/tiny.imatrix.gguf" --process-output
    "$py" tests/make_imatrix.py "$work/tiny-f16.gguf" "$dest/tiny.imatrix.dat" --format dat --seed 2
    for mix in $imatrix_mixes; do
        "$q" --imatrix "$dest/tiny.imatrix.gguf" "$work/tiny-f16.gguf" "$work/p.gguf" "$mix" 2 >/dev/null 2>&1 ||
            die "llama-quantize $mix failed"
        "$py" tests/gguf_hashes.py "$work/p.gguf" >"$dest/tiny-$mix.sha256"
        echo "wrote $dest/tiny-$mix.sha256"
    done
    "$q" --imatrix "$dest/tiny.imatrix.dat" --exclude-weights attn_k "$work/tiny-f16.gguf" "$work/p.gguf" Q4_K_S 2 \
        >/dev/null 2>&1 || die "llama-quantize (dat) failed"
    "$py" tests/gguf_hashes.py "$work/p.gguf" >"$dest/tiny-dat-exclude-Q4_K_S.sha256"
}

cmd_time() {
    local mixes=Q4_0,Q8_0,Q2_K,Q3_K_M,Q4_K_M,Q5_K_M,Q6_K thread_list=1,2 model= im=
    while [ $# -gt 0 ]; do
        case $1 in
            --mixes) mixes=$2; shift 2 ;;
            --imatrix) im=$2; shift 2 ;;
            --threads) thread_list=$2; shift 2 ;;
            -*) die "time: unknown option $1" ;;
            *) model=$1; shift ;;
        esac
    done
    [ -f "$model" ] || die "time: give an f16 GGUF"
    q=$(quantize_bin)
    local out=/tmp/kiln-peer-time popt=() kopt=()
    [ -n "$im" ] && popt=(--imatrix "$im") && kopt=(--imatrix "$im")
    # Each run starts on a quiet page cache: the previous output removed and every dirty page
    # written back (sync) first. Without it the 200+ MB one tool left dirty (llama-quantize does
    # not fsync) was written back during the other's run, and a run's sys time moved 0.15 -> 0.9 s
    # with the same binary and file. kiln's time includes its fsync before the rename.
    quiet() { rm -f "$out".*.gguf; sync; }
    run_peer() { quiet; local a; a=$(date +%s.%N); "$q" "${popt[@]}" "$model" "$out.peer.gguf" "$1" "$2" >/dev/null 2>&1
                 echo "$a $(date +%s.%N)"; }
    run_kiln() { quiet; local a; a=$(date +%s.%N)
                 "$kiln" quantize "$model" "$out.kiln.gguf" "$1" "${kopt[@]}" --threads "$2" --no-progress >/dev/null 2>&1
                 echo "$a $(date +%s.%N)"; }
    printf '%-8s %7s %12s %12s %8s\n' mix threads llama-q_s kiln_s ratio
    for mix in ${mixes//,/ }; do
        for t in ${thread_list//,/ }; do
            local p1 k1 p2 k2
            p1=$(run_peer "$mix" "$t"); k1=$(run_kiln "$mix" "$t"); p2=$(run_peer "$mix" "$t"); k2=$(run_kiln "$mix" "$t")
            echo "$p1 $k1 $p2 $k2" | awk -v m="$mix" -v t="$t" '{
                p = (($2 - $1) + ($6 - $5)) / 2; k = (($4 - $3) + ($8 - $7)) / 2
                printf "%-8s %7d %12.2f %12.2f %7.2fx\n", m, t, p, k, p / k }'
        done
    done
    quiet
}

case ${1:-} in
    check) shift; cmd_check "$@" ;;
    expected) shift; cmd_expected ;;
    expected-imatrix) shift; cmd_expected_imatrix ;;
    time) shift; cmd_time "$@" ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
