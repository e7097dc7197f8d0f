"""Every field and type spec/benchmark-json.md lists for Google Benchmark JSON, checked on files
from each kind of kiln run: op benchmarks (with repetitions and aggregates), a skipped entry
(a type with no kernel), and the roofline probes. Also: doubles round-trip ("%.16e"), integers
are integers, counters are sorted, aggregates follow their instance's iterations.

usage: test_gbench_schema.py PATH/TO/kiln WORKDIR
"""
import json
import os
import re
import subprocess
import sys

CONTEXT_ORDER = ["date", "host_name", "executable", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled",
                 "aslr_enabled", "caches", "load_avg", "library_version", "library_build_type",
                 "json_schema_version"]
COUNTERS = ["bytes_per_second", "flops", "items_per_second", "nmse", "roofline_fraction"]
MODEL_COUNTERS = ["bytes_per_second", "kv_bytes", "memory_peak_bytes", "model_bytes", "roofline_fraction",
                  "rss_peak_bytes", "tokens_per_second", "ttft"]
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_context(ctx, path):
    keys = list(ctx.keys())
    present = [k for k in CONTEXT_ORDER if k in ctx]
    check(present == CONTEXT_ORDER, f"{path}: context lacks {set(CONTEXT_ORDER) - set(present)}")
    check(keys[:len(present)] == present, f"{path}: standard context keys out of order: {keys}")
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", ctx["date"]) is not None,
          f"{path}: date {ctx['date']!r} is not RFC 3339")
    for k in ["host_name", "executable", "library_version"]:
        check(isinstance(ctx[k], str), f"{path}: {k} is not a string")
    for k in ["num_cpus", "mhz_per_cpu"]:
        check(is_int(ctx[k]), f"{path}: {k} is not an integer")
    for k in ["cpu_scaling_enabled", "aslr_enabled"]:
        check(isinstance(ctx[k], bool), f"{path}: {k} is not a bool")
    check(ctx["library_build_type"] in ("release", "debug"), f"{path}: library_build_type")
    check(ctx["json_schema_version"] == 1, f"{path}: json_schema_version")
    check(isinstance(ctx["load_avg"], list) and len(ctx["load_avg"]) <= 3 and
          all(is_num(v) for v in ctx["load_avg"]), f"{path}: load_avg")
    for c in ctx["caches"]:
        check(c.get("type") in ("Data", "Instruction", "Unified"), f"{path}: cache type {c}")
        check(all(is_int(c.get(k)) for k in ["level", "size", "num_sharing"]), f"{path}: cache {c}")
    custom = keys[len(present):]
    check(custom == sorted(custom), f"{path}: custom context keys not sorted: {custom}")
    check(all(isinstance(ctx[k], str) for k in custom), f"{path}: custom context values must be strings")
    check(any(k.startswith("kiln_git_commit") for k in custom), f"{path}: no kiln_git_commit")


def check_entry(e, path):
    where = f"{path}: {e.get('name')}"
    for k, t in [("name", str), ("run_name", str), ("run_type", str)]:
        check(isinstance(e.get(k), t), f"{where}: {k}")
    for k in ["family_index", "per_family_instance_index", "repetitions", "threads", "iterations"]:
        check(is_int(e.get(k)), f"{where}: {k} is not an integer")
    check(e["repetitions"] >= 1, f"{where}: repetitions < 1")
    check(e["run_type"] in ("iteration", "aggregate"), f"{where}: run_type")
    check(is_num(e.get("real_time")) and is_num(e.get("cpu_time")), f"{where}: times")
    check(e.get("time_unit") in ("ns", "us", "ms", "s"), f"{where}: time_unit")
    if e["run_type"] == "iteration":
        check(is_int(e.get("repetition_index")), f"{where}: repetition_index")
        check("aggregate_name" not in e, f"{where}: aggregate_name on an iteration")
        check(e["name"] == e["run_name"], f"{where}: name != run_name")
    else:
        check(e.get("aggregate_name") in ("mean", "median", "stddev", "cv"), f"{where}: aggregate_name")
        check(e.get("aggregate_unit") == ("percentage" if e["aggregate_name"] == "cv" else "time"),
              f"{where}: aggregate_unit")
        check(e["name"] == e["run_name"] + "_" + e["aggregate_name"], f"{where}: aggregate name")
        check("repetition_index" not in e, f"{where}: repetition_index on an aggregate")
    if e.get("error_occurred") or e.get("skipped"):
        msg = "error_message" if e.get("error_occurred") else "skip_message"
        check(isinstance(e.get(msg), str) and e[msg], f"{where}: {msg}")
        return
    want = MODEL_COUNTERS if e["run_name"].startswith("model/") else COUNTERS
    counters = [k for k in e if k in want]
    check(counters == sorted(counters) and set(counters) == set(want), f"{where}: counters {counters}")
    check(all(is_num(e[k]) for k in counters), f"{where}: counters must be numbers")
    check(isinstance(e.get("label"), str), f"{where}: label")


