"""kiln from Python: quantize model files, benchmark kernels and models, compare results, keep a
history, run a model, over libkiln.so (ctypes; the library's C API is api/kiln.h).

    import kiln
    kiln.info()["cpu"]["isa_features"]
    r = kiln.bench_ops(op="matmul", type="q4_0", shape="m=4096,n=1,k=4096")
    r[0].median_s, r.to_pandas()
    kiln.compare("base.json", r).regressed
    kiln.run("model.gguf", [1, 2, 3])           # numpy array, tokens x vocabulary

Every error kiln reports raises KilnError with kiln's one-line message; wrong Python types raise
TypeError. Calls are serialised inside the library (one device layer per process).
"""
from __future__ import annotations

import ctypes
import json
import os
import tempfile
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from kiln._lib import KilnError, PROGRESS_FN, check, encode, lib, options, take_json
from kiln._results import (BenchResult, BenchResults, Comparison, ComparisonRow, ConvertResult, HistoryPoint,
                           HistorySeries, comparison_from_json)

__all__ = ["KilnError", "BenchResult", "BenchResults", "Comparison", "ComparisonRow", "ConvertResult",
           "HistoryPoint", "HistorySeries", "Model", "info", "inspect", "convert", "quantize", "bench_ops",
           "bench_model", "compare", "store", "history", "run", "version"]
__version__ = "0.1.0"

PathLike = Union[str, "os.PathLike[str]"]
Progress = Callable[[int, int, str], Any]


def version() -> str:
    """The library's version and commit, e.g. '0.1.0 (412a413d0fab)'."""
    return lib().kiln_api_build().decode()


def _call_json(fn, *args) -> Any:
    out = ctypes.c_void_p()
    check(fn(*args, ctypes.byref(out)))
    return take_json(out)


def info(threads: Optional[int] = None, backend: Optional[str] = None) -> Dict[str, Any]:
    """What `kiln info --json` prints: build, CPU (model, cores, caches, ISA features), devices
    with memory and kernel counts, and each backend's status with the reason it is absent."""
    return _call_json(lib().kiln_api_info, options(threads=threads, backend=backend))


def inspect(path: PathLike, check_model: bool = True) -> Dict[str, Any]:
    """A GGUF file's metadata, tensors (name, type, shape, bytes), per-type totals and bits per
    weight, and the model's shape where kiln runs it (a file that lies about itself raises)."""
    return _call_json(lib().kiln_api_inspect, encode(path, "path"), options(check=check_model))


def _threshold(value: Union[float, str, None]) -> Optional[float]:
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value).strip()
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise KilnError(f"threshold '{value}': expected 5% or 0.05") from None


def convert(src: PathLike, dst: PathLike, type: Optional[str] = None, threads: Optional[int] = None,
            progress: Optional[Progress] = None, imatrix: Optional[PathLike] = None,
            tensor_type: Optional[str] = None, pure: bool = False, output_tensor_type: Optional[str] = None,
            token_embedding_type: Optional[str] = None, leave_output_tensor: bool = False,
            dry_run: bool = False) -> ConvertResult:
    """A Hugging Face folder (type default f16) or a GGUF file (type required) -> GGUF, as
    `kiln convert` / `kiln quantize`: the same bytes as llama.cpp's tools. `progress(done, total,
    tensor)` is called after each tensor; an exception in it cancels the conversion (no output
    file is left) and is re-raised here."""
    failure: List[BaseException] = []

    def on_progress(_user, done, total, tensor, _bytes_done, _bytes_total):
        try:
            progress(done, total, tensor.decode("utf-8", "replace"))
            return 0
        except BaseException as e:  # KeyboardInterrupt too: cancel cleanly, then re-raise
            failure.append(e)
            return 1

    cb = PROGRESS_FN(on_progress) if progress else PROGRESS_FN()
    opts = options(type=type, threads=threads, imatrix=os.fspath(imatrix) if imatrix else None,
                   tensor_type=tensor_type, pure=pure or None, output_tensor_type=output_tensor_type,
                   token_embedding_type=token_embedding_type, leave_output_tensor=leave_output_tensor or None,
                   dry_run=dry_run or None)
    out = ctypes.c_void_p()
    status = lib().kiln_api_convert(encode(src, "src"), encode(dst, "dst"), opts, cb, None, ctypes.byref(out))
    if failure:
        take_json(out)
        raise failure[0]
    check(status)
    d = take_json(out)
    return ConvertResult(int(d["bytes_in"]), int(d["bytes_out"]), int(d["elements"]), d["bpw"], d["rel_rmse"],
                         d["seconds"], d["dry_run"])


