"""Loading libkiln.so and calling it (ctypes). Internal: use the functions in kiln/__init__.py.

The library is looked for at $KILN_LIBRARY, then beside this package (kiln/_lib/libkiln.so,
bundled by setup.py). Every C call returns 0 or a negative kiln status and leaves a one-line
message in kiln_last_error(); `check` turns that into KilnError.
"""
from __future__ import annotations

import ctypes
import json
import os
from typing import Any, Optional

STATUS_NAMES = {
    -1: "KILN_E_INVALID", -2: "KILN_E_NOMEM", -3: "KILN_E_UNSUPPORTED", -4: "KILN_E_DEVICE",
    -5: "KILN_E_IO", -6: "KILN_E_FORMAT",
}
API_VERSION = 1


class KilnError(Exception):
    """An error kiln reported: its one-line message, and the status (`status`, `status_name`)."""

    def __init__(self, message: str, status: int = -1):
        super().__init__(message)
        self.status = status
        self.status_name = STATUS_NAMES.get(status, "KILN_E_INVALID")


PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                               ctypes.c_uint64, ctypes.c_uint64)

_lib: Optional[ctypes.CDLL] = None


def library_path() -> str:
    env = os.environ.get("KILN_LIBRARY")
    if env:
        if not os.path.isfile(env):
            raise KilnError(f"KILN_LIBRARY={env}: no such file (build libkiln.so with CMake, see the README)")
        return env
    bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lib", "libkiln.so")
    if os.path.isfile(bundled):
        return bundled
    raise KilnError("libkiln.so not found: set KILN_LIBRARY to the CMake build's libkiln.so, or build it "
                    "first and reinstall (cmake --build build && pip install ./python)")


def lib() -> ctypes.CDLL:
    global _lib
    if _lib is not None:
        return _lib
    path = library_path()
    try:
        L = ctypes.CDLL(path)
    except OSError as e:
        raise KilnError(f"cannot load {path}: {e}") from None
    c_char_pp = ctypes.POINTER(ctypes.c_void_p)
    L.kiln_api_version.restype = ctypes.c_int
    L.kiln_api_build.restype = ctypes.c_char_p
    L.kiln_last_error.restype = ctypes.c_char_p
    L.kiln_api_free.argtypes = [ctypes.c_void_p]
    L.kiln_api_free.restype = None
    for name, args in {
        "kiln_api_info": [ctypes.c_char_p, c_char_pp],
        "kiln_api_inspect": [ctypes.c_char_p, ctypes.c_char_p, c_char_pp],
        "kiln_api_convert": [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, PROGRESS_FN, ctypes.c_void_p,
                             c_char_pp],
        "kiln_api_bench_ops": [ctypes.c_char_p, c_char_pp],
        "kiln_api_bench_model": [ctypes.c_char_p, c_char_pp],
        "kiln_api_compare": [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, c_char_pp],
        "kiln_api_history_store": [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                   ctypes.POINTER(ctypes.c_int64)],
        "kiln_api_history": [ctypes.c_char_p, ctypes.c_char_p, c_char_pp],
        "kiln_api_model_open": [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)],
        "kiln_api_model_info": [ctypes.c_void_p, c_char_pp],
        "kiln_api_model_logits": [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_int64,
                                  ctypes.POINTER(ctypes.c_float), ctypes.c_int64],
    }.items():
        fn = getattr(L, name)
        fn.argtypes = args
        fn.restype = ctypes.c_int
    L.kiln_api_model_close.argtypes = [ctypes.c_void_p]
    L.kiln_api_model_close.restype = None
    if L.kiln_api_version() != API_VERSION:
        raise KilnError(f"{path} has API version {L.kiln_api_version()}, this package speaks {API_VERSION}: "
                        "rebuild libkiln.so and the package from one checkout")
    _lib = L
    return L


def check(status: int) -> None:
    if status != 0:
        message = (lib().kiln_last_error() or b"").decode("utf-8", "replace") or STATUS_NAMES.get(status, "error")
        raise KilnError(message, status)


def encode(value: Any, what: str) -> Optional[bytes]:
    """A str or os.PathLike (or None) as the C string the library takes."""
    if value is None:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str or a path, not {type(value).__name__}")
    if "\0" in value:
        raise KilnError(f"{what} contains a NUL character")
    return value.encode("utf-8", "surrogateescape")


def options(**kw: Any) -> bytes:
    """Keyword options (None = the default) as the JSON object text the C calls take."""
    return json.dumps({k: v for k, v in kw.items() if v is not None}).encode()


def take_json(ptr: ctypes.c_void_p) -> Any:
    """Parses a JSON text the library allocated, then frees it."""
    if not ptr.value:
        return None
    try:
        return json.loads(ctypes.string_at(ptr.value).decode("utf-8", "replace"))
    finally:
        lib().kiln_api_free(ptr)
