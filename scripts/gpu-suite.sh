#!/usr/bin/env bash
# The GPU suite: what proves the CUDA backend (and Vulkan on a real GPU) on a machine with an
# NVIDIA GPU. CI has no GPU; run it wherever one is at hand and commit what it writes.
#
#   scripts/gpu-suite.sh PHASE [OUTDIR]       (OUTDIR default: results/<gpu-name>/)
#
# One phase per call, each bounded: every step runs under `timeout`, the phase stops starting
# steps when its deadline nears (KILN_GPU_DEADLINE seconds, default 480), and after every step
# the results so far are packed into $OUT/gpu-PHASE.tgz (when $OUT is set, as the device tool
# sets it), so a phase killed at the tool's limit still returns what it did.
#   correctness  build for the present GPU only; kiln info; kiln ops --backend cuda (every row
#                against the CPU reference); the model logits check (tests/oracle/
#                test_model_torch.py, PyTorch on the GPU machine); compute-sanitizer memcheck on
#                a subset. Sized for 8 minutes with a cold build on an H100.
#   extra        racecheck on a subset (the cuBLAS comparator left out: its own sm_90 kernels use
#                TMA/mbarrier, which racecheck may report); kiln ops --backend vulkan
#   bench        roofline; GEMV m=4096 k=14336 Q4_0/Q8_0/Q4_K/F16; F16 GEMM 8192^3 beside cuBLAS;
#                GEMM n=512; prefill attention 4096 tokens, 32 x 128; Vulkan GEMV/GEMM
#   model        synthetic Llama-2-7B shapes as Q4_0 and Q4_K_M: pp512/tg128 with CUDA graphs,
#                tg128 without; Vulkan beside it
# The build is incremental (build-gpu/): later phases on a warm machine rebuild nothing.
# Exit status: that of the first failing correctness step (benchmarks never fail a phase).
#
# Here, with network, once: `scripts/gpu-suite.sh --fetch-debs` puts the build dependencies the
# GPU machine may lack in .gpu-debs/ (git-ignored): hwloc, cJSON, the Vulkan loader, glslc,
# pkg-config, make, ninja, libudev1. The suite unpacks them into /tmp/kiln-deps (never into /)
# when the system lacks them, and builds with ninja if it exists, else make.
#
# On the device tool, in this order (each one call; the first must come back before the next):
#   run(command="bash scripts/gpu-suite.sh correctness /tmp/r", carry=[".gpu-debs"], timeout_s=540)
#   run(command="bash scripts/gpu-suite.sh extra /tmp/r; bash scripts/gpu-suite.sh bench /tmp/r",
#       carry=[".gpu-debs"], timeout_s=540)
#   run(command="bash scripts/gpu-suite.sh model /tmp/r", carry=[".gpu-debs"], timeout_s=540)
# then unpack each $OUT/gpu-PHASE.tgz into results/<gpu>/ and commit. (On a fresh machine a
# later call rebuilds first: same command.) The cold build of the kiln target for sm_90 alone
# took 35 s with ninja on the 2-core CI host (Zen 5, 2026-12-04); the GPU machine has 16 cores.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--fetch-debs" ]; then
    mkdir -p .gpu-debs && cd .gpu-debs
    apt-get download libhwloc-dev libhwloc15 libcjson-dev libcjson1 libvulkan1 libvulkan-dev glslc \
        libshaderc1 pkg-config pkgconf pkgconf-bin libpkgconf3 make ninja-build libudev1 2>&1 | tail -3
    grep -qx '/.gpu-debs/' ../.git/info/exclude 2>/dev/null || echo '/.gpu-debs/' >> ../.git/info/exclude
    ls
    exit 0
fi

phase=${1:-}
case "$phase" in
correctness|extra|bench|model) ;;
*) echo "usage: scripts/gpu-suite.sh correctness|extra|bench|model [OUTDIR] (or --fetch-debs)" >&2; exit 2 ;;
esac

