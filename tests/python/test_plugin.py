"""The pytest plugin end to end, in pytest subprocesses (pytester): the session fails on a planted
slowdown (the reference kernels: KILN_CPU_ISA=ref, as bench_compare_regression does), passes on a
planted speed-up, reads db:REF baselines, and works under pytest-xdist."""
import json
from importlib.metadata import entry_points

import pytest

BENCH_TEST = '''
def test_q4_0_gemv(kiln_bench):
    r = kiln_bench.op("matmul", type="q4_0", shape="m=256,n=1,k=1024", min_time=0.01)
    assert r.ok and r.median_s > 0
'''

TWO_TESTS = BENCH_TEST + '''
def test_q8_0_gemv(kiln_bench):
    r = kiln_bench("matmul", type="q8_0", shape="m=256,n=1,k=1024", min_time=0.01)
    assert r.ok
'''


def test_entry_point_registered():
    assert "kiln.pytest_plugin" in {e.value for e in entry_points(group="pytest11") if e.name == "kiln"}


def run(pytester, monkeypatch, *args, slow=False):
    if slow:
        monkeypatch.setenv("KILN_CPU_ISA", "ref")
    else:
        monkeypatch.delenv("KILN_CPU_ISA", raising=False)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_fails_on_slowdown(pytester, monkeypatch):
    pytester.makepyfile(test_bench=BENCH_TEST)
    base = pytester.path / "base.json"
    r = run(pytester, monkeypatch, "--kiln-save", str(base))
    assert r.ret == 0, r.stdout.str()
    saved = json.loads(base.read_text())
    assert {e["run_name"] for e in saved["benchmarks"]} == {"matmul/q4_0/cpu/m:256/n:1/k:1024"}
    r = run(pytester, monkeypatch, "--kiln-baseline", str(base), "--kiln-threshold", "5%", slow=True)
    out = r.stdout.str()
    assert r.ret == 1, out
    r.assert_outcomes(passed=1)  # the tests pass; the session fails on the slowdown
    assert "SLOWER" in out and "the session fails" in out


def test_passes_on_speedup_and_db_baseline(pytester, monkeypatch):
    pytester.makepyfile(test_bench=BENCH_TEST)
    db = pytester.path / "h.sqlite"
    r = run(pytester, monkeypatch, "--kiln-save", "db:", "--kiln-db", str(db), slow=True)
    assert r.ret == 0, r.stdout.str()
    r = run(pytester, monkeypatch, "--kiln-baseline", "db:latest", "--kiln-db", str(db),
            "--kiln-junit", str(pytester.path / "j.xml"))
    out = r.stdout.str()
    assert r.ret == 0, out
    assert "faster" in out and "0 slower" in out
    assert "<testcase" in (pytester.path / "j.xml").read_text()


def test_xdist(pytester, monkeypatch):
    pytest.importorskip("xdist")
    pytester.makepyfile(test_bench=TWO_TESTS)
    base = pytester.path / "base.json"
    r = run(pytester, monkeypatch, "-n", "2", "--kiln-save", str(base))
    assert r.ret == 0, r.stdout.str()
    names = {e["run_name"] for e in json.loads(base.read_text())["benchmarks"]}
    assert names == {"matmul/q4_0/cpu/m:256/n:1/k:1024", "matmul/q8_0/cpu/m:256/n:1/k:1024"}
    r = run(pytester, monkeypatch, "-n", "2", "--kiln-baseline", str(base), slow=True)
    assert r.ret == 1, r.stdout.str()
    assert r.stdout.str().count("SLOWER") >= 2


def test_twice_in_one_session_is_an_error(pytester, monkeypatch):
    pytester.makepyfile(test_bench=BENCH_TEST + BENCH_TEST.replace("test_q4_0_gemv", "test_again"))
    r = run(pytester, monkeypatch)
    r.assert_outcomes(passed=1, failed=1)
    assert "benchmarked twice in one session" in r.stdout.str()


def test_bad_baseline_is_a_usage_error(pytester, monkeypatch):
    pytester.makepyfile(test_bench=BENCH_TEST)
    r = run(pytester, monkeypatch, "--kiln-baseline", str(pytester.path / "missing.json"))
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    assert "cannot compare against" in r.stdout.str()


def test_model_fixture_in_this_session(kiln_bench, tiny):
    """kiln_bench.model in a test of this very session (the plugin is loaded by its entry point)."""
    r = kiln_bench.model(tiny["f16"], pp=8, tg=4, reps=2, backend="cpu")
    assert {x.name.rsplit("/", 1)[1] for x in r} == {"pp8", "tg4"}
    assert all(x.tokens_per_second > 0 for x in r) and kiln_bench.results == list(r)
