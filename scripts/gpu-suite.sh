#!/usr/bin/env bash
# The GPU suite: what proves the CUDA backend (and Vulkan on a real GPU) on a machine with an
# NVIDIA GPU. CI has no GPU; run this wherever one is at hand and commit what it writes.
#
#   scripts/gpu-suite.sh [OUTDIR]        (default results/<gpu-name>/)
#   KILN_GPU_PHASES=correctness,bench,model (the default: all) runs a part, so that each part fits
#   one device-tool call (10 minutes); the build is incremental, so later calls on a warm
#   machine only rebuild what changed.
#
#   1. builds kiln in build-gpu/ with CUDA for the present GPU (KILN_CUDA_ARCHS=native)
#   2. kiln info; kiln ops --backend cuda (every kernel and type against the CPU reference)
#   3. the model runner's logits check on every backend (tests/oracle/test_model_torch.py)
#   4. compute-sanitizer memcheck and racecheck over the CUDA kernel checks
#   5. benchmarks: roofline, the issue's op shapes (GEMV m=4096 k=14336 q4_0/q8_0, GEMM n=512,
#      F16 8192^3 next to cuBLAS, attention prefill 4096), and a Llama-2-7B-shape q4_0 model
#      pp512/tg128, decode with and without CUDA graphs
# Every step's output goes to OUTDIR/<step>.txt (benchmarks also as Google Benchmark JSON);
# the exit status is that of the first failing correctness step (benchmarks do not fail it).
#
# Build dependencies the GPU machine may lack (hwloc, cJSON, the Vulkan loader and glslc) can
# travel as Debian packages: `scripts/gpu-suite.sh --fetch-debs` (here, with network) puts them
# in .gpu-debs/ (3.9 MB, git-ignored; name it in the device tool's `carry`), which the suite
# unpacks into /tmp/kiln-deps when the system has no hwloc/cJSON. On the device tool:
#   run(command="bash scripts/gpu-suite.sh /tmp/r; rc=$?; tar czf $OUT/r.tgz -C /tmp r; exit $rc",
#       carry=[".gpu-debs"], timeout_s=600)
# (one tarball: the tool returns at most 8 files), then unpack it into results/<gpu>/ and commit.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--fetch-debs" ]; then
    mkdir -p .gpu-debs && cd .gpu-debs
    apt-get download libhwloc-dev libhwloc15 libcjson-dev libcjson1 libvulkan1 libvulkan-dev glslc \
        libshaderc1 \
        2>&1 | tail -3
    grep -qx '/.gpu-debs/' ../.git/info/exclude 2>/dev/null || echo '/.gpu-debs/' >> ../.git/info/exclude
    ls
    exit 0
fi