need_debs=false
for tool in pkg-config cmake; do command -v $tool >/dev/null || need_debs=true; done
command -v ninja >/dev/null || command -v make >/dev/null || need_debs=true
pkg-config --exists hwloc libcjson 2>/dev/null || need_debs=true
if $need_debs && [ -d .gpu-debs ]; then
    echo "gpu-suite: unpacking .gpu-debs into /tmp/kiln-deps"
    for f in .gpu-debs/*.deb; do dpkg -x "$f" /tmp/kiln-deps; done
    export PKG_CONFIG_LIBDIR=/tmp/kiln-deps/usr/lib/x86_64-linux-gnu/pkgconfig:/tmp/kiln-deps/usr/share/pkgconfig
    export PKG_CONFIG_SYSROOT_DIR=/tmp/kiln-deps
    export LD_LIBRARY_PATH=/tmp/kiln-deps/usr/lib/x86_64-linux-gnu:/tmp/kiln-deps/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export PATH=$PATH:/tmp/kiln-deps/usr/bin
    export CMAKE_PREFIX_PATH=/tmp/kiln-deps/usr
fi

# The NVIDIA Vulkan driver's manifest where the device machines keep it (device README).
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then export VK_DRIVER_FILES=$icd; fi

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
if [ -z "$gpu" ]; then
    echo "gpu-suite: no NVIDIA GPU (nvidia-smi lists none)" >&2
    exit 77
fi
slug=$(echo "$gpu" | tr 'A-Z' 'a-z' | sed 's/nvidia //; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')
out=${2:-results/$slug}
mkdir -p "$out"
deadline=${KILN_GPU_DEADLINE:-480}
start=$SECONDS
status=0
echo "gpu-suite: $gpu, phase $phase -> $out (deadline ${deadline}s)"

pack() {  # the results so far, where the device tool brings them back
    if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then
        tar czf "$OUT/gpu-$phase.tgz.part" -C "$(dirname "$out")" "$(basename "$out")" 2>/dev/null &&
            mv "$OUT/gpu-$phase.tgz.part" "$OUT/gpu-$phase.tgz"
    fi
}

# step NAME LIMIT CMD...: runs CMD under timeout (at most LIMIT seconds, less near the deadline),
# its output in OUTDIR/NAME.txt; CHECK=1 steps count toward the exit status.
step() {
    local name=$1 limit=$2
    shift 2
    local left=$((deadline - (SECONDS - start) - 10))
    if [ "$left" -lt 20 ]; then
        echo "skipped: the phase's deadline is near" > "$out/$name.txt"
        echo "==== $name: skipped (deadline)"
        [ "${CHECK:-0}" = 1 ] && [ "$status" -eq 0 ] && status=124
        pack
        return 0
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo "==== $name (at most ${limit}s): $*"
    local t0=$SECONDS
    timeout -k 10 "$limit" "$@" > "$out/$name.txt" 2>&1
    local rc=$?
    echo "[exit $rc after $((SECONDS - t0))s]" >> "$out/$name.txt"
    tail -4 "$out/$name.txt"
    if [ "${CHECK:-0}" = 1 ] && [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then status=$rc; fi
    pack
    return 0
}

# Build for the present GPU only (its compute capability, e.g. 9.0 -> 90), with whichever
# generator exists; warnings are not errors here (a newer host gcc may warn in CUDA's headers).
cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')
gen=(-G "Unix Makefiles")
command -v ninja >/dev/null && gen=(-G Ninja)
[ -f build-gpu/CMakeCache.txt ] && gen=()  # keep the generator it was configured with
nvidia-smi > "$out/nvidia-smi.txt" 2>&1
CHECK=1 step configure 120 cmake -S . -B build-gpu "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DKILN_CUDA=ON \
    -DKILN_CUDA_ARCHS="${cc:-native}" -DKILN_WERROR=OFF -DBUILD_TESTING=OFF
CHECK=1 step build 360 cmake --build build-gpu -j"$(nproc)" --target kiln
k=build-gpu/kiln
if [ ! -x $k ]; then
    echo "gpu-suite: no kiln binary (see $out/build.txt)"
    exit 1
fi
has_vulkan() { $k info 2>/dev/null | grep -q '^  vulkan:'; }

case "$phase" in
correctness)
    step info 30 $k info
    CHECK=1 step ops-cuda 150 $k ops --backend cuda
    py=/usr/bin/python3
    $py -c 'import torch' 2>/dev/null || py=python3
    if $py -c 'import torch' 2>/dev/null; then
        CHECK=1 step model-logits 120 $py tests/oracle/test_model_torch.py $k /tmp/kiln-gpu-model
    else
        echo "skipped: no PyTorch" > "$out/model-logits.txt"
    fi
    cs=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
    if [ -x "$cs" ]; then  # a subset: the tool slows kernels 10-100x
        CHECK=1 step sanitizer-memcheck 120 "$cs" --tool memcheck --error-exitcode 9 $k ops --backend cuda \
            --op matmul,attention,get_rows,copy,rope --type f16,q4_0,q8_0,f32
    fi
    ;;
extra)
    cs=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
    if [ -x "$cs" ]; then
        CHECK=1 step sanitizer-racecheck 180 "$cs" --tool racecheck --error-exitcode 9 $k ops --backend cuda \
            --op matmul,attention,rmsnorm --type f16,q4_0 --kernel gemv,mma,gemm,attention,rmsnorm
    fi
    if has_vulkan; then CHECK=1 step ops-vulkan 240 $k ops --backend vulkan; fi
    ;;
bench)  # reported, never a failure of the suite
    step roofline 60 $k bench roofline --backend cuda --json "$out/roofline.json"
    step gemv-4096x14336 90 $k bench ops --backend cuda --op matmul --type q4_0,q8_0,q4_K,f16 \
        --shape m=4096,n=1,k=14336 --json "$out/gemv-4096x14336.json"
    step gemm-f16-8192 90 $k bench ops --backend cuda --op matmul --type f16 --shape m=8192,n=8192,k=8192 \
        --json "$out/gemm-f16-8192.json"
    step gemm-n512 90 $k bench ops --backend cuda --op matmul --type f16,q4_0,q4_K --shape m=4096,n=512,k=14336 \
        --json "$out/gemm-n512.json"
    step attention-prefill 60 $k bench ops --backend cuda --op attention --shape d=128,q=4096,kv=4096,h=32,hkv=8 \
        --json "$out/attention-prefill.json"
    if has_vulkan; then
        step vulkan-gemv 60 $k bench ops --backend vulkan --op matmul --type q4_0,q8_0 --shape m=4096,n=1,k=14336 \
            --json "$out/vulkan-gemv.json"
        step vulkan-gemm 60 $k bench ops --backend vulkan --op matmul --type f16 --shape m=4096,n=512,k=4096 \
            --json "$out/vulkan-gemm.json"
    fi
    ;;
model)  # synthetic Llama-2-7B shapes, made once per machine in /tmp
    hf=/tmp/kiln-l7b
    [ -f $hf/config.json ] || step synth 120 $k synth --preset llama-2-7b -o $hf
    for t in q4_0 q4_k_m; do
        f=/tmp/kiln-l7b-$t.gguf
        [ -f $f ] || step convert-$t 120 $k convert $hf -o $f --type $t --no-progress
        step model-7b-$t 120 $k bench model $f --backend cuda -p 512 -n 128 -r 3 --json "$out/model-7b-$t.json"
        step model-7b-$t-no-graphs 60 $k bench model $f --backend cuda -p 0 -n 128 -r 3 --no-graphs \
            --json "$out/model-7b-$t-no-graphs.json"
    done
    if has_vulkan; then
        step model-7b-q4_0-vulkan 120 $k bench model /tmp/kiln-l7b-q4_0.gguf --backend vulkan -p 512 -n 128 -r 3 \
            --json "$out/model-7b-q4_0-vulkan.json"
    fi
    ;;
esac
pack
echo "gpu-suite: phase $phase, status $status, $((SECONDS - start))s (results in $out)"
exit $status
