#!/usr/bin/env bash
# quant_imatrix.sh KILN PYTHON WORKDIR: kiln quantize / convert --imatrix against llama-quantize.
#   bytes     the tiny preset quantized with tests/data/imatrix/tiny.imatrix.gguf, per mix (K-quants,
#             Q4_0..Q5_1, IQ4, Q2_K_S which needs one), and with the legacy .dat plus
#             --exclude-weights: every tensor's hash equals llama-quantize's (the lists were written
#             from llama-quantize 0.3.36's files by scripts/peer-quantize-check.sh expected-imatrix;
#             the whole-file comparison of every mix on two models is in results/)
#   metadata  quantize.imatrix.file/dataset/entries_count/chunks_count as llama-quantize writes them
#   convert   the Hugging Face path with --imatrix gives the same bytes as quantize
#   refusals  NaN, negative, wrong sizes, names of another model, a truncated file, a model given
#             as the imatrix, --include and --exclude together: one line naming the entry, exit
#             non-zero, no output file
set -u
kiln=$1 py=$2 dir=$3
here=$(dirname "$0")
data=$here/data/imatrix
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
passed=0
"$kiln" synth --preset tiny -o "$dir/tiny" >/dev/null || fail "synth"
"$kiln" convert "$dir/tiny" -o "$dir/tiny.gguf" --no-progress >/dev/null || fail "convert"
in=$dir/tiny.gguf

check_hashes() {  # LABEL EXPECTED-LIST FILE
    "$py" "$here/gguf_hashes.py" "$3" >"$dir/got" || fail "$1: gguf-py cannot read kiln's file"
    diff "$dir/got" "$2" >"$dir/diff" || fail "$1: tensors differ from llama-quantize's: $(head -4 "$dir/diff")"
}

for mix in Q2_K_S Q3_K_M Q4_K_M Q5_K_S Q6_K Q4_0 Q4_1 Q5_0 Q5_1 IQ4_NL IQ4_XS; do
    "$kiln" quantize "$in" "$dir/out.gguf" "$mix" --imatrix "$data/tiny.imatrix.gguf" --no-progress \
        >"$dir/log" 2>&1 || fail "$mix: $(tail -1 "$dir/log")"
    check_hashes "$mix" "$data/tiny-$mix.sha256" "$dir/out.gguf"
    passed=$((passed + 1))
done
# Without the imatrix the bytes differ (the weights are used), and Q2_K_S is refused.
"$kiln" quantize "$in" "$dir/plain.gguf" Q4_K_M --no-progress >/dev/null 2>&1 || fail "Q4_K_M without an imatrix"
"$py" "$here/gguf_hashes.py" "$dir/plain.gguf" | diff -q - "$data/tiny-Q4_K_M.sha256" >/dev/null &&
    fail "Q4_K_M: the same bytes with and without the imatrix"
passed=$((passed + 1))

"$kiln" quantize "$in" "$dir/out.gguf" Q4_K_S --imatrix "$data/tiny.imatrix.dat" --exclude-weights attn_k \
    --no-progress >"$dir/log" 2>&1 || fail "dat: $(tail -1 "$dir/log")"
check_hashes "dat --exclude-weights" "$data/tiny-dat-exclude-Q4_K_S.sha256" "$dir/out.gguf"
passed=$((passed + 1))

# The keys llama-quantize adds (values as its files have them: the path as given, the first dataset).
"$kiln" quantize "$in" "$dir/out.gguf" Q4_K_M --imatrix "$data/tiny.imatrix.gguf" --no-progress >/dev/null 2>&1
"$py" - "$dir/out.gguf" "$data/tiny.imatrix.gguf" <<'EOF' || fail "quantize.imatrix.* keys"
import sys
from gguf import GGUFReader
f = GGUFReader(sys.argv[1]).fields
def val(k):
    x = f[k]
    p = x.parts[x.data[0]]
    return bytes(p).decode() if x.types[0].name == "STRING" else int(p[0])
want = {"quantize.imatrix.file": sys.argv[2], "quantize.imatrix.dataset": "kiln-test-seed-1",
        "quantize.imatrix.entries_count": 15, "quantize.imatrix.chunks_count": 8}
got = {k: val(k) for k in want if k in f}
if got != want:
    sys.exit(f"got {got}, want {want}")
EOF
passed=$((passed + 1))

# The Hugging Face path takes the same imatrix (names are the GGUF ones; the q/k row permutation
# leaves the columns, which the importances weight, in place).
"$kiln" convert "$dir/tiny" -o "$dir/conv.gguf" --type q4_k_m --imatrix "$data/tiny.imatrix.gguf" \
    --no-progress >"$dir/log" 2>&1 || fail "convert --imatrix: $(tail -1 "$dir/log")"
check_hashes "convert --imatrix" "$data/tiny-Q4_K_M.sha256" "$dir/conv.gguf"
passed=$((passed + 1))

# Refusals.
refuse() {  # LABEL EXPECTED-WORD IMATRIX [OPTIONS...]: exit 1 (bad data), 2 for a usage error
    local label=$1 word=$2 im=$3 want=1
    shift 3
    [ $# -gt 0 ] && want=2
    local msg rc
    msg=$("$kiln" quantize "$in" "$dir/bad.gguf" Q4_K_M --imatrix "$im" "$@" --no-progress 2>&1); rc=$?
    [ $rc -eq $want ] || fail "$label: exit $rc, not $want: $msg"
    [ "$(wc -l <<<"$msg")" -eq 1 ] || fail "$label: not one line: $msg"
    grep -q -- "$word" <<<"$msg" || fail "$label: the message does not name '$word': $msg"
    ls "$dir"/bad.gguf* >/dev/null 2>&1 && fail "$label: left an output file"
    passed=$((passed + 1))
}
for bad in nan negative size name truncate; do
    "$py" "$here/make_imatrix.py" "$in" "$dir/$bad.imatrix" --bad $bad || fail "make_imatrix --bad $bad"
done
"$py" "$here/make_imatrix.py" "$in" "$dir/trunc.dat" --format dat --bad truncate || fail "make_imatrix dat"
second=blk.0.attn_output.weight  # the entry make_imatrix.py --bad spoils (the second, sorted)
refuse "NaN" "$second" "$dir/nan.imatrix"
refuse "negative" "$second" "$dir/negative.imatrix"
refuse "size" "$second" "$dir/size.imatrix"
refuse "name" "blk.90.attn_output.weight" "$dir/name.imatrix"
refuse "truncated gguf" "past the end" "$dir/truncate.imatrix"
refuse "truncated dat" "blk.1.attn_q.weight: file ends" "$dir/trunc.dat"
refuse "a model as the imatrix" "not an importance matrix" "$in"
refuse "missing file" "cannot open" "$dir/none.imatrix"
refuse "include and exclude" "cannot be used together" "$data/tiny.imatrix.gguf" --include-weights ffn --exclude-weights attn
echo "quant_imatrix: $passed passed, 0 failed"
