#!/usr/bin/env bash
# kiln's test command (the README's second command; CI runs scripts/run.sh, then exactly this).
#   0. installs what is missing (scripts/deps.sh test)
#   1. Release build with -Werror: every test (unit, kernel checks, CLI, Python oracles)
#   2. AddressSanitizer + UBSan build: the unit tests and the kernel checks (the AVX-512 rows too,
#      built against SIMDe), the CLI, converter, model and oracle tests; leaks in kiln's code fail it, leaks inside the Vulkan loader and
#      Mesa do not (tests/sanitizer/lsan.supp says which and why)
#   3. aarch64 cross build: the unit tests and the NEON kernel checks under qemu-aarch64
#   4. the parsers and the model loader under libFuzzer (clang, ASan+UBSan), plus the committed
#      crash inputs (tests/fuzz/regressions/)
# Exit status 0 only if all four pass, every oracle ran (KILN_REQUIRE_ORACLES=1: a missing
# Python module or package is a failure, not a skip) and no test was skipped (see below).
#
# The build directories are this script's own (build-test*): scripts/run.sh's build/ or a
# hand-configured one never decides which Python runs the oracles or which options are set.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
start=$SECONDS
step() { printf '\n==== %s  (%ds)\n' "$*" $((SECONDS - start)); }

bash scripts/deps.sh test
export KILN_REQUIRE_ORACLES=1
oracle_python=$PWD/.venv/bin/python

# No test may report Skipped here, in any stage: deps.sh installs lavapipe (the Vulkan device),
# the Python oracles' packages and PyTorch; the one CUDA test in ctest needs no GPU
# (cuda_no_local_memory reads ptxas's report; running the kernels is scripts/gpu-suite.sh's, and
# without a driver the CUDA backend is reported absent, not a test); the qemu stage skips nothing. A skip here means something the test command installs is missing.

# ctest with its output kept; fails on a failed test (ctest's status) or on any Skipped test.
run_ctest() {
    local stage=$1 dir=$2
    shift 2
    local log=$dir/ctest-$stage.log
    local rc=0
    set +e
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    ((rc == 0)) || { echo "test.sh: stage $stage: ctest failed (exit $rc)"; exit 1; }
    local bad
    bad=$(sed -n 's/^[[:space:]]*[0-9]* - \(.*\) (Skipped)$/\1/p' "$log" | tr '\n' ' ')  # ctest indents with a tab
    if [ -n "$bad" ]; then
        echo "test.sh: stage $stage: skipped tests not allowed under scripts/test.sh: $bad" >&2
        echo "  (a skip here means a package, module or device the test command installs is missing)" >&2
        exit 1
    fi
}

common=(-DKILN_WERROR=ON -DKILN_REQUIRE_ORACLES=ON -DKILN_ORACLE_PYTHON="$oracle_python")

step "1/4 Release build (-Werror), all tests"
# One CUDA architecture keeps the compile short (the GPU suite builds for the GPU at hand).
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Release -DKILN_CUDA_ARCHS=80 "${common[@]}" >/dev/null
cmake --build build-test -j"$jobs"
run_ctest release build-test

step "2/4 AddressSanitizer + UndefinedBehaviorSanitizer: all but the benchmarks and two ops variants"
# The sanitizer options (and the LSan suppressions) are set on every test of a sanitizer build
# by tests/CMakeLists.txt, so a plain ctest in build-test-asan runs them the same way. PyTorch's
# oracle runs the ASan kiln from Debian's python: fine, since only kiln's process is instrumented.
# The AVX-512 kernels are built against SIMDe here (KILN_AVX512_EMULATE), so ops_avx512_emulated
# checks them under the sanitizers on any x86 CPU; stage 1 checks them natively where the CPU has
# AVX-512.
cmake -S . -B build-test-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_CUDA_ARCHS=80 \
      -DKILN_SANITIZE=address,undefined -DKILN_AVX512_EMULATE=ON "${common[@]}" >/dev/null
cmake --build build-test-asan -j"$jobs"
# Also not here: ops_one_thread and ops_vulkan_portable, variants stage 1 runs; under the
# sanitizers they only repeat host code that ops_cpu, ops_odd_threads and ops_vulkan_validation
# already cover (shaders are not instrumented). ops_fallback_ref_only stays: on AVX2 no weight
# type takes the fallback otherwise.
# Not here either: python_package (the interpreter is not instrumented, so an ASan libkiln.so
# cannot load into it; stage 1 runs it, and test_api checks the library under the sanitizers).
# And not cuda_no_local_memory (label cuda): ptxas's report does not change with the host's
# sanitizers.
run_ctest asan build-test-asan -LE 'bench|python|cuda' -E 'ops_one_thread|ops_vulkan_portable'

step "3/4 aarch64 cross build: unit tests and NEON kernel checks under qemu-aarch64"
cmake -S . -B build-test-arm64 -DCMAKE_BUILD_TYPE=Release -DKILN_WERROR=ON -DKILN_CUDA=OFF \
      -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake >/dev/null
cmake --build build-test-arm64 -j"$jobs"
# Not here: ops_fallback_ref_only (generic C, checked in stages 1-2), ops_one_thread (kiln_split
# is generic C; ops_odd_threads partitions the NEON rows over 3 threads) and ops_isa_neon (the
# baseline NEON rows with dotprod masked off: ops_cpu already checks every row, baseline ones
# included, since qemu's CPU has both): under qemu each costs minutes.
run_ctest arm64 build-test-arm64 -L 'unit|ops' -E 'ops_fallback_ref_only|ops_one_thread|ops_isa_neon'

step "4/4 parser and model-loader fuzzing (libFuzzer)"
# 10 s a target after the committed corpus and crash inputs: a smoke run that keeps the stage to
# about 2 minutes on 2 cores (longer campaigns: scripts/fuzz.sh SECONDS by hand).
KILN_BIN=build-test/kiln bash scripts/fuzz.sh 10

step "all test stages passed in $((SECONDS - start)) s"
