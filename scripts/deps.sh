#!/usr/bin/env bash
# Installs what kiln needs from Debian's packages (and, for the tests, PyPI into .venv).
#
#   scripts/deps.sh build   compiler, cmake, pkg-config, hwloc, cJSON, SQLite, Vulkan headers + glslc
#   scripts/deps.sh test    build + the NEON cross toolchain and qemu-user (with arm64 hwloc, cJSON and
#                           SQLite from Debian multiarch), python3-venv, and .venv with the
#                           oracles' Python packages (tests/requirements.txt), and Mesa's lavapipe
#                           (a Vulkan 1.3 device on the CPU) with the Khronos validation layer, and
#                           SIMDe's headers (the AVX-512 kernels checked on CPUs without AVX-512)
#
# As root it runs apt-get itself; otherwise it prints the exact command to run and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-build}
build_pkgs=(gcc make cmake pkg-config libhwloc-dev libcjson-dev libsqlite3-dev git libvulkan-dev glslc)
test_pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user python3-venv clang libclang-rt-14-dev libsimde-dev
           python3-torch python3-numpy mesa-vulkan-drivers vulkan-validationlayers
           libc6:arm64 libhwloc-dev:arm64 libcjson-dev:arm64 libsqlite3-dev:arm64)

case "$mode" in
build) want=("${build_pkgs[@]}") ;;
test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: scripts/deps.sh build|test" >&2; exit 2 ;;
esac

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for p in "${want[@]}"; do
    installed "$p" || missing+=("$p")
done

need_arm64=false
for p in "${missing[@]}"; do [[ $p == *:arm64 ]] && need_arm64=true; done

if ((${#missing[@]})); then
    cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    if $need_arm64 && ! dpkg --print-foreign-architectures | grep -qx arm64; then
        cmd="dpkg --add-architecture arm64 && $cmd"
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "kiln needs these Debian packages: ${missing[*]}" >&2
        echo "run as root:  $cmd" >&2
        exit 1
    fi
    echo "deps: installing ${missing[*]}"
    bash -c "$cmd" >/tmp/kiln-apt.log 2>&1 || { tail -20 /tmp/kiln-apt.log >&2; echo "deps: apt-get failed (log above)" >&2; exit 1; }
fi

if [ "$mode" = test ]; then
    # The venv is made from Debian's python (python3-venv above), never the first python3 on PATH
    # (a pyenv shim here, something else elsewhere): the oracles must not depend on which comes
    # first. A .venv made by another python is made again.
    if [ ! -x .venv/bin/python ] || ! grep -qx 'home = /usr/bin' .venv/pyvenv.cfg 2>/dev/null; then
        echo "deps: creating .venv with /usr/bin/python3"
        rm -rf .venv
        /usr/bin/python3 -m venv .venv
    fi
    if ! .venv/bin/python -c 'import numpy, gguf, scipy, sentencepiece, tokenizers, pytest, xdist, pandas, junitparser, markdown_it, setuptools; assert int(setuptools.__version__.split(".")[0]) >= 77' 2>/dev/null; then
        echo "deps: installing tests/requirements.txt into .venv"
        .venv/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
    fi
fi
echo "deps: all present ($mode)"
