"""Comparisons and arg-reductions: they return boolean or integer tensors and never record the graph."""

from __future__ import annotations

from typing import Any

from ._spelling import pytorch_spellings
from ._util import normalize_axes


def _data(value: Any) -> Any:
    return getattr(value, "data", value) if hasattr(value, "requires_grad") else value


def _constant(array: Any) -> Any:
    from ..tensor import Tensor

    return Tensor._wrap(array)


def eq(a: Any, b: Any) -> Any:
    return _constant(_data(a) == _data(b))


def ne(a: Any, b: Any) -> Any:
    return _constant(_data(a) != _data(b))


def lt(a: Any, b: Any) -> Any:
    return _constant(_data(a) < _data(b))


def le(a: Any, b: Any) -> Any:
    return _constant(_data(a) <= _data(b))


def gt(a: Any, b: Any) -> Any:
    return _constant(_data(a) > _data(b))


def ge(a: Any, b: Any) -> Any:
    return _constant(_data(a) >= _data(b))


@pytorch_spellings
def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """Index of the largest value (the first one among ties), as int64."""
    data = _data(x)
    if axis is not None:
        (axis,) = normalize_axes(axis, data.ndim, "argmax")
    return _constant(data.argmax(axis=axis, keepdims=keepdims).astype("int64"))


@pytorch_spellings
def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """Index of the smallest value (the first one among ties), as int64."""
    data = _data(x)
    if axis is not None:
        (axis,) = normalize_axes(axis, data.ndim, "argmin")
    return _constant(data.argmin(axis=axis, keepdims=keepdims).astype("int64"))
