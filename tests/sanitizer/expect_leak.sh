#!/usr/bin/env bash
# lsan_kiln_leak_fails: the leak planted in lsan_kiln_leak must fail the process under the very
# options the sanitizer stage uses (tests/CMakeLists.txt sets them on every test, suppressions
# included), and the report must point at kiln's allocation (a frame in quant/file/gguf_write.c). Proves the suppressions file does
# not hide kiln's leaks. usage: expect_leak.sh PATH/TO/lsan_kiln_leak
set -u
case "${LSAN_OPTIONS:-}" in
*suppressions=*) ;;
*) echo "FAIL: LSAN_OPTIONS has no suppressions file: not the sanitizer stage's options"; exit 1 ;;
esac
out=$("$1" 2>&1)
rc=$?
echo "$out" | tail -20
if [ $rc -eq 0 ]; then
    echo "FAIL: the planted leak exited 0: LeakSanitizer did not fail the process"
    exit 1
fi
if ! grep -q "detected memory leaks" <<<"$out" || ! grep -q "quant/file/gguf_write.c" <<<"$out"; then
    echo "FAIL: exit $rc, but no leak report with a frame in quant/file/gguf_write.c"
    exit 1
fi
echo "PASS: the planted leak fails the sanitizer stage (exit $rc, reported in quant/file/gguf_write.c)"
