#!/usr/bin/env bash
# kiln beside llama.cpp on the same GGUF files, same threads, same run (never in CI: the peer's
# build takes ~10 minutes on 2 cores).
#
#   scripts/peer-llama-bench.sh build            fetch llama-cpp-python's sdist from PyPI and build
#                                                its vendor/llama.cpp (llama-bench, test-backend-ops,
#                                                llama-quantize, llama-imatrix) into $KILN_PEER_DIR
#   scripts/peer-llama-bench.sh model [opts] F.gguf ...
#                                                llama-bench -p P -n N -t T and kiln bench model on
#                                                each file, interleaved (peer, kiln, peer, kiln) so
#                                                that drift on a shared machine hits both; prints
#                                                one table: t/s of each and kiln/llama.cpp
#       -p P (512)  -n N (128)  -t T (nproc)  -r R (3)  --out DIR (results/<machine>/peer)
#   scripts/peer-llama-bench.sh ops [--types T,..] [--n 1,512] [--cache-hot] [--out DIR]
#                                                test-backend-ops perf and kiln bench ops, one
#                                                thread each on CPU 0, MUL_MAT m=4096 k=14336
#                                                n=1 and n=512, type by type: one table
#
# KILN_PEER_DIR (default ~/.cache/kiln-peer) holds the sdist, the source tree and the build.
# The build is for this CPU (GGML_NATIVE=ON, or every ISA extension but AMX: see peer_build), as
# a user building llama.cpp here would get.
set -euo pipefail
cd "$(dirname "$0")/.."
peer_dir=${KILN_PEER_DIR:-$HOME/.cache/kiln-peer}
kiln=${KILN:-./build/kiln}
py=${PYTHON:-python3}

die() { echo "peer-llama-bench: $*" >&2; exit 1; }

peer_build() {
    mkdir -p "$peer_dir"
    local sdist
    sdist=$(ls "$peer_dir"/llama_cpp_python-*.tar.gz 2>/dev/null | tail -1 || true)
    if [ -z "$sdist" ]; then
        # The file straight from PyPI's simple index: `pip download --no-binary :all:` would
        # build the sdist's build backends from source first (minutes) just to read metadata.
        local v=${KILN_PEER_VERSION:-0.3.36} url
        echo "== fetching llama-cpp-python $v's source distribution from PyPI"
        url=$(curl -fsSL https://pypi.org/simple/llama-cpp-python/ |
            grep -o "https://[^\"#]*/llama_cpp_python-$v\.tar\.gz#sha256=[0-9a-f]*" | head -1)
        [ -n "$url" ] || die "no llama_cpp_python-$v.tar.gz on PyPI's index (set KILN_PEER_VERSION)"
        curl -fsSL -o "$peer_dir/llama_cpp_python-$v.tar.gz.part" "${url%%#*}"
        echo "${url##*sha256=}  $peer_dir/llama_cpp_python-$v.tar.gz.part" | sha256sum -c --quiet ||
            die "llama_cpp_python-$v.tar.gz: checksum mismatch"
        mv "$peer_dir/llama_cpp_python-$v.tar.gz.part" "$peer_dir/llama_cpp_python-$v.tar.gz"
        sdist=$peer_dir/llama_cpp_python-$v.tar.gz
    fi
    local src="$peer_dir/src"
    if [ ! -d "$src/vendor/llama.cpp" ]; then
        rm -rf "$src" && mkdir -p "$src"
        tar -xzf "$sdist" -C "$src" --strip-components=1
    fi
    echo "== building llama.cpp from $(basename "$sdist") (vendor/llama.cpp) into $peer_dir/build"
    # On a CPU with AMX (Sapphire Rapids and later) GGML_NATIVE=ON also builds ggml's AMX matmul,
    # which crashed (SIGSEGV in ggml_backend_amx_mul_mat, llama.cpp 0.3.36's vendor tree) on the
    # first Q4_0 batch in this project's KVM guests. There the build names every ISA extension
    # the CPU has except AMX instead, which is what a user would do to get a working binary.
    local isa=(-DGGML_NATIVE=ON)
    if grep -qw amx_tile /proc/cpuinfo; then
        flag() { grep -qw "$1" /proc/cpuinfo && echo ON || echo OFF; }
        isa=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
             -DGGML_AVX512="$(flag avx512f)" -DGGML_AVX512_VBMI="$(flag avx512vbmi)"
             -DGGML_AVX512_VNNI="$(flag avx512_vnni)" -DGGML_AVX512_BF16="$(flag avx512_bf16)"
             -DGGML_AVX_VNNI="$(flag avx_vnni)" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
        echo "== this CPU has AMX: building without it (${isa[*]})"
    fi
    cmake -S "$src/vendor/llama.cpp" -B "$peer_dir/build" -DCMAKE_BUILD_TYPE=Release \
        "${isa[@]}" -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=ON -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF >/dev/null
    cmake --build "$peer_dir/build" -j"$(nproc)" --target llama-bench test-backend-ops llama-quantize llama-imatrix \
        >"$peer_dir/build.log" 2>&1 || { tail -20 "$peer_dir/build.log"; die "build failed (log: $peer_dir/build.log)"; }
    ls "$peer_dir/build/bin"
}

