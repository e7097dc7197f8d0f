"""kiln's pytest plugin (entry point `kiln`): benchmarks inside tests, compared against a baseline
at the end of the session with the same test as `kiln compare`.

    def test_q4_0_gemv(kiln_bench):
        r = kiln_bench.op("matmul", type="q4_0", shape="m=4096,n=1,k=4096")
        assert r.ok

    pytest --kiln-save base.json                      # on the base branch
    pytest --kiln-baseline base.json --kiln-threshold 5%
    pytest --kiln-baseline db:4d6d238 --kiln-db results.sqlite

The session fails (exit status 1) when any benchmark is significantly slower than its baseline by
more than the threshold (Mann-Whitney U test over the repetitions, alpha 0.05, as kiln compare).
A benchmark the baseline lacks is reported as added, not failed.

Under pytest-xdist the benchmarks of all workers are serialised by a lock file (two benchmarks
timed at once would each measure the other), and each worker's results travel back to the
controller, which compares once for the whole session.
"""
from __future__ import annotations

import copy
import fcntl
import json
import os
import tempfile
from typing import Any, Dict, List, Optional

import pytest

import kiln

_DOCS = pytest.StashKey[List[Dict[str, Any]]]()
_REPORT = pytest.StashKey[Any]()


def pytest_addoption(parser):
    g = parser.getgroup("kiln", "kiln benchmarks")
    g.addoption("--kiln-baseline", metavar="FILE|db:REF",
                help="compare every kiln_bench benchmark against these results (a Google Benchmark JSON "
                     "file, or db:COMMIT from --kiln-db); a significant slowdown fails the session")
    g.addoption("--kiln-save", metavar="FILE|db:",
                help="write this session's benchmarks as Google Benchmark JSON (or, 'db:', append them to "
                     "the --kiln-db history)")
    g.addoption("--kiln-threshold", metavar="T", default="5%",
                help="smallest slowdown that counts: 5%% or 0.05 (default 5%%)")
    g.addoption("--kiln-alpha", metavar="A", type=float, default=0.05,
                help="significance level of the U test (default 0.05)")
    g.addoption("--kiln-db", metavar="FILE", default=None,
                help="the results history for db:REF and --kiln-save db: (default $KILN_DB, else "
                     "results.sqlite)")
    g.addoption("--kiln-junit", metavar="FILE", default=None,
                help="also write the comparison as JUnit XML (a test case per benchmark)")


def _db(config) -> str:
    return config.getoption("kiln_db") or os.environ.get("KILN_DB") or "results.sqlite"


def pytest_configure(config):
    config.stash[_DOCS] = []
    try:
        threshold = kiln._threshold(config.getoption("kiln_threshold"))
    except kiln.KilnError as e:
        raise pytest.UsageError(f"--kiln-threshold: {e}")
    if threshold is None or threshold < 0:
        raise pytest.UsageError("--kiln-threshold must be >= 0")


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


class _Lock:
    """One benchmark at a time across xdist workers (a no-op in a plain session)."""

    def __init__(self, config):
        self.path = None
        if _is_worker(config):
            uid = config.workerinput.get("testrunuid", "session")
            self.path = os.path.join(tempfile.gettempdir(), f"kiln-bench-{uid}.lock")
        self.fd = None

    def __enter__(self):
        if self.path:
            self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


class KilnBench:
    """The `kiln_bench` fixture: benchmarks an op or a model and records it for the session."""

    def __init__(self, config, node_id: str):
        self._config = config
        self._node = node_id
        self.results: List[kiln.BenchResult] = []

    def _record(self, r: kiln.BenchResults) -> kiln.BenchResults:
        docs = self._config.stash[_DOCS]
        seen = {e.get("run_name") for d in docs for e in d["benchmarks"]}
        for e in r.document["benchmarks"]:
            if e.get("run_name") in seen and not e.get("run_name", "").startswith("roofline/"):
                raise kiln.KilnError(f"{e['run_name']} was benchmarked twice in one session ({self._node}): "
                                     "each benchmark name may appear once, or the comparison would mix them")
        doc = copy.deepcopy(r.document)
        doc["benchmarks"] = [e for e in doc["benchmarks"] if not e.get("run_name", "").startswith("roofline/")]
        docs.append(doc)
        self.results.extend(r)
        return r

    def op(self, op: str = "matmul", type: Optional[str] = None, shape: Optional[str] = None, **kw: Any) -> kiln.BenchResult:
        """An op benchmark (kiln.bench_ops's options): its BenchResult, or BenchResults when the
        options name several (a type list). min_time and repetitions default to 0.05 s and 9
        (the U test wants >= 9 a side); no roofline (it measures the machine, not the code)."""
        kw.setdefault("min_time", 0.05)
        kw.setdefault("repetitions", 9)
        kw.setdefault("roofline", False)
        with _Lock(self._config):
            r = kiln.bench_ops(op=op, type=type, shape=shape, **kw)
        self._record(r)
        return r[0] if len(r) == 1 else r

    __call__ = op

    def model(self, path, **kw: Any) -> kiln.BenchResults:
        """A model benchmark (kiln.bench_model's options)."""
        kw.setdefault("roofline", False)
        with _Lock(self._config):
            r = kiln.bench_model(path, **kw)
        return self._record(r)