def quantize(src: PathLike, dst: PathLike, type: str, **kw: Any) -> ConvertResult:
    """A GGUF file -> GGUF of another type or mix (q4_k_m, q8_0, iq4_xs, ...); options as convert."""
    if os.path.isdir(os.fspath(src)):
        raise KilnError(f"quantize: {os.fspath(src)} is a folder; quantize takes a GGUF file (kiln.convert "
                        "takes Hugging Face folders)")
    return convert(src, dst, type=type, **kw)


def bench_ops(op: Optional[str] = None, type: Optional[str] = None, shape: Optional[str] = None,
              shapes: Optional[str] = None, backend: Optional[str] = None, threads: Optional[int] = None,
              min_time: Optional[float] = None, repetitions: Optional[int] = None, max_cv: Optional[float] = None,
              roofline: bool = True, cache_hot: bool = False, json: Optional[PathLike] = None,
              db: Optional[PathLike] = None) -> BenchResults:
    """`kiln bench ops`: each (op, type, shape) checked against the reference, then timed; with
    the roofline measured in the same run unless roofline=False. cache_hot=True reuses one copy
    of W (cache-resident, as ggml's test-backend-ops; names end in /hot). json= also writes the
    file, db= appends the run to a results history."""
    return BenchResults(_call_json(lib().kiln_api_bench_ops, options(
        op=op, type=type, shape=shape, shapes=shapes, backend=backend, threads=threads, min_time=min_time,
        repetitions=repetitions, max_cv=max_cv, roofline=roofline, cache_hot=cache_hot or None,
        json=_path(json), db=_path(db))))


def bench_model(model: PathLike, pp: Optional[int] = None, tg: Optional[int] = None, depth: Optional[int] = None,
                reps: Optional[int] = None, backend: Optional[str] = None, threads: Optional[int] = None,
                roofline: bool = True, graphs: bool = True, json: Optional[PathLike] = None,
                db: Optional[PathLike] = None) -> BenchResults:
    """`kiln bench model`: prefill (ppN) and decode (tgN) tokens/s of a GGUF model, llama-bench's
    tests; each result's tokens_per_second and the document's counters (memory, roofline)."""
    return BenchResults(_call_json(lib().kiln_api_bench_model, options(
        model=_path(model), pp=pp, tg=tg, depth=depth, reps=reps, backend=backend, threads=threads,
        roofline=roofline, graphs=graphs, json=_path(json), db=_path(db))))


def _path(p: Optional[PathLike]) -> Optional[str]:
    if p is None:
        return None
    if not isinstance(p, (str, os.PathLike)):
        raise TypeError(f"expected a path, not {type(p).__name__}")
    return os.fspath(p)


Source = Union[PathLike, BenchResults, Dict[str, Any]]


def compare(base: Source, new: Source, threshold: Union[float, str] = 0.05, alpha: float = 0.05,
            cpu: bool = False, db: Optional[PathLike] = None, machine: Optional[str] = None,
            junit: Optional[PathLike] = None) -> Comparison:
    """`kiln compare`: each benchmark by the change of its median and the Mann-Whitney U test;
    SLOWER needs both size (> threshold) and significance (p < alpha). base/new: a JSON file,
    "db:COMMIT" (from the history db=), or results/documents in memory."""
    with tempfile.TemporaryDirectory(prefix="kiln-compare-") as tmp:
        a, b = _source(base, tmp, "base"), _source(new, tmp, "new")
        d = _call_json(lib().kiln_api_compare, a, b, options(
            threshold=_threshold(threshold), alpha=alpha, cpu=cpu or None, db=_path(db), machine=machine,
            junit=_path(junit), base_label=_label(base), new_label=_label(new)))
    return comparison_from_json(d)


