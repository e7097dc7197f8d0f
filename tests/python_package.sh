#!/usr/bin/env bash
# python_package.sh PYTHON LIBKILN KILN GGUF_EDIT WORKDIR: the Python package as a user gets it.
#   1. pip install ./python (into WORKDIR/site, from this checkout, bundling LIBKILN as setup.py
#      does with KILN_LIBRARY), so the test sees the installed package, its bundled library and
#      its pytest11 entry point, not the source folder;
#   2. pytest tests/python with that package (KILN_LIBRARY unset: the bundled library is used).
# Exit 77 (skipped) when pytest is missing, unless KILN_REQUIRE_ORACLES=1 (scripts/test.sh),
# where a missing module is a failure.
set -u
py=$1 lib=$2 kiln=$3 edit=$4 dir=$5
src=$(cd "$(dirname "$0")/.." && pwd)
if ! "$py" -c 'import pytest, xdist, pandas, junitparser, markdown_it, numpy' 2>/dev/null; then
    msg="the package tests need pytest, pytest-xdist, pandas, junitparser, markdown-it-py (scripts/deps.sh test)"
    [ "${KILN_REQUIRE_ORACLES:-}" = 1 ] && { echo "FAIL: $msg"; exit 1; }
    echo "skipped: $msg"
    exit 77
fi
rm -rf "$dir" && mkdir -p "$dir"
KILN_LIBRARY=$lib "$py" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
    --target "$dir/site" "$src/python" >"$dir/pip.log" 2>&1 || { cat "$dir/pip.log"; echo "FAIL: pip install ./python"; exit 1; }
[ -f "$dir/site/kiln/_lib/libkiln.so" ] || { echo "FAIL: the installed package has no bundled libkiln.so"; exit 1; }
cd "$dir" || exit 1
env -u KILN_LIBRARY PYTHONPATH="$dir/site" KILN_BIN="$kiln" KILN_GGUF_EDIT="$edit" \
    "$py" -m pytest -q -p no:cacheprovider --basetemp="$dir/tmp" "$src/tests/python"