@pytest.fixture
def kiln_bench(request) -> KilnBench:
    return KilnBench(request.config, request.node.nodeid)


def _session_document(docs: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if not docs:
        return None
    merged = {"context": copy.deepcopy(docs[0]["context"]), "benchmarks": []}
    for family, d in enumerate(docs):  # family indices renumbered so each call keeps its own
        base = 1000 * family
        for e in d["benchmarks"]:
            e = dict(e)
            e["family_index"] = base + int(e.get("family_index", 0))
            merged["benchmarks"].append(e)
    return merged


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if _is_worker(config):
        config.workeroutput["kiln_docs"] = json.dumps(config.stash[_DOCS])
        return
    doc = _session_document(config.stash[_DOCS])
    config.stash[_REPORT] = None
    if doc is None:
        return
    save = config.getoption("kiln_save")
    if save == "db:":
        kiln.store(doc, _db(config), source="pytest")
    elif save:
        tmp = f"{save}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, save)
    baseline = config.getoption("kiln_baseline")
    if baseline:
        try:
            c = kiln.compare(baseline, doc, threshold=config.getoption("kiln_threshold"),
                             alpha=config.getoption("kiln_alpha"), db=_db(config),
                             junit=config.getoption("kiln_junit"))
        except kiln.KilnError as e:
            config.stash[_REPORT] = ("error", str(e))
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        config.stash[_REPORT] = ("compare", c)
        if c.regressed:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED



@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # xdist controller: a worker's benchmarks arrive
    docs = json.loads(node.workeroutput.get("kiln_docs", "[]"))
    node.config.stash[_DOCS].extend(docs)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    report = config.stash.get(_REPORT, None)
    n = sum(len({e.get("run_name") for e in d["benchmarks"]}) for d in config.stash[_DOCS])
    if not n and not report:
        return
    tr = terminalreporter
    tr.section("kiln benchmarks")
    if report is None:
        tr.write_line(f"{n} benchmark(s) run; no --kiln-baseline to compare against")
        return
    kind, value = report
    if kind == "error":
        tr.write_line(f"kiln: cannot compare against {config.getoption('kiln_baseline')}: {value}", red=True)
        return
    c: kiln.Comparison = value
    tr.write_line(f"{'benchmark':60} {'base (us)':>12} {'new (us)':>12} {'change':>8} {'p-value':>8}  verdict")
    for r in c.rows:
        if r.change is None:
            tr.write_line(f"{r.name:60} {'':>12} {'':>12} {'':>8} {'':>8}  {r.verdict} ({r.why})")
            continue
        p = f"{r.p_value:.4f}" if r.p_value is not None else "-"
        tr.write_line(f"{r.name:60} {r.old_median_s * 1e6:12.3f} {r.new_median_s * 1e6:12.3f} "
                      f"{r.change * 100:+7.1f}% {p:>8}  {r.verdict}", red=r.verdict == "SLOWER",
                      green=r.verdict == "faster")
    tr.write_line(f"kiln: {c.slower} slower, {c.faster} faster, {c.same} same, {c.noisy} noisy; "
                  f"{c.added} added, {c.removed} removed (threshold {c.threshold * 100:.1f}%, alpha {c.alpha:g})"
                  + ("  -> the session fails: a significant slowdown" if c.regressed else ""),
                  red=c.regressed, bold=c.regressed)