def _label(s: Source) -> str:
    if isinstance(s, (BenchResults, dict)):
        doc = s.document if isinstance(s, BenchResults) else s
        commit = doc.get("context", {}).get("kiln_git_commit")
        return f"results in memory (commit {commit})" if commit else "results in memory"
    return os.fspath(s) if isinstance(s, os.PathLike) else str(s)


def _source(s: Source, tmp: str, what: str) -> bytes:
    if isinstance(s, BenchResults):
        s = s.document
    if isinstance(s, dict):
        path = os.path.join(tmp, what + ".json")
        with open(path, "w") as f:
            json.dump(s, f)
        return encode(path, what)
    return encode(s, what)


def store(results: Union[BenchResults, Dict[str, Any]], db: PathLike, source: str = "python") -> int:
    """Appends results to the results history `db` (SQLite; created if absent): the run id."""
    doc = results.document if isinstance(results, BenchResults) else results
    run = ctypes.c_int64(0)
    check(lib().kiln_api_history_store(encode(db, "db"), json.dumps(doc).encode(), encode(source, "source"),
                                       ctypes.byref(run)))
    return run.value


def history(db: PathLike, name: Optional[str] = None, machine: Optional[str] = None,
            threshold: Union[float, str] = 0.05, alpha: float = 0.05, window: int = 5) -> List[HistorySeries]:
    """Each benchmark's series across the runs stored in `db`, oldest first, with change points
    (a step beyond the threshold, significant, confirmed by the next run): `kiln history`."""
    d = _call_json(lib().kiln_api_history, encode(db, "db"), options(
        name=name, machine=machine, threshold=_threshold(threshold), alpha=alpha, window=window))
    return [HistorySeries(s["name"], s["machine"], [HistoryPoint(**p) for p in s["points"]]) for s in d]


class Model:
    """A GGUF model loaded on one device; `logits(tokens)` evaluates from a fresh context.

        with kiln.Model("model.gguf", ctx=256) as m:
            m.logits([1, 2, 3]).shape     # (3, n_vocab)
    """

    def __init__(self, path: PathLike, backend: str = "cpu", threads: Optional[int] = None, ctx: int = 512):
        handle = ctypes.c_void_p()
        check(lib().kiln_api_model_open(encode(path, "path"), options(backend=backend, threads=threads, ctx=ctx),
                                        ctypes.byref(handle)))
        self._handle = handle
        self.info: Dict[str, Any] = _call_json(lib().kiln_api_model_info, handle)
        self.n_vocab: int = int(self.info["n_vocab"])
        self.n_ctx: int = int(self.info["n_ctx"])

    def logits(self, tokens: Sequence[int]):
        import numpy as np
        if self._handle is None:
            raise KilnError("the model is closed")
        try:
            arr = np.asarray(tokens)
        except Exception:
            raise TypeError("tokens must be a sequence of integers") from None
        if arr.ndim != 1 or arr.size == 0 or (arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(arr == np.floor(arr)))):
            raise TypeError("tokens must be a non-empty 1-D sequence of integers")
        if arr.size and (arr.min() < -2**31 or arr.max() >= 2**31):
            raise KilnError(f"token ids must fit int32 (got {arr.min()}..{arr.max()})")
        ids = np.ascontiguousarray(arr, dtype=np.int32)
        out = np.empty((ids.size, self.n_vocab), dtype=np.float32)
        check(lib().kiln_api_model_logits(self._handle, ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                                          ids.size, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), out.size))
        return out

    def close(self) -> None:
        if self._handle is not None:
            lib().kiln_api_model_close(self._handle)
            self._handle = None

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def run(model: PathLike, tokens: Sequence[int], backend: str = "cpu", threads: Optional[int] = None,
        ctx: Optional[int] = None):
    """The logits of every position of `tokens` (numpy float32, len(tokens) x n_vocab), as
    `kiln run --logits` writes them."""
    n = len(tokens) if hasattr(tokens, "__len__") else 0
    with Model(model, backend=backend, threads=threads, ctx=ctx or max(n, 1)) as m:
        return m.logits(tokens)
