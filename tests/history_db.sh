#!/usr/bin/env bash
# history_db.sh KILN PYTHON WORKDIR: the results history (bench/history/history_db.h) end to end.
#   1. seven runs with planted series, imported: kiln history finds the two real steps (one
#      slower, one faster) at the right commits, ignores a one-run outlier, marks a step in the
#      newest run unconfirmed; --name filters
#   2. kiln compare db:COMMIT db:COMMIT and db:COMMIT FILE: the planted step is SLOWER (exit 1)
#   3. ambiguous and unknown commits, several machines: one-line errors, exit 2
#   4. files that are not a kiln history (text, another SQLite schema, a newer schema): exit 1
#   5. eight writers at once on one new file: all land, the file passes integrity_check
#   6. kiln bench ops|model --db store real runs; kiln plot history draws every series
set -u
kiln=$1 py=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
here=$(dirname "$0")
[[ $here = /* ]] || here=$OLDPWD/$here
pass=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { pass=$((pass + 1)); }
gen() { "$py" "$here/make_gbench.py" "$@" || fail "make_gbench.py $*"; }

#            step/x    noise/y  fast/z  tail/w
levels=(""  "100 100 100 100" "100 100 100 100" "100 140 100 100" "100 100 70 100"
            "130 100 70 100" "130 100 70 100" "130 100 70 150")
for i in 1 2 3 4 5 6 7; do
    read -r x y z w <<<"${levels[$i]}"
    gen "r$i.json" --commit "a${i}00000c0ffee" --date "2026-12-0${i}T10:00:00+00:00" --seed "$i" \
        step/x=$x noise/y=$y fast/z=$z tail/w=$w
done
out=$("$kiln" history import --db h.sqlite r1.json r2.json r3.json r4.json r5.json r6.json r7.json 2>&1) ||
    fail "import: $out"
[ "$(grep -c ': run ' <<<"$out")" -eq 7 ] || fail "import did not store 7 runs: $out"

out=$("$kiln" history --db h.sqlite 2>&1) || fail "history exited $?: $out"
line() { awk -v s="$1" -v c="$2" '$0 ~ "^"s"  " {on=1; next} /^[^ ]/ {on=0} on && index($1, c) == 1' <<<"$out"; }
grep -q "CHANGE +" <<<"$(line step/x a5)" || fail "no slower change point at a5 for step/x: $out"
grep -q "slower" <<<"$(line step/x a5)" || fail "step/x's change not called slower: $out"
grep -q "CHANGE -" <<<"$(line fast/z a4)" || fail "no faster change point at a4 for fast/z: $out"
grep -q "step?" <<<"$(line tail/w a7)" || fail "tail/w's newest-run step not marked unconfirmed: $out"
awk '/^noise\/y/ {on=1; next} /^[^ ]/ {on=0} on' <<<"$out" | grep -q "CHANGE\|step?" &&
    fail "the one-run outlier of noise/y was flagged: $out"
grep -q "4 series, 2 change points" <<<"$out" || fail "summary: $out"
ok
out=$("$kiln" history --db h.sqlite --name '^step/' 2>&1)
grep -q "1 series" <<<"$out" || fail "--name did not filter: $out"
out=$("$kiln" history --db h.sqlite --changes 2>&1)
grep -q "^noise/y" <<<"$out" && fail "--changes listed a series without change: $out"
ok

out=$("$kiln" compare --db h.sqlite db:a4 db:a5 2>&1); rc=$?
[ $rc -eq 1 ] || fail "compare db:a4 db:a5 exited $rc, expected 1: $out"
grep -q "step/x .*SLOWER" <<<"$out" || fail "step/x not SLOWER between a4 and a5: $out"
out=$(KILN_DB=h.sqlite "$kiln" compare db:a1 r1.json 2>&1); rc=$?
[ $rc -eq 0 ] || fail "compare of a stored run with its own file exited $rc: $out"
grep -q "0 slower, 0 faster, 4 same" <<<"$out" || fail "a run and its file differ: $out"
out=$("$kiln" compare --db h.sqlite r4.json db:latest 2>&1); rc=$?
[ $rc -eq 1 ] || fail "compare r4.json db:latest (a7) exited $rc: $out"
ok

expect_usage() {  # expect_usage REGEX ARGS...: exit 2 and one line on stderr matching REGEX
    local re=$1 err rc
    shift
    err=$("$kiln" "$@" 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] || fail "$* exited $rc, expected 2: $err"
    grep -Eq "$re" <<<"$err" || fail "$*: message '$err' does not match '$re'"
    [ "$(wc -l <<<"$err")" -eq 1 ] || fail "$*: more than one line: $err"
}
expect_usage "ambiguous" compare --db h.sqlite db:a r1.json
expect_usage "no stored run of commit ffff" compare --db h.sqlite db:ffff r1.json
gen other.json --commit a700000c0ffee --date 2026-12-08T10:00:00+00:00 --machine other-box-4c step/x=100
"$kiln" history import --db h.sqlite other.json >/dev/null || fail "import other.json"
expect_usage "several machines.*other-box-4c.*--machine|several machines.*test-machine-2c" compare --db h.sqlite db:a7 r1.json
out=$("$kiln" compare --db h.sqlite --machine test-machine-2c db:a7 r7.json 2>&1) || fail "--machine: $out"
expect_usage "no such results history" compare --db missing.sqlite db:a1 r1.json
ok

echo "not a database" >text.sqlite
err=$("$kiln" history --db text.sqlite 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "not an SQLite file" <<<"$err" || fail "a text file as history: exit $rc: $err"
"$py" -c "import sqlite3; c = sqlite3.connect('foreign.sqlite'); c.execute('create table t (x)'); c.commit()"
err=$("$kiln" history --db foreign.sqlite 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "not a kiln results history" <<<"$err" || fail "a foreign SQLite file: exit $rc: $err"
err=$("$kiln" bench ops --op matmul --type q4_0 --db foreign.sqlite 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "not a kiln results history" <<<"$err" && ! grep -q "^matmul" <<<"$err" ||
    fail "bench ops --db on a foreign file did not fail before benchmarking: exit $rc: $err"
cp h.sqlite newer.sqlite
"$py" -c "import sqlite3; c = sqlite3.connect('newer.sqlite'); c.execute('pragma user_version = 99'); c.commit()"
err=$("$kiln" history --db newer.sqlite 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "schema 99, newer" <<<"$err" || fail "a newer schema: exit $rc: $err"
err=$("$kiln" history import --db h.sqlite text.sqlite 2>&1); rc=$?
[ $rc -eq 1 ] || fail "importing a non-JSON file exited $rc: $err"
ok

pids=()
for i in 1 2 3 4 5 6 7 8; do
    "$kiln" history import --db many.sqlite "r$(( (i - 1) % 7 + 1 )).json" >"w$i.log" 2>&1 &
    pids+=($!)
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "concurrent writer $((i + 1)) failed: $(cat "w$((i + 1)).log")"
done
check=$("$py" -c "
import sqlite3
c = sqlite3.connect('many.sqlite')
print(c.execute('pragma integrity_check').fetchone()[0], c.execute('select count(*) from runs').fetchone()[0],
      c.execute('select count(*) from entries').fetchone()[0], c.execute('pragma journal_mode').fetchone()[0])")
[ "$check" = "ok 8 320 wal" ] || fail "after 8 concurrent writers: integrity, runs, entries, mode = $check (want ok 8 320 wal)"
ok

out=$("$kiln" bench ops --backend cpu --op matmul --type q4_0 --shape m=64,n=1,k=256 --min-time 0.002 \
      --repetitions 3 --no-roofline --db real.sqlite 2>&1) || fail "bench ops --db: $out"
out=$("$kiln" history --db real.sqlite 2>&1)
grep -q "^matmul/q4_0/cpu/m:64/n:1/k:256" <<<"$out" || fail "bench ops --db stored nothing readable: $out"
out=$("$kiln" bench model --preset tiny -p 8 -n 4 -r 2 --backend cpu --no-roofline --db real.sqlite 2>&1) ||
    fail "bench model --db: $out"
out=$("$kiln" history --db real.sqlite --name '^model/' 2>&1)
grep -q "^model/tiny/q4_0/cpu/pp8" <<<"$out" && grep -q "^model/tiny/q4_0/cpu/tg4" <<<"$out" ||
    fail "bench model --db stored no pp8/tg4 series: $out"
"$kiln" plot history --db h.sqlite --machine test-machine-2c -o h.svg >/dev/null || fail "plot history"
[ "$(grep -c '<polyline' h.svg)" -eq 4 ] || fail "plot history drew $(grep -c '<polyline' h.svg) lines, expected 4"
[ "$(grep -c "r='8'" h.svg)" -eq 3 ] || fail "plot history ringed $(grep -c "r='8'" h.svg) points, expected 3"
ok
echo "history_db: $pass passed, 0 failed"
