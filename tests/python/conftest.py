"""Fixtures of the Python package's tests (run by ctest's python_package, scripts/test.sh).

Environment (tests/CMakeLists.txt sets it): KILN_BIN (the CLI, to make the tiny model and
check the API against), KILN_GGUF_EDIT (tests/gguf_edit, to make lying models). The package
under test is the installed one (its bundled libkiln.so) unless KILN_LIBRARY names another.
"""
import os
import shutil
import subprocess

import pytest

pytest_plugins = ["pytester"]


def _tool(var):
    path = os.environ.get(var)
    if not path or not os.path.isfile(path):
        pytest.fail(f"{var} is not set to a built tool (run these tests through ctest)")
    return path


@pytest.fixture(scope="session")
def kiln_bin():
    return _tool("KILN_BIN")


@pytest.fixture(scope="session")
def gguf_edit():
    return _tool("KILN_GGUF_EDIT")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory, kiln_bin):
    """The tiny synthetic Llama: its HF folder and an f16 GGUF of it."""
    d = tmp_path_factory.mktemp("tiny")
    subprocess.run([kiln_bin, "synth", "--preset", "tiny", "-o", str(d / "hf")], check=True, capture_output=True)
    subprocess.run([kiln_bin, "convert", str(d / "hf"), "-o", str(d / "f16.gguf"), "--type", "f16",
                    "--no-progress"], check=True, capture_output=True)
    return {"hf": d / "hf", "f16": d / "f16.gguf", "dir": d}


@pytest.fixture(scope="session")
def hostile(tmp_path_factory, tiny, gguf_edit):
    """Files that lie or break: the fuzzers' crash inputs, truncated and garbage files, models
    whose metadata disagrees with their tensors (the reliability issue's cases)."""
    d = tmp_path_factory.mktemp("hostile")
    here = os.path.dirname(os.path.abspath(__file__))
    files = {}
    for name in ("dims_overflow", "empty_file"):
        src = os.path.join(here, "..", "fuzz", "regressions", "gguf", name)
        shutil.copy(src, d / name)
        files[name] = d / name
    data = tiny["f16"].read_bytes()
    (d / "truncated.gguf").write_bytes(data[: len(data) // 2])
    files["truncated"] = d / "truncated.gguf"
    (d / "garbage.gguf").write_bytes(b"GGUF" + os.urandom(4096))
    files["garbage"] = d / "garbage.gguf"
    for name, edit in {"head_count_0": "set:llama.attention.head_count=u32:0",
                       "block_count_huge": "set:llama.block_count=u32:100000",
                       "gemma2": "set:general.architecture=str:gemma2"}.items():
        subprocess.run([gguf_edit, str(tiny["f16"]), str(d / f"{name}.gguf"), edit], check=True, capture_output=True)
        files[name] = d / f"{name}.gguf"
    return files