def check_file(path, expect_skip=False, expect_aggregates=True):
    text = open(path).read()
    doc = json.loads(text)  # strict JSON: no NaN tokens
    check(list(doc.keys()) == ["context", "benchmarks"], f"{path}: top-level keys {list(doc.keys())}")
    check_context(doc["context"], path)
    for e in doc["benchmarks"]:
        check_entry(e, path)
    # Doubles as GB prints them: "%.16e", which round-trips.
    for tok in re.findall(r"-?\d\.\d{16}e[+-]\d+", text):
        check("%.16e" % float(tok) == tok, f"{path}: {tok} does not round-trip")
    check(re.search(r":\s*-?\d+\.\d{1,15}(e[+-]\d+)?[,\n]", text) is None or expect_skip is None,
          f"{path}: a double printed with fewer than 17 digits")
    # Order: per run name, iterations (0..n-1) then mean, median, stddev, cv.
    by_run = {}
    for e in doc["benchmarks"]:
        by_run.setdefault(e["run_name"], []).append(e)
    for run, es in by_run.items():
        kinds = [e.get("aggregate_name", "it") for e in es]
        n = es[0]["repetitions"]
        if es[0].get("skipped") or es[0].get("error_occurred"):
            continue
        want = ["it"] * n + (["mean", "median", "stddev", "cv"] if n >= 2 else [])
        check(kinds == want, f"{path}: {run} entries {kinds}")
        check([e.get("repetition_index") for e in es[:n]] == list(range(n)), f"{path}: {run} repetition_index")
        if n >= 2:
            check(es[n]["iterations"] == n, f"{path}: {run} aggregate iterations must be the repetitions")
    skips = [e for e in doc["benchmarks"] if e.get("skipped")]
    if expect_skip:
        check(len(skips) > 0, f"{path}: expected a skipped entry")


def run(args, out):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL: {' '.join(args)} exited {r.returncode}: {r.stderr}")
        sys.exit(1)
    return out


def main():
    kiln, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    ops = run([kiln, "bench", "ops", "--shapes", "ci", "--type", "q4_0,f16,iq4_nl", "--min-time", "0.002",
               "--repetitions", "3", "--no-roofline", "--json", f"{work}/ops.json"], f"{work}/ops.json")
    check_file(ops, expect_skip=True)
    one = run([kiln, "bench", "ops", "--op", "dequant", "--shape", "k=256,m=8", "--type", "q8_0",
               "--min-time", "0.001", "--repetitions", "1", "--no-roofline", "--json", f"{work}/one.json"],
              f"{work}/one.json")
    check_file(one)
    model = run([kiln, "bench", "model", "--preset", "tiny", "-p", "16", "-n", "4", "-r", "3", "--no-roofline",
                 "--json", f"{work}/model.json"], f"{work}/model.json")
    check_file(model)
    names = [e["name"] for e in json.load(open(model))["benchmarks"]]
    check("model/tiny/q4_0/cpu/pp16" in names and "model/tiny/q4_0/cpu/tg4_median" in names,
          f"model entries named as expected: {names[:3]}")
    roof = run([kiln, "bench", "roofline", "--min-time", "0.01", "--repetitions", "2",
                "--json", f"{work}/roofline.json"], f"{work}/roofline.json")
    check_file(roof)
    ctx = json.load(open(roof))["context"]
    check(any(k.startswith("kiln_ceilings_") for k in ctx), "roofline file caches no ceilings in its context")
    for f in failures:
        print("FAIL", f)
    print(f"test_gbench_schema: {0 if failures else 1} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
