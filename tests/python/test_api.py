"""Every call of the kiln package on the tiny model, and its errors as exceptions."""
import json
import os
import subprocess

import numpy as np
import pytest

import kiln

SMALL = dict(op="matmul", type="q4_0", shape="m=64,n=1,k=256", repetitions=3, min_time=0.002, roofline=False)


def test_version_and_info():
    assert kiln.version().startswith(kiln.__version__)
    i = kiln.info(backend="cpu")
    assert i["cpu"]["cores"] >= 1
    assert any(d["name"] == "cpu" for d in i["devices"])
    assert {b["name"] for b in i["backends"]} >= {"cpu", "cuda", "vulkan"}


def test_inspect(tiny):
    d = kiln.inspect(tiny["f16"])
    assert d["metadata"]["general.architecture"] == "llama"
    names = {t["name"] for t in d["tensors"]}
    assert "token_embd.weight" in names and "output_norm.weight" in names
    assert d["model"]["n_layer"] == d["metadata"]["llama.block_count"]
    assert 15 < d["bpw"] < 17  # f16 weights, f32 norms
    # a vocabulary is summarised, not inlined
    assert d["metadata"]["tokenizer.ggml.tokens"]["length"] == d["model"]["n_vocab"]


def test_convert_and_quantize_with_progress(tiny, tmp_path, kiln_bin):
    seen = []
    r = kiln.convert(tiny["hf"], tmp_path / "q8.gguf", type="q8_0", threads=2,
                     progress=lambda done, total, name: seen.append((done, total, name)))
    assert r.bytes_out > 0 and not r.dry_run and 8 < r.bpw < 9
    total = seen[-1][1]
    assert [s[0] for s in seen] == list(range(1, total + 1))
    assert kiln.inspect(tmp_path / "q8.gguf")["types"]["q8_0"]["tensors"] > 0
    q = kiln.quantize(tiny["f16"], tmp_path / "q4km.gguf", "q4_k_m")
    assert q.bytes_out < tiny["f16"].stat().st_size
    # the same bytes as the CLI
    subprocess.run([kiln_bin, "quantize", str(tiny["f16"]), str(tmp_path / "cli.gguf"), "q4_k_m"],
                   check=True, capture_output=True)
    assert (tmp_path / "cli.gguf").read_bytes() == (tmp_path / "q4km.gguf").read_bytes()
    dry = kiln.quantize(tiny["f16"], tmp_path / "dry.gguf", "q4_0", dry_run=True)
    assert dry.dry_run and not (tmp_path / "dry.gguf").exists()


def test_progress_exception_cancels_and_leaves_nothing(tiny, tmp_path):
    class Stop(Exception):
        pass

    def stop(done, total, name):
        if done == 2:
            raise Stop()

    with pytest.raises(Stop):
        kiln.convert(tiny["hf"], tmp_path / "x.gguf", type="q8_0", progress=stop)
    assert os.listdir(tmp_path) == []


def test_bench_ops(tmp_path):
    r = kiln.bench_ops(json=tmp_path / "ops.json", **SMALL)
    assert len(r) == 1 and r[0].ok
    assert r[0].name == "matmul/q4_0/cpu/m:64/n:1/k:256"
    assert len(r[0].times_s) == 3 and r[0].median_s > 0 and r[0].flops > 0
    assert json.load(open(tmp_path / "ops.json"))["benchmarks"][0]["run_name"] == r[0].name
    df = r.to_pandas()
    assert list(df["name"]) == [r[0].name] and df["median_s"][0] == r[0].median_s


def test_bench_model(tiny):
    r = kiln.bench_model(tiny["f16"], pp=8, tg=4, reps=2, backend="cpu", roofline=False)
    names = [x.name for x in r]
    assert any(n.endswith("/pp8") for n in names) and any(n.endswith("/tg4") for n in names)
    assert all(x.tokens_per_second > 0 for x in r)


def test_compare_planted(tmp_path):
    fast = kiln.bench_ops(**dict(SMALL, repetitions=9))
    for e in fast.document["benchmarks"]:  # planted times: the verdict must not hang on machine noise
        e["real_time"] = e["cpu_time"] = 1.0 + 0.002 * e.get("repetition_index", 0)
    fast = kiln.BenchResults(fast.document)
    doc = json.loads(json.dumps(fast.document))
    for e in doc["benchmarks"]:  # the same, 50% slower
        e["real_time"] *= 1.5
        e["cpu_time"] *= 1.5
    c = kiln.compare(fast, doc, threshold="5%")
    assert c.regressed and c.slower == 1 and c.rows[0].verdict == "SLOWER"
    assert 0.45 < c.rows[0].change < 0.55 and c.rows[0].p_value < 0.05
    assert "**SLOWER**" in c.markdown
    assert not kiln.compare(doc, fast).regressed


