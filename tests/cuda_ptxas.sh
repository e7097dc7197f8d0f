#!/usr/bin/env bash
# No local memory in kiln's CUDA matmul and attention kernels: compiles each source for sm_90
# with `-Xptxas -v` (as the build does, -O3, C++17) and fails if ptxas reports a stack frame or
# any spill for any kernel in it. Local memory is where a per-thread array indexed by a run-time
# value goes (v1's GEMV accumulators, indexed by the column count, took 96 bytes a thread there)
# and where registers spill: both are DRAM traffic inside the inner loop.
# First the probe (tests/cuda/local_memory_probe.cu), which must be flagged: the check can fail.
#   tests/cuda_ptxas.sh NVCC SOURCE_ROOT FILE...
set -uo pipefail
nvcc=$1 root=$2
shift 2
arch=${KILN_PTXAS_ARCH:-sm_90}

# Prints "kernel: N bytes stack frame, S bytes spill stores, L bytes spill loads" for each entry
# whose numbers are not all zero; the last line is "entries: N".
report() {
    "$nvcc" -std=c++17 -O3 -arch="$arch" -Xptxas -v -I"$root" -c "$1" -o /dev/null 2>&1 | awk '
        /Function properties for/ { name = $NF }
        /bytes stack frame/ {
            n++
            if ($1 != 0 || $5 != 0 || $9 != 0) print name ": " $0
        }
        END { print "entries: " n + 0 }'
}

probe=$(report "$root/tests/cuda/local_memory_probe.cu")
if ! grep -q 'local_memory_probe.*[1-9][0-9]* bytes stack frame' <<<"$probe"; then
    echo "cuda_ptxas: the probe kernel was not flagged; ptxas's report changed? got:"
    echo "$probe"
    exit 1
fi

fail=0
for f in "$@"; do
    out=$(report "$root/$f")
    entries=$(sed -n 's/^entries: //p' <<<"$out")
    if [ "${entries:-0}" -eq 0 ]; then
        echo "cuda_ptxas: $f: no kernels in ptxas's report (did it compile?)"
        "$nvcc" -std=c++17 -O3 -arch="$arch" -I"$root" -c "$root/$f" -o /dev/null 2>&1 | tail -5
        fail=1
        continue
    fi
    bad=$(grep -v '^entries: ' <<<"$out")
    if [ -n "$bad" ]; then
        echo "cuda_ptxas: $f: local memory in $(wc -l <<<"$bad") of $entries kernels:"
        echo "$bad" | c++filt | sed 's/^/  /'
        fail=1
    else
        echo "cuda_ptxas: $f: $entries kernels, no stack frame, no spills ($arch)"
    fi
done
exit $fail
