"""Test helpers: a numerical gradient checker, and minigrad's GPU code path on the CPU with a CuPy stand-in.

``gradcheck(fn, *inputs)`` checks a kernel pair, a ``Function`` or a function of tensors against central
differences in float64 (:mod:`minigrad.testing.gradcheck`).

``fake_cuda()`` serves the ``"cuda"`` device with :mod:`minigrad.testing.fakecupy` for the duration of a
``with`` block, so everything created with ``device="cuda"`` holds ``fakecupy.ndarray`` data, which NumPy
refuses to touch exactly as it refuses CuPy arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from minigrad import backend
from minigrad.testing import fakecupy
from minigrad.testing.gradcheck import GradcheckError, GradcheckResult, gradcheck

__all__ = ["GradcheckError", "GradcheckResult", "fake_cuda", "fakecupy", "gradcheck"]


@contextmanager
def fake_cuda() -> Iterator[ModuleType]:
    """Register the stand-in as ``"cuda"``, yield it, and unregister it on exit (even on errors)."""
    backend.register_device("cuda", fakecupy)
    try:
        yield fakecupy
    finally:
        backend.unregister_device("cuda")
