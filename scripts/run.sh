#!/usr/bin/env bash
# kiln's main command (the README's first command): the whole product on the embedded default.
#   1. installs what is missing and builds Release
#   2. kiln info; kiln ops (every kernel checked against the reference)
#   3. synthesizes a small Llama preset (TinyLlama shapes, 2 layers), converts it to Q4_0 and
#      Q8_0 and benchmarks prefill and decode (kiln bench model)
#   4. kiln bench ops on the default set, against the roofline measured in the same run
# Tables on stdout; the benchmark JSON in results/latest.json (ops) and
# results/latest-model.json (model). A few minutes on 2 cores. Extra arguments go to bench ops.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh build
# CUDA kernels for the GPU this machine has; without one (nothing can run them here), for sm_80
# alone, whose PTX the driver of any newer GPU compiles at load: a fraction of the compile of
# the default four architectures. (Configure build/ by hand for another choice.)
cuda_archs=80
if nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then cuda_archs=native; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKILN_CUDA_ARCHS="$cuda_archs" >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
kiln=./build/kiln
echo; $kiln info
echo; $kiln ops

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo; echo "== a synthetic model: TinyLlama-1.1B's shapes with 2 layers (kiln synth --preset bench-2l)"
$kiln synth --preset bench-2l -o "$work/hf" >/dev/null
for t in q4_0 q8_0; do
    $kiln convert "$work/hf" -o "$work/model-$t.gguf" --type "$t" --no-progress | head -1
done
echo
$kiln bench model "$work/model-q4_0.gguf" -p 256 -n 64 -r 3 --json "$work/q4_0.json"
$kiln bench model "$work/model-q8_0.gguf" -p 256 -n 64 -r 3 --json results/latest-model.json --no-roofline

echo; echo "== kernels against the roofline (kiln bench ops)"
# Five repetitions per case unless told otherwise (the default set has 19 cases, 7 of them
# prefill GEMMs of ~0.5 s: the harness's own default, up to 30 until the cv is under 1%, takes
# 5 minutes on a noisy 2-core host). Pass --repetitions N (or any options) to choose.
if [ $# -eq 0 ]; then set -- --repetitions 5; fi
$kiln bench ops --json results/latest.json "$@"
echo
echo "wrote results/latest.json and results/latest-model.json; compare runs with: $kiln compare A.json B.json"