if ! pkg-config --exists hwloc libcjson 2>/dev/null && [ -d .gpu-debs ]; then
    echo "gpu-suite: unpacking .gpu-debs into /tmp/kiln-deps"
    for f in .gpu-debs/*.deb; do dpkg -x "$f" /tmp/kiln-deps; done
    export PKG_CONFIG_LIBDIR=/tmp/kiln-deps/usr/lib/x86_64-linux-gnu/pkgconfig:/tmp/kiln-deps/usr/share/pkgconfig
    export PKG_CONFIG_SYSROOT_DIR=/tmp/kiln-deps
    export LD_LIBRARY_PATH=/tmp/kiln-deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export PATH=/tmp/kiln-deps/usr/bin:$PATH
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
out=${1:-results/$slug}
mkdir -p "$out"
echo "gpu-suite: $gpu -> $out"
status=0
step() {  # step NAME CMD...: runs, tees to OUTDIR/NAME.txt, remembers the first failure
    local name=$1; shift
    echo "==== $name: $*"
    "$@" 2>&1 | tee "$out/$name.txt"
    local rc=${PIPESTATUS[0]}
    echo "==== $name: exit $rc"
    if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then status=$rc; fi
    return 0
}

nvidia-smi > "$out/nvidia-smi.txt" 2>&1
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DKILN_CUDA=ON -DKILN_CUDA_ARCHS=native \
      -DBUILD_TESTING=ON > "$out/configure.txt" 2>&1 || { cat "$out/configure.txt"; exit 1; }
cmake --build build-gpu -j"$(nproc)" > "$out/build.txt" 2>&1 || { tail -40 "$out/build.txt"; exit 1; }
k=build-gpu/kiln

phases=${KILN_GPU_PHASES:-correctness,bench,model}
has_phase() { [[ ",$phases," == *",$1,"* ]]; }

if has_phase correctness; then
step info $k info
step ops-cuda $k ops --backend cuda
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    step model-logits /usr/bin/python3 tests/oracle/test_model_torch.py $k /tmp/kiln-gpu-model
elif python3 -c 'import torch' 2>/dev/null; then
    step model-logits python3 tests/oracle/test_model_torch.py $k /tmp/kiln-gpu-model
fi
cs=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
if [ -x "$cs" ]; then  # a subset: the tools slow kernels down 10-100x
    step sanitizer-memcheck "$cs" --tool memcheck --error-exitcode 9 $k ops --backend cuda \
        --op matmul,attention,get_rows,copy,rope --type f16,q4_0,q8_0,f32
    step sanitizer-racecheck "$cs" --tool racecheck --error-exitcode 9 $k ops --backend cuda \
        --op matmul,attention,rmsnorm --type f16,q4_0
fi
if $k info | grep -q '^  vulkan:'; then
    step ops-vulkan $k ops --backend vulkan
fi
fi

if has_phase bench; then

# benchmarks (reported, never a failure of the suite)
$k bench roofline --backend cuda --json "$out/roofline.json" > "$out/roofline.txt" 2>&1
$k bench ops --backend cuda --shapes llama-8b --json "$out/ops-llama-8b.json" > "$out/ops-llama-8b.txt" 2>&1
$k bench ops --backend cuda --op matmul --type f16 --shape m=8192,n=8192,k=8192 \
    --json "$out/gemm-f16-8192.json" > "$out/gemm-f16-8192.txt" 2>&1
$k bench ops --backend cuda --op attention --shape d=128,q=4096,kv=4096,h=32,hkv=8 \
    --json "$out/attention-prefill.json" > "$out/attention-prefill.txt" 2>&1
if $k info | grep -q '^  vulkan:'; then  # issue 6's GEMV and GEMM cases on the GPU's Vulkan driver
    $k bench ops --backend vulkan --op matmul --type q4_0,q8_0 --shape m=4096,n=1,k=14336 \
        --json "$out/vulkan-gemv.json" > "$out/vulkan-gemv.txt" 2>&1
    $k bench ops --backend vulkan --op matmul --type f16 --shape m=4096,n=512,k=4096 \
        --json "$out/vulkan-gemm.json" > "$out/vulkan-gemm.txt" 2>&1
fi
fi

if has_phase model; then  # one synthetic Llama-2-7B-shape q4_0 file, reused by every run
    m7=/tmp/kiln-l7b-q4_0.gguf
    if [ ! -f $m7 ]; then
        $k synth --preset llama-2-7b -o /tmp/kiln-l7b > "$out/synth.txt" 2>&1 &&
            $k convert /tmp/kiln-l7b -o $m7 --type q4_0 --no-progress >> "$out/synth.txt" 2>&1
        rm -rf /tmp/kiln-l7b
    fi
    $k bench model $m7 --backend cuda -p 512 -n 128 -r 3 \
        --json "$out/model-llama-2-7b-q4_0.json" > "$out/model-llama-2-7b-q4_0.txt" 2>&1
    $k bench model $m7 --backend cuda -p 0 -n 128 -r 3 --no-graphs \
        --json "$out/model-llama-2-7b-q4_0-no-graphs.json" > "$out/model-llama-2-7b-q4_0-no-graphs.txt" 2>&1
    if $k info | grep -q '^  vulkan:'; then
        $k bench model $m7 --backend vulkan -p 512 -n 128 -r 3 \
            --json "$out/model-llama-2-7b-q4_0-vulkan.json" > "$out/model-llama-2-7b-q4_0-vulkan.txt" 2>&1
    fi
fi
tail -5 "$out"/*.txt | head -120
echo "gpu-suite: correctness status $status (results in $out)"
exit $status
