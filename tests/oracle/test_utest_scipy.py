"""kiln's Mann-Whitney U test against scipy.stats.mannwhitneyu (alternative="two-sided",
method "auto"), the test Google Benchmark's tools/compare.py calls: exact small samples,
ties (asymptotic with tie correction), unequal sizes, large samples.

usage: test_utest_scipy.py PATH/TO/stats_dump       (exit 77 = skipped: numpy/scipy missing)
"""
import subprocess
import sys

try:
    import numpy as np
    from scipy.stats import mannwhitneyu
except ImportError as e:
    from oracle_skip import skip
    skip(f"{e} (scripts/test.sh installs numpy and scipy into .venv)")


def kiln(tool, a, b):
    out = subprocess.run([tool, ",".join(repr(float(v)) for v in a), ",".join(repr(float(v)) for v in b)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(7)
    cases = [([19, 22, 16, 29, 24], [20, 11, 17, 12])]
    for n1, n2 in [(2, 2), (3, 5), (5, 4), (8, 8), (9, 9), (4, 20), (12, 7), (30, 30), (60, 45)]:
        cases.append((rng.normal(0, 1, n1), rng.normal(0.5, 1, n2)))
        cases.append((rng.integers(0, 5, n1), rng.integers(0, 5, n2)))  # many ties
    cases.append(([1.0] * 9, [1.0] * 9))                                  # all tied
    passed = failed = 0
    for a, b in cases:
        ref = mannwhitneyu(a, b, alternative="two-sided")
        u1, p = kiln(tool, a, b)
        ok = abs(u1 - ref.statistic) < 1e-9 and (abs(p - ref.pvalue) < 1e-9 or
                                                 (np.isnan(p) and np.isnan(ref.pvalue)))
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL n=({len(a)},{len(b)}): kiln U={u1} p={p}, scipy U={ref.statistic} p={ref.pvalue}")
    print(f"test_utest_scipy: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
