"""The results history through the package (round trip, change points, db:REF, concurrent
writers) and the comparison's Markdown and JUnit renderings, checked with parsers from PyPI."""
import copy
import json
import multiprocessing
import os
import sqlite3
import subprocess

import junitparser
import pytest
from markdown_it import MarkdownIt

import kiln

SMALL = dict(op="matmul", type="q4_0", shape="m=64,n=1,k=256", repetitions=5, min_time=0.002, roofline=False)


def planted(doc, commit, factor, day):
    """A real run's document with planted times: repetition k takes 100 us x factor x
    (1 + 0.002 k), so the verdicts do not hang on how busy the machine was."""
    d = copy.deepcopy(doc)
    d["context"]["kiln_git_commit"] = commit
    d["context"]["date"] = f"2026-11-{day:02d}T10:00:00+00:00"
    for e in d["benchmarks"]:
        if e.get("run_type") == "aggregate":
            continue
        t = 100.0 * factor * (1 + 0.002 * e.get("repetition_index", 0))
        e["real_time"] = e["cpu_time"] = t
        e["time_unit"] = "us"
    d["benchmarks"] = [e for e in d["benchmarks"] if e.get("run_type") != "aggregate"]
    return d


@pytest.fixture(scope="module")
def run_doc():
    return kiln.bench_ops(**SMALL).document


def test_history_round_trip(tmp_path, run_doc):
    db = tmp_path / "h.sqlite"
    ids = [kiln.store(planted(run_doc, f"c{i}0000", f, i + 1), db)
           for i, f in enumerate([1, 1, 1, 1.4, 1.4, 1.4])]
    assert ids == [1, 2, 3, 4, 5, 6]
    series = kiln.history(db)
    assert len(series) == 1 and [p.commit for p in series[0].points] == [f"c{i}0000" for i in range(6)]
    steps = series[0].change_points
    assert [p.commit for p in steps] == ["c30000"] and steps[0].change == 1 and 0.3 < steps[0].step < 0.5
    # db:REF against a file and against another commit
    c = kiln.compare("db:c2", "db:c3", db=db)
    assert c.regressed and c.rows[0].verdict == "SLOWER"
    assert not kiln.compare("db:c0", planted(run_doc, "x", 1, 1), db=db).regressed
    with pytest.raises(kiln.KilnError, match="no stored run of commit zz"):
        kiln.compare("db:zz", run_doc, db=db)
    # a real run straight into the history
    kiln.bench_ops(db=db, **SMALL)
    assert len(kiln.history(db)[0].points) == 7


def _writer(args):
    db, doc, i = args
    import kiln as k
    return k.store(planted(doc, f"w{i}", 1, 1 + i % 28), db)


def test_concurrent_writers(tmp_path, run_doc):
    db = str(tmp_path / "many.sqlite")
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        ids = pool.map(_writer, [(db, run_doc, i) for i in range(12)])
    assert sorted(ids) == list(range(1, 13))
    c = sqlite3.connect(db)
    assert c.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert c.execute("select count(*) from runs").fetchone()[0] == 12
    n_entries = len(planted(run_doc, "w", 1, 1)["benchmarks"])
    assert c.execute("select count(*) from entries").fetchone()[0] == 12 * n_entries


def test_markdown_and_junit(tmp_path, run_doc, kiln_bin):
    slow = planted(run_doc, "slow", 1.5, 2)
    base, new = tmp_path / "base.json", tmp_path / "new.json"
    base.write_text(json.dumps(planted(run_doc, "base", 1, 1)))
    extra = copy.deepcopy(slow)
    for e in extra["benchmarks"]:
        e["name"] = e["name"].replace("matmul/", "matmul|odd/")
        e["run_name"] = e["run_name"].replace("matmul/", "matmul|odd/")
    slow["benchmarks"] += extra["benchmarks"]
    new.write_text(json.dumps(slow))
    out = subprocess.run([kiln_bin, "compare", "--format", "md", "--junit", str(tmp_path / "j.xml"), str(base),
                          str(new)], capture_output=True, text=True)
    assert out.returncode == 1, out.stderr
    # Markdown: one table, a header and a row per benchmark; the '|' in a name stays in its cell
    tokens = MarkdownIt("commonmark").enable("table").parse(out.stdout)
    assert sum(t.type == "table_open" for t in tokens) == 1
    rows = []
    for i, t in enumerate(tokens):
        if t.type == "tr_open":
            cells = []
            for u in tokens[i + 1:]:
                if u.type == "tr_close":
                    break
                if u.type == "inline":
                    cells.append(u.content)
            rows.append(cells)
    assert rows[0] == ["benchmark", "base (us)", "new (us)", "change", "p-value", "verdict"]
    assert all(len(r) == 6 for r in rows)
    by_name = {r[0].strip("`").replace("\\|", "|"): r for r in rows[1:]}
    assert by_name["matmul/q4_0/cpu/m:64/n:1/k:256"][5] == "**SLOWER**"
    assert by_name["matmul|odd/q4_0/cpu/m:64/n:1/k:256"][5].startswith("added")
    # JUnit: a failure for the regression, a skipped case for the added benchmark
    xml = junitparser.JUnitXml.fromfile(str(tmp_path / "j.xml"))
    cases = {c.name: c for suite in xml for c in suite}
    assert set(cases) == set(by_name)
    slow_case = cases["matmul/q4_0/cpu/m:64/n:1/k:256"]
    assert isinstance(slow_case.result[0], junitparser.Failure) and "slower by" in slow_case.result[0].message
    assert isinstance(cases["matmul|odd/q4_0/cpu/m:64/n:1/k:256"].result[0], junitparser.Skipped)
    suite = next(iter(xml))
    assert suite.tests == 2 and suite.failures == 1 and suite.skipped == 1
    # the same verdicts through the API
    c = kiln.compare(base, new, junit=tmp_path / "j2.xml")
    assert c.regressed and c.added == 1
    assert (tmp_path / "j2.xml").read_text() == (tmp_path / "j.xml").read_text()
