#!/usr/bin/env bash
# Checks that no #include reaches from a lower layer into a higher one (docs/DESIGN.md, "Layers").
#
#   bash scripts/check-layers.sh        exit 0: every include allowed; 1: each violation printed
#
# A file's layer is the first rule below whose path prefix matches it; an include of a path under
# one of kiln's top folders must fall into one of the layers that rule allows. Includes without a
# top folder (system headers, generated *.spv.inc, a test's local check.h) are not checked.
set -euo pipefail
cd "$(dirname "$0")/.."

# The platform base: error codes, CPU facts and the thread pool, which every layer may use.
base='backends/status.h backends/cpu/cpu_features.h backends/cpu/topology.h backends/cpu/thread_pool.h'
# The interfaces kernels implement (their signatures) and the dispatch layer's public types.
iface='backends/backend.h backends/ops.h backends/kernel.h backends/cpu/cpu_kernel.h backends/cuda/cuda_ops.h'

# layer-of-file-prefix : the layers (prefixes) it may include. "base" and "iface" expand above.
rules='
quant/format/     : base quant/format/
quant/file/       : base quant/format/ quant/file/
quant/tokenizer/  : base quant/format/ quant/file/ quant/tokenizer/
quant/synth/      : base quant/format/ quant/file/ quant/synth/
quant/convert/    : base quant/format/ quant/file/ quant/tokenizer/ quant/synth/ quant/convert/
kernels/          : base iface quant/format/ kernels/
backends/         : base iface quant/format/ kernels/ backends/
bench/timing/     : base iface quant/format/ backends/ bench/timing/
bench/check/      : base iface quant/format/ quant/synth/ kernels/ backends/ bench/timing/ bench/check/
bench/ops/        : base iface quant/format/ quant/synth/ backends/ bench/timing/ bench/check/ bench/ops/
bench/model/      : base iface quant/format/ quant/file/ quant/tokenizer/ quant/synth/ backends/ bench/timing/ bench/model/
bench/report/     : base iface quant/format/ quant/file/ backends/ bench/timing/ bench/ops/ bench/model/ bench/report/
bench/history/    : base iface quant/format/ quant/file/ backends/ bench/timing/ bench/report/ bench/history/
api/              : *
cli/              : *
tests/            : *
scripts/          : *
'

allowed_for() {  # prints the allowed list of the first rule matching file $1
  local f=$1 prefix list
  while IFS=: read -r prefix list; do
    prefix=$(echo "$prefix" | tr -d ' ')
    [ -z "$prefix" ] && continue
    case "$f" in "$prefix"*) echo "$list"; return;; esac
  done <<< "$rules"
  echo "?"
}

in_list() {  # $1 include path, $2 allowed list: 0 if allowed
  local inc=$1 item
  for item in $2; do
    case "$item" in
      '*') return 0;;
      base) for b in $base; do [ "$inc" = "$b" ] && return 0; done;;
      iface) for b in $iface; do [ "$inc" = "$b" ] && return 0; done;;
      *) case "$inc" in "$item"*) return 0;; esac;;
    esac
  done
  return 1
}

bad=0
checked=0
while IFS= read -r f; do
  allowed=$(allowed_for "$f")
  if [ "$allowed" = "?" ]; then
    echo "check-layers: $f is in no layer: add a rule to scripts/check-layers.sh and docs/DESIGN.md" >&2
    bad=1; continue
  fi
  # A file of the base or the interfaces is held to its own layer, not its folder's.
  if in_list "$f" "base"; then allowed='base'; fi
  if in_list "$f" "iface" && [ "$allowed" != base ]; then allowed='base iface quant/format/'; fi
  while IFS= read -r inc; do
    case "$inc" in kernels/*|backends/*|quant/*|bench/*|cli/*|tests/*) ;; *) continue;; esac
    checked=$((checked + 1))
    if ! in_list "$inc" "$allowed"; then
      echo "check-layers: $f includes $inc, a higher layer (allowed: $allowed)" >&2
      bad=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done < <(git ls-files '*.c' '*.h' '*.cu' | grep -E '^(kernels|backends|quant|bench|cli|tests|scripts)/')

if [ "$bad" != 0 ]; then exit 1; fi
echo "check-layers: $checked includes, none reaches into a higher layer"