peer_bin() {
    local b="$peer_dir/build/bin/$1"
    [ -x "$b" ] || die "$b missing: run scripts/peer-llama-bench.sh build first"
    echo "$b"
}

machine_id() {  # the id scripts/bench-check.sh names results/<machine>/ with
    local cpu
    cpu=$(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | tr 'A-Z' 'a-z' |
        sed 's/([^)]*)//g; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')
    echo "${cpu}-$(nproc)c"
}

# llama-bench -o json: one object per test with avg_ts/stddev_ts, n_prompt, n_gen.
peer_model() {
    local p=512 n=128 t reps=3 out=""
    t=$(nproc)
    local files=()
    while [ $# -gt 0 ]; do
        case "$1" in
            -p) p=$2; shift 2 ;; -n) n=$2; shift 2 ;; -t) t=$2; shift 2 ;; -r) reps=$2; shift 2 ;;
            --out) out=$2; shift 2 ;;
            -*) die "unknown option $1" ;;
            *) files+=("$1"); shift ;;
        esac
    done
    [ ${#files[@]} -gt 0 ] || die "model: name at least one GGUF file"
    out=${out:-results/$(machine_id)/peer}
    mkdir -p "$out"
    local lb
    lb=$(peer_bin llama-bench)
    printf '%-28s %10s %10s %8s %10s %10s %8s\n' file "llama pp$p" "kiln pp$p" ratio "llama tg$n" "kiln tg$n" ratio
    for f in "${files[@]}"; do
        [ -f "$f" ] || die "$f: no such file"
        local base
        base=$(basename "$f" .gguf)
        "$lb" -m "$f" -t "$t" -p "$p" -n 0 -r "$reps" -o json >"$out/$base.llama-pp.json" 2>/dev/null
        "$kiln" bench model "$f" --backend cpu --threads "$t" -p "$p" -n 0 -r "$reps" --json "$out/$base.kiln-pp.json" \
            >"$out/$base.kiln-pp.txt"
        "$lb" -m "$f" -t "$t" -p 0 -n "$n" -r "$reps" -o json >"$out/$base.llama-tg.json" 2>/dev/null
        "$kiln" bench model "$f" --backend cpu --threads "$t" -p 0 -n "$n" -r "$reps" --json "$out/$base.kiln-tg.json" \
            >"$out/$base.kiln-tg.txt"
        "$py" - "$out/$base" "$p" "$n" <<'EOF'
import json, sys
base, p, n = sys.argv[1], sys.argv[2], sys.argv[3]
def llama(path):
    return json.load(open(path))[0]["avg_ts"]
def kiln(path, name):
    rows = json.load(open(path))["benchmarks"]
    for b in rows:  # the mean of the repetitions; with -r 1 the one row (no aggregates)
        if b["name"].endswith("/" + name + "_mean"):
            return b["tokens_per_second"]
    for b in rows:
        if b["name"].endswith("/" + name):
            return b["tokens_per_second"]
    raise SystemExit(f"{path}: no {name} row")
lp, lt = llama(base + ".llama-pp.json"), llama(base + ".llama-tg.json")
kp, kt = kiln(base + ".kiln-pp.json", "pp" + p), kiln(base + ".kiln-tg.json", "tg" + n)
name = base.rsplit("/", 1)[-1]
print(f"{name:28s} {lp:10.2f} {kp:10.2f} {kp/lp:7.2f}x {lt:10.2f} {kt:10.2f} {kt/lt:7.2f}x")
EOF
    done
}

peer_ops() {
    local types="q4_0,q8_0,q4_K,q5_K,q6_K,f16,bf16" out="" hot="" ns="1 512"
    while [ $# -gt 0 ]; do
        case "$1" in
            --types) types=$2; shift 2 ;; --out) out=$2; shift 2 ;; --n) ns=${2//,/ }; shift 2 ;;
            # --cache-hot: kiln reuses one copy of W as test-backend-ops does (both cache-resident)
            --cache-hot) hot=--cache-hot; shift ;;
            *) die "unknown option $1" ;;
        esac
    done
    out=${out:-results/$(machine_id)/peer}
    mkdir -p "$out"
    local tbo
    tbo=$(peer_bin test-backend-ops)
    # Both on CPU 0 (taskset): test-backend-ops perf runs the CPU backend on nproc/2 threads, one
    # here; kiln bench ops --threads 1. Type by type, peer then kiln, so drift hits both.
    echo "== one thread, m=4096 k=14336: us per call (lower is better), kiln speedup = peer/kiln${hot:+ (kiln --cache-hot: W reused, as test-backend-ops)}"
    printf '%-6s %6s %14s %14s %8s\n' type n test-backend-ops kiln speedup
    for ty in ${types//,/ }; do
        for n in $ns; do
            local reps=15 mt=0.1
            [ "$n" = 512 ] && reps=3 mt=0.01
            taskset -c 0 "$tbo" perf -o MUL_MAT -b CPU -p "type_a=$ty,type_b=f32,m=4096,n=$n,k=14336," \
                >"$out/tbo-$ty-n$n.txt" 2>&1 || true
            local kout=$out/kiln-$ty-n$n${hot:+-hot}
            taskset -c 0 "$kiln" bench ops --backend cpu --op matmul --type "$ty" --threads 1 --no-roofline $hot \
                --shape "m=4096,n=$n,k=14336" --repetitions $reps --min-time $mt --json "$kout.json" \
                >"$kout.txt" 2>&1 || true
            "$py" - "$out/tbo-$ty-n$n.txt" "$kout.json" "$ty" "$n" <<'EOF2'
import json, re, sys
tbo, kj, ty, n = sys.argv[1:5]
peer = None
for line in open(tbo, errors="replace"):
    m = re.search(r"MUL_MAT\(type_a=" + re.escape(ty) + r",.*n=" + n + r",k=14336.*?([0-9.]+) us/run", line)
    if m:
        peer = float(m.group(1))
mine = None
for b in json.load(open(kj))["benchmarks"]:
    if b.get("aggregate_name") == "median":
        mine = b["real_time"] / 1e3 if b.get("time_unit") == "ns" else b["real_time"]
print(f"{ty:6s} {n:>6s} {peer if peer else float('nan'):14.1f} {mine if mine else float('nan'):14.1f} "
      f"{(peer / mine) if peer and mine else float('nan'):7.2f}x")
EOF2
        done
    done
}

cmd=${1:-}
shift || true
case "$cmd" in
    build) peer_build ;;
    model) peer_model "$@" ;;
    ops) peer_ops "$@" ;;
    *) sed -n 2,22p "$0"; exit 2 ;;
esac
