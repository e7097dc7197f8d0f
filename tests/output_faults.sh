#!/usr/bin/env bash
# output_faults.sh KILN WORKDIR: outputs survive faults (quant/file/out_file.h).
#   - kiln convert and kiln quantize interrupted by SIGINT / SIGTERM mid-write: no temporary
#     left, the previous output byte for byte as it was, death by that signal;
#   - a full disk (a 1 MiB tmpfs in a private mount namespace: ENOSPC) and a file size limit
#     (ulimit -f: EFBIG): one line naming the output, exit 1, no temporary, previous output kept;
#     the same for the benchmarks' --json (interrupted, and on a full disk);
#   - two conversions writing one path at once: the result is exactly one of the two.
set -u
kiln=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir"
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
temporaries() { ls "$1"/*.tmp-* 2>/dev/null; }

"$kiln" synth --preset tiny -o "$dir/tiny" >/dev/null || { echo "FAIL: synth tiny"; exit 1; }
"$kiln" convert "$dir/tiny" -o "$dir/a.gguf" --type q4_0 --no-progress >/dev/null || { echo "FAIL: convert"; exit 1; }
"$kiln" convert "$dir/tiny" -o "$dir/b.gguf" --type q8_0 --no-progress >/dev/null || { echo "FAIL: convert"; exit 1; }

# ---- interrupted writes: a model big enough that the write takes seconds (TinyLlama's shapes,
# 2 layers: 440 MB of f16 in, Q4_K out), signalled as soon as its temporary appears.
"$kiln" synth --preset bench-2l -o "$dir/big" >/dev/null || { echo "FAIL: synth bench-2l"; exit 1; }
"$kiln" convert "$dir/big" -o "$dir/big-q8_0.gguf" --type q8_0 --no-progress >/dev/null || { echo "FAIL: convert big"; exit 1; }
# A non-interactive shell starts background jobs with SIGINT ignored (and kiln, like any
# program, keeps a signal ignored that it was started with): job control (set -m) gives the job
# the default disposition, as a command interrupted at a terminal has.
interrupt() {  # interrupt NAME SIGNAL COMMAND... ("OUT" in COMMAND: the output, $dir/out/prev.gguf)
    local name=$1 sig=$2
    shift 2
    local out=$dir/out
    rm -rf "$out" && mkdir -p "$out" && cp "$dir/a.gguf" "$out/prev.gguf"
    local before args=()
    before=$(sha256sum <"$out/prev.gguf")
    for a in "$@"; do [ "$a" = OUT ] && args+=("$out/prev.gguf") || args+=("$a"); done
    set -m
    "${args[@]}" >/dev/null 2>&1 &
    local pid=$! i
    set +m
    for i in $(seq 1 600); do  # up to 60 s for the temporary to appear
        [ -n "$(temporaries "$out")" ] && break
        sleep 0.1
    done
    if [ -z "$(temporaries "$out")" ]; then
        kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
        fail "$name: no temporary appeared (did the command finish before the signal?)"
        return
    fi
    kill -"$sig" $pid
    wait $pid
    local rc=$? want=$((128 + $(kill -l "$sig")))
    if [ $rc -ne $want ]; then fail "$name: exit $rc, expected $want (death by SIG$sig)"
    elif [ -n "$(temporaries "$out")" ]; then fail "$name: left $(temporaries "$out")"
    elif [ "$(sha256sum <"$out/prev.gguf")" != "$before" ]; then fail "$name: the previous output changed"
    else ok "$name: died of SIG$sig, no temporary, previous output untouched"
    fi
}
interrupt convert_sigint INT "$kiln" convert "$dir/big" -o OUT --type q4_K --no-progress
interrupt convert_sigterm TERM "$kiln" convert "$dir/big" -o OUT --type q4_K --no-progress
interrupt quantize_sigint INT "$kiln" quantize "$dir/big-q8_0.gguf" OUT q4_K
interrupt quantize_sigterm TERM "$kiln" quantize "$dir/big-q8_0.gguf" OUT q4_K
rm -rf "$dir/big" "$dir/big-q8_0.gguf" "$dir/out"
# A benchmark with --json interrupted mid-run: the previous JSON stays, nothing else appears.
bj=$dir/benchjson && mkdir -p "$bj" && echo '{"previous": true}' >"$bj/prev.json"
set -m
"$kiln" bench ops --type f32,q4_0 --repetitions 30 --backend cpu --json "$bj/prev.json" >/dev/null 2>&1 &
pid=$!
set +m
sleep 2
kill -INT $pid
wait $pid
rc=$?
if [ $rc -ne 130 ]; then fail "bench_json_sigint: exit $rc, expected 130"
elif [ "$(cat "$bj/prev.json")" != '{"previous": true}' ] || [ -n "$(temporaries "$bj")" ]; then fail "bench_json_sigint: $(ls "$bj")"
else ok "bench_json_sigint: died of SIGINT, previous JSON untouched, no temporary"
fi

# ---- write errors. expect_write_error NAME OUTDIR PATTERN COMMAND...: exit 1, one stderr line
# matching PATTERN, no temporary in OUTDIR, OUTDIR/prev.* unchanged.
expect_write_error() {
    local name=$1 out=$2 pattern=$3
    shift 3
    local before err rc
    before=$(cat "$out"/prev.* | sha256sum)
    err=$("$@" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -ne 1 ]; then fail "$name: exit $rc, expected 1 ($err)"
    elif [ "$(grep -c . <<<"$err")" -ne 1 ] || ! grep -Eq -- "$pattern" <<<"$err"; then fail "$name: stderr not one line /$pattern/: $err"
    elif [ -n "$(temporaries "$out")" ]; then fail "$name: left $(temporaries "$out")"
    elif [ "$(cat "$out"/prev.* | sha256sum)" != "$before" ]; then fail "$name: the previous output changed"
    else ok "$name: $err"
    fi
}

# A file size limit of 512 KiB (the Q8_0 tiny model is 1.5 MB): EFBIG, not a SIGXFSZ kill.
lim=$dir/limit && mkdir -p "$lim" && cp "$dir/a.gguf" "$lim/prev.gguf"
expect_write_error convert_efbig "$lim" "writing $lim/prev.gguf failed: File too large" \
    bash -c 'ulimit -f 512 && exec "$@"' _ "$kiln" convert "$dir/tiny" -o "$lim/prev.gguf" --type q8_0 --no-progress
expect_write_error quantize_efbig "$lim" "writing $lim/prev.gguf failed: File too large" \
    bash -c 'ulimit -f 512 && exec "$@"' _ "$kiln" quantize "$dir/b.gguf" "$lim/prev.gguf" q8_0

# A full disk: a 1 MiB tmpfs mounted in a mount namespace of this test's own (root: unshare -m;
# otherwise a user namespace, unshare -rm). The whole check runs inside it.
if unshare -m true 2>/dev/null; then ns=(unshare -m); else ns=(unshare -rm); fi
full=$dir/full && mkdir -p "$full"
cat >"$dir/enospc.sh" <<'EOF'
set -u
kiln=$1 dir=$2 full=$3
mount -t tmpfs -o size=1m kiln-enospc "$full" || { echo "FAIL: cannot mount a tmpfs"; exit 1; }
head -c 300000 "$dir/a.gguf" >"$full/prev.gguf"  # a previous output that fits
source "$dir/lib.sh"
expect_write_error convert_enospc "$full" "writing $full/prev.gguf failed: No space left on device" \
    "$kiln" convert "$dir/tiny" -o "$full/prev.gguf" --type q8_0 --no-progress
expect_write_error quantize_enospc "$full" "writing $full/prev.gguf failed: No space left on device" \
    "$kiln" quantize "$dir/b.gguf" "$full/prev.gguf" q8_0
mv "$full/prev.gguf" "$full/model.gguf" && echo '{}' >"$full/prev.json"
head -c 2000000 /dev/zero >"$full/filler" 2>/dev/null  # fills the disk: not a byte left
expect_write_error bench_json_enospc "$full" "writing $full/prev.json failed: No space left on device" \
    "$kiln" bench ops --shape m=64,n=1,k=64 --type f32 --repetitions 3 --no-roofline --backend cpu --json "$full/prev.json"
echo "counts $passed $failed"
EOF
declare -f ok fail temporaries expect_write_error >"$dir/lib.sh"
echo "passed=0 failed=0" >>"$dir/lib.sh"
res=$("${ns[@]}" bash "$dir/enospc.sh" "$kiln" "$dir" "$full" 2>&1)
echo "$res" | grep -v '^counts'
read -r p f < <(sed -n 's/^counts //p' <<<"$res")
[ -n "${p:-}" ] || { fail "the ENOSPC checks did not run: $res"; p=0 f=0; }
passed=$((passed + p)) failed=$((failed + f))

# ---- two conversions to one path at once, five times: each result is one of them, whole.
race=$dir/race && mkdir -p "$race"
for i in 1 2 3 4 5; do
    "$kiln" convert "$dir/tiny" -o "$race/out.gguf" --type q4_0 --no-progress >/dev/null &
    p1=$!
    "$kiln" convert "$dir/tiny" -o "$race/out.gguf" --type q8_0 --no-progress >/dev/null &
    p2=$!
    wait $p1; r1=$?
    wait $p2; r2=$?
    if [ $r1 -ne 0 ] || [ $r2 -ne 0 ]; then fail "race $i: exits $r1 $r2"
    elif ! cmp -s "$race/out.gguf" "$dir/a.gguf" && ! cmp -s "$race/out.gguf" "$dir/b.gguf"; then fail "race $i: a mixed file"
    elif [ -n "$(temporaries "$race")" ]; then fail "race $i: left $(temporaries "$race")"
    else ok "race $i: the output is one conversion's, whole"
    fi
done

echo "output_faults: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
