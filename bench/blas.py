"""Which BLAS NumPy multiplies matrices with, and which CPU kernels it chose: the SGEMM ceiling depends on both.

OpenBLAS built with DYNAMIC_ARCH (NumPy's wheels) picks its kernels for the CPU at load time, unless the
environment variable ``OPENBLAS_CORETYPE`` names a core. Forcing an older core costs speed silently: on an
AVX-512 machine, ``OPENBLAS_CORETYPE=Haswell`` runs AVX2 kernels at about half the SGEMM rate, while
PyTorch (oneDNN) still uses AVX-512. So the benchmark report says which core ran, and who chose it.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

# what OpenBLAS's "which core am I using" function is called in the builds NumPy ships
_CORENAME_SYMBOLS = ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                     "openblas_get_corename")


def _loaded_openblas_paths(maps: str = "/proc/self/maps") -> list[str]:
    try:
        with open(maps) as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    return sorted(p for p in paths if p.startswith("/"))


def openblas_core() -> str | None:
    """The kernel family the loaded OpenBLAS runs ("Haswell", "SkylakeX" ...), or None when unknown."""
    for path in _loaded_openblas_paths():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in _CORENAME_SYMBOLS:
            function = getattr(library, symbol, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                return function().decode()
    return None


def blas_info() -> dict[str, Any]:
    """NumPy's BLAS: library, version, the core it runs and the environment variable that forced it, if any."""
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (KeyError, TypeError):
        blas = {}
    forced = os.environ.get("OPENBLAS_CORETYPE") or None
    return {"library": blas.get("name"), "version": blas.get("version"), "core": openblas_core(),
            "forced_core": forced}


def describe(info: dict[str, Any]) -> str:
    """One phrase for the report's machine line, e.g. "scipy-openblas 0.3.31, Haswell kernels"."""
    if not info.get("library"):
        return "BLAS unknown"
    text = f"{info['library']} {info.get('version') or ''}".strip()
    if info.get("core"):
        text += f", {info['core']} kernels"
    if info.get("forced_core"):
        text += f" (forced by OPENBLAS_CORETYPE={info['forced_core']})"
    return text
