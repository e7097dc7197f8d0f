"""Writes a Google Benchmark JSON file with planted times, for the results-history tests.

    make_gbench.py OUT.json --commit C --date 2026-12-01T10:00:00+00:00 [--machine M]
                   [--reps 9] [--seed S] NAME=MEDIAN_US[:SPREAD] ...

Each NAME gets --reps iteration entries whose real/cpu times are MEDIAN_US times
(1 + SPREAD * u), u uniform in [-1, 1] (SPREAD default 0.01), then its median aggregate, as
kiln bench writes them. The context carries what the history stores: commit, machine, date.
"""
import argparse
import json
import random
import statistics

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--commit", required=True)
ap.add_argument("--date", required=True)
ap.add_argument("--machine", default="test-machine-2c")
ap.add_argument("--reps", type=int, default=9)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("bench", nargs="+")
a = ap.parse_args()
rng = random.Random(a.seed)
entries = []
for family, spec in enumerate(a.bench):
    name, value = spec.split("=")
    median, _, spread = value.partition(":")
    median, spread = float(median), float(spread or 0.01)
    times = [median * (1 + spread * rng.uniform(-1, 1)) for _ in range(a.reps)]
    for i, t in enumerate(times):
        entries.append({"name": name, "family_index": family, "per_family_instance_index": 0,
                        "run_name": name, "run_type": "iteration", "repetitions": a.reps,
                        "repetition_index": i, "threads": 1, "iterations": 100,
                        "real_time": t, "cpu_time": t, "time_unit": "us"})
    m = statistics.median(times)
    entries.append({"name": name + "_median", "family_index": family, "per_family_instance_index": 0,
                    "run_name": name, "run_type": "aggregate", "repetitions": a.reps, "threads": 1,
                    "aggregate_name": "median", "aggregate_unit": "time", "iterations": a.reps,
                    "real_time": m, "cpu_time": m, "time_unit": "us"})
doc = {"context": {"date": a.date, "host_name": "testhost", "executable": "make_gbench.py",
                   "num_cpus": 2, "json_schema_version": 1, "kiln_git_commit": a.commit,
                   "kiln_machine": a.machine, "kiln_cpu_model": "Test CPU",
                   "library_version": "kiln-test", "kiln_build_type": "Release"},
       "benchmarks": entries}
with open(a.out, "w") as f:
    json.dump(doc, f, indent=1)
