"""Functions that make new tensors: from data, filled, ranges and random draws.

Shapes can be given as separate ints or one tuple: ``zeros(2, 3) == zeros((2, 3))``.
Floats default to float32; random draws come from :mod:`minigrad.random`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend, dtypes
from .random import get_generator
from .tensor import Tensor

__all__ = [
    "arange", "empty", "eye", "full", "full_like", "linspace", "ones", "ones_like", "rand", "rand_like",
    "randint", "randn", "randn_like", "tensor", "zeros", "zeros_like",
]


def _shape(shape: tuple[Any, ...], op: str) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ValueError(f"{op}: shape must be non-negative ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def _float_default(dtype: Any) -> np.dtype:
    """``dtype`` resolved, with None meaning float32 (never NumPy's float64 or int64 defaults)."""
    return dtypes.float32 if dtype is None else dtypes.resolve_dtype(dtype)


def _make(array: Any, dtype: Any, device: str | None, requires_grad: bool) -> Tensor:
    """Wrap a freshly made host or device array (it is ours, so no copy)."""
    xp = backend.array_module(device)
    array = xp.asarray(backend.to_device(array, backend.normalize_device(device)))
    if dtype is not None:
        array = array.astype(dtypes.resolve_dtype(dtype), copy=False)
    out = Tensor._wrap(array)
    if requires_grad:
        out.requires_grad_(True)
    return out


def tensor(data: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (lists, numbers, arrays or tensors)."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def full(*shape: Any, fill_value: float, dtype: Any = dtypes.float32, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    xp = backend.array_module(device)
    array = xp.full(_shape(shape, "full"), fill_value, dtype=_float_default(dtype))
    return _make(array, None, device, requires_grad)


def zeros(*shape: Any, dtype: Any = dtypes.float32, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    return full(_shape(shape, "zeros"), fill_value=0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = dtypes.float32, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    return full(_shape(shape, "ones"), fill_value=1, dtype=dtype, device=device, requires_grad=requires_grad)


def empty(*shape: Any, dtype: Any = dtypes.float32, device: str | None = None) -> Tensor:
    xp = backend.array_module(device)
    return _make(xp.empty(_shape(shape, "empty"), dtype=_float_default(dtype)), None, device, False)


def eye(n: int, m: int | None = None, dtype: Any = dtypes.float32, device: str | None = None) -> Tensor:
    xp = backend.array_module(device)
    return _make(xp.eye(n, m, dtype=_float_default(dtype)), None, device, False)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           device: str | None = None) -> Tensor:
    """Like ``numpy.arange``; ints give int64, any float gives float32 unless dtype says otherwise."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    values = np.arange(start, stop, step)
    if dtype is None:
        dtype = dtypes.int64 if values.dtype.kind in "iu" else dtypes.float32
    return _make(values, dtype, device, False)


def linspace(start: float, stop: float, num: int = 50, dtype: Any = dtypes.float32,
             device: str | None = None) -> Tensor:
    return _make(np.linspace(start, stop, num), dtype, device, False)


def randn(*shape: Any, dtype: Any = dtypes.float32, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal draws N(0, 1)."""
    dtype = _float_default(dtype)
    array = get_generator().standard_normal(_shape(shape, "randn"), dtype=np.float64).astype(dtype)
    return _make(array, None, device, requires_grad)


def rand(*shape: Any, dtype: Any = dtypes.float32, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform draws on [0, 1)."""
    dtype = _float_default(dtype)
    array = get_generator().random(_shape(shape, "rand"), dtype=np.float64).astype(dtype)
    return _make(array, None, device, requires_grad)


def randint(low: int, high: int, shape: Any, dtype: Any = dtypes.int64, device: str | None = None) -> Tensor:
    """Integers drawn uniformly from [low, high)."""
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    shape = _shape(shape if isinstance(shape, tuple) else (shape,), "randint")
    return _make(get_generator().integers(low, high, shape), dtype, device, False)


def _like(x: Tensor, dtype: Any, device: str | None) -> tuple[tuple[int, ...], Any, str]:
    return x.shape, dtype if dtype is not None else x.dtype, device if device is not None else x.device


def zeros_like(x: Tensor, dtype: Any = None, device: str | None = None, requires_grad: bool = False) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return zeros(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype: Any = None, device: str | None = None, requires_grad: bool = False) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return ones(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value: float, dtype: Any = None, device: str | None = None) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return full(shape, fill_value=fill_value, dtype=dtype, device=device)


def randn_like(x: Tensor, dtype: Any = None, device: str | None = None) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return randn(shape, dtype=dtype, device=device)


def rand_like(x: Tensor, dtype: Any = None, device: str | None = None) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return rand(shape, dtype=dtype, device=device)