def test_run_logits_match_cli(tiny, tmp_path, kiln_bin):
    tokens = [1, 5, 9, 2]
    logits = kiln.run(tiny["f16"], tokens)
    n_vocab = kiln.inspect(tiny["f16"])["model"]["n_vocab"]
    assert logits.shape == (4, n_vocab) and logits.dtype == np.float32 and np.isfinite(logits).all()
    subprocess.run([kiln_bin, "run", str(tiny["f16"]), "--tokens", "1,5,9,2", "--backend", "cpu",
                    "--logits", str(tmp_path / "l.bin")], check=True, capture_output=True)
    cli = np.fromfile(tmp_path / "l.bin", dtype=np.float32).reshape(4, n_vocab)
    np.testing.assert_array_equal(logits, cli)
    with kiln.Model(tiny["f16"], ctx=8) as m:
        np.testing.assert_array_equal(m.logits(tokens), logits)
        with pytest.raises(kiln.KilnError, match="outside the vocabulary"):
            m.logits([1, n_vocab])
        with pytest.raises(kiln.KilnError, match="do not fit the context"):
            m.logits([1] * 9)
        with pytest.raises(TypeError):
            m.logits([[1, 2]])
    with pytest.raises(kiln.KilnError, match="closed"):
        m.logits(tokens)


def test_errors_are_exceptions(tmp_path):
    with pytest.raises(kiln.KilnError, match="unknown option 'bogus'"):
        kiln._call_json(kiln.lib().kiln_api_info, b'{"bogus": 1}')
    with pytest.raises(kiln.KilnError, match="No such file"):
        kiln.inspect(tmp_path / "missing.gguf")
    with pytest.raises(kiln.KilnError, match="unknown type 'q9_9'"):
        kiln.bench_ops(op="matmul", type="q9_9", shape="m=64,n=1,k=256")
    with pytest.raises(kiln.KilnError, match="op 'matmull'"):
        kiln.bench_ops(op="matmull", type="q4_0")
    with pytest.raises(kiln.KilnError, match="needs m,n,k"):
        kiln.bench_ops(shape="m=1")
    with pytest.raises(kiln.KilnError, match="threshold"):
        kiln.compare("a.json", "b.json", threshold="fast")
    with pytest.raises(kiln.KilnError, match="a.json"):
        kiln.compare(tmp_path / "a.json", tmp_path / "b.json")
    with pytest.raises(TypeError):
        kiln.inspect(42)
    e = pytest.raises(kiln.KilnError, kiln.inspect, tmp_path / "missing.gguf").value
    assert e.status_name == "KILN_E_IO" and "\n" not in str(e)


BROKEN = ["dims_overflow", "empty_file", "truncated", "garbage"]
LYING = ["head_count_0", "block_count_huge", "gemma2"]


def _one_line_error(call):
    with pytest.raises(kiln.KilnError) as e:
        call()
    assert str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("name", BROKEN + LYING)
def test_hostile_files_raise(hostile, name, tmp_path):
    """Broken files fail every call; lying models fail every call that runs them (gemma2 is
    inspectable: kiln just does not run it), and quantizing one either works or raises. Nothing
    crashes the interpreter, nothing is left behind."""
    path = hostile[name]
    _one_line_error(lambda: kiln.run(path, [1, 2]))
    _one_line_error(lambda: kiln.bench_model(path, pp=4, tg=2, reps=1, backend="cpu", roofline=False))
    if name != "gemma2":
        _one_line_error(lambda: kiln.inspect(path))
    if name in BROKEN:
        _one_line_error(lambda: kiln.quantize(path, tmp_path / "out.gguf", "q8_0"))
        assert not (tmp_path / "out.gguf").exists()
    else:
        try:
            kiln.quantize(path, tmp_path / "out.gguf", "q8_0")
        except kiln.KilnError as e:
            assert "\n" not in str(e) and not (tmp_path / "out.gguf").exists()
