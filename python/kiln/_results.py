"""Typed results: benchmark entries, comparisons, the history's series."""
from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class BenchResult:
    """One benchmark (a run name) of a Google Benchmark document: its repetitions and counters."""
    name: str
    times_s: List[float]             # real time of each repetition, seconds per iteration
    median_s: float
    mean_s: float
    stddev_s: float
    cv: float                        # stddev / mean
    bytes_per_second: Optional[float] = None   # medians of the repetitions' counters
    flops: Optional[float] = None
    roofline_fraction: Optional[float] = None
    tokens_per_second: Optional[float] = None  # model benchmarks
    label: str = ""
    error: Optional[str] = None      # the benchmark failed its check or errored
    skipped: Optional[str] = None    # the device cannot run it (why)

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None


def _median(values: List[float]) -> Optional[float]:
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


_UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def results_from_document(doc: Dict[str, Any]) -> List[BenchResult]:
    """The per-run-name results of a Google Benchmark document (iterations; aggregates dropped)."""
    groups: Dict[str, List[Dict[str, Any]]] = {}
    for e in doc.get("benchmarks", []):
        if e.get("run_type") == "aggregate":
            continue
        groups.setdefault(e.get("run_name") or e["name"], []).append(e)
    out = []
    for name, entries in groups.items():
        first = entries[0]
        if first.get("error_occurred") or first.get("skipped"):
            out.append(BenchResult(name, [], float("nan"), float("nan"), float("nan"), float("nan"),
                                   label=first.get("label", ""),
                                   error=first.get("error_message") if first.get("error_occurred") else None,
                                   skipped=first.get("skip_message") if first.get("skipped") else None))
            continue
        times = [e["real_time"] * _UNIT.get(e.get("time_unit", "ns"), 1e-9) for e in entries]
        mean = statistics.fmean(times)
        sd = statistics.stdev(times) if len(times) > 1 else 0.0
        out.append(BenchResult(
            name, times, statistics.median(times), mean, sd, sd / mean if mean else float("nan"),
            bytes_per_second=_median([e.get("bytes_per_second") for e in entries]),
            flops=_median([e.get("flops") for e in entries]),
            roofline_fraction=_median([e.get("roofline_fraction") for e in entries]),
            tokens_per_second=_median([e.get("tokens_per_second") for e in entries]),
            label=first.get("label", "")))
    return out


class BenchResults(List[BenchResult]):
    """The results of one kiln.bench_ops / bench_model call: a list of BenchResult, with the whole
    Google Benchmark document (`document`) for saving, storing or comparing."""

    def __init__(self, document: Dict[str, Any]):
        super().__init__(results_from_document(document))
        self.document = document

    def save(self, path: "os.PathLike[str] | str") -> None:
        """Writes the Google Benchmark JSON (kiln compare, compare.py and the plugin read it)."""
        tmp = f"{os.fspath(path)}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(self.document, f, indent=1)
        os.replace(tmp, path)

    def to_pandas(self):
        """A pandas DataFrame, one row per benchmark (pandas must be installed)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("BenchResults.to_pandas() needs pandas: pip install pandas") from None
        rows = []
        for r in self:
            rows.append({"name": r.name, "median_s": r.median_s, "mean_s": r.mean_s, "stddev_s": r.stddev_s,
                         "cv": r.cv, "repetitions": len(r.times_s), "bytes_per_second": r.bytes_per_second,
                         "flops": r.flops, "roofline_fraction": r.roofline_fraction,
                         "tokens_per_second": r.tokens_per_second, "error": r.error, "skipped": r.skipped})
        return pd.DataFrame(rows)


@dataclass
class ComparisonRow:
    name: str
    verdict: str                 # same, noisy, SLOWER, faster, added, removed, not compared
    old_median_s: Optional[float]
    new_median_s: Optional[float]
    change: Optional[float]      # (new - old) / old
    p_value: Optional[float]     # Mann-Whitney U test; None with < 2 repetitions a side
    n_old: int = 0
    n_new: int = 0
    tested: bool = False
    why: Optional[str] = None


@dataclass
class Comparison:
    """kiln compare's verdicts: `regressed` is True when any benchmark is significantly slower
    by more than the threshold (the CLI's exit status 1)."""
    rows: List[ComparisonRow]
    slower: int
    faster: int
    same: int
    noisy: int
    not_compared: int
    added: int
    removed: int
    threshold: float
    alpha: float
    geomean_change: Optional[float]
    markdown: str = field(repr=False, default="")

    @property
    def regressed(self) -> bool:
        return self.slower > 0

    def __str__(self) -> str:
        return self.markdown


def comparison_from_json(d: Dict[str, Any]) -> Comparison:
    s = d["summary"]
    rows = [ComparisonRow(r["name"], r["verdict"], r.get("old_median_s"), r.get("new_median_s"), r.get("change"),
                          r.get("p_value"), r.get("n_old", 0), r.get("n_new", 0), r.get("tested", False),
                          r.get("why")) for r in d["rows"]]
    return Comparison(rows, s["slower"], s["faster"], s["same"], s["noisy"], s["not_compared"], s["added"],
                      s["removed"], d["threshold"], d["alpha"], d.get("geomean_change"), d.get("markdown", ""))


@dataclass
class HistoryPoint:
    run: int
    commit: str
    date: str
    median_s: Optional[float]
    reps: int
    change: int                  # +1 a confirmed step slower starts here, -1 faster, 0 none
    unconfirmed: bool            # a step in the newest run alone
    step: Optional[float]
    p_value: Optional[float]


@dataclass
class HistorySeries:
    name: str
    machine: str
    points: List[HistoryPoint]

    @property
    def change_points(self) -> List[HistoryPoint]:
        return [p for p in self.points if p.change]


@dataclass
class ConvertResult:
    bytes_in: int
    bytes_out: int
    elements: int
    bpw: float
    rel_rmse: float
    seconds: float
    dry_run: bool
