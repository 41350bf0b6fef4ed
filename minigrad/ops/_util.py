"""Helpers shared by the ops: broadcasting, axes, argument checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import get_array_module


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting.

    Broadcasting copies an input along new leading axes and along axes of size
    1, so its gradient is the sum over exactly those axes.
    """
    if tuple(grad.shape) == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def constant(value: Any) -> Any:
    """A NumPy scalar as a Python number, so it takes the tensor's dtype (NumPy 2 would promote
    float32 with an ``np.float64`` to float64); anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def index_data(index: Any) -> Any:
    """``index`` with each tensor in it replaced by its array; ints, slices and arrays as they are."""
    if isinstance(index, tuple):
        return tuple(i.data if hasattr(i, "requires_grad") else i for i in index)
    return index.data if hasattr(index, "requires_grad") else index


def shape_of(value: Any) -> tuple[int, ...]:
    return tuple(getattr(value, "shape", ()))


def broadcast_shapes(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy's broadcast result shape, or a one-line error naming the op and the shapes."""
    ndim = max(len(s) for s in shapes)
    result = []
    for i in range(-ndim, 0):
        sizes = {s[i] for s in shapes if len(s) >= -i} - {1}
        if len(sizes) > 1:
            listed = " and ".join(str(s) for s in shapes)
            raise ValueError(f"{op}: shapes {listed} do not broadcast (sizes {sorted(sizes)} "
                             f"meet at axis {i})")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def normalize_axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` (None, int or tuple, negatives allowed) as sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    result = []
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        result.append(a % ndim if ndim else 0)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(sorted(result))


def expand_reduced(grad: Any, in_shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> Any:
    """Give a reduction's gradient back the reduced axes, then broadcast it to ``in_shape``."""
    xp = get_array_module(grad)
    if not keepdims:
        grad = grad.reshape([1 if i in axes else n for i, n in enumerate(in_shape)])
    return xp.broadcast_to(grad, in_shape)
