#!/usr/bin/env bash
# expect_exit.sh CODE REGEX COMMAND...: runs COMMAND and passes when it exits with CODE and its
# combined output matches REGEX (grep -E). For the CLI's usage errors and failure messages.
set -u
want=$1 regex=$2
shift 2
out=$("$@" 2>&1)
got=$?
if [ "$got" -ne "$want" ]; then
    printf 'expected exit %s, got %s from: %s\n%s\n' "$want" "$got" "$*" "$out"
    exit 1
fi
if ! grep -qE -- "$regex" <<<"$out"; then
    printf 'output of %s does not match /%s/:\n%s\n' "$*" "$regex" "$out"
    exit 1
fi
echo "ok: exit $got, output matches /$regex/"
