"""Forgery: return ndarray subclasses (and object arrays) whose comparisons always succeed.

The runner only sends exact ``numpy.ndarray`` instances with a plain dtype as arrays; a subclass or an
object array becomes an opaque handle, which the judge fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class LyingArray(np.ndarray):
    """Equal and close to anything; converts to whatever shape is asked for."""

    __array_priority__ = 1e9

    def __eq__(self, other: object) -> Any:
        return np.ones(np.shape(other), dtype=bool)

    def __ne__(self, other: object) -> Any:
        return np.zeros(np.shape(other), dtype=bool)

    __hash__ = None

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return np.zeros(np.broadcast_shapes(*(np.shape(i) for i in inputs)))


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


def _lying(shape: tuple[int, ...]) -> Any:
    return np.zeros(shape).view(LyingArray)


def _objects(shape: tuple[int, ...]) -> Any:
    out = np.empty(shape, dtype=object)
    out[...] = AlwaysEqual()
    return out


def _out_shape(x: Any, kernel_size: Any, stride: Any, padding: Any) -> tuple[int, ...]:
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    s = k if stride is None else (stride, stride) if isinstance(stride, int) else tuple(stride)
    p = (padding, padding) if isinstance(padding, int) else tuple(padding)
    return (*x.shape[:2], *((x.shape[2 + i] + 2 * p[i] - k[i]) // s[i] + 1 for i in range(2)))


def maxpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """A lying subclass of the right shape."""
    return _lying(_out_shape(x, kernel_size, stride, padding)), x.shape


def maxpool2d_backward(dout: Any, cache: Any) -> Any:
    """A lying subclass of the right shape."""
    return _lying(tuple(cache))


def avgpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """An object array of always-equal things."""
    return _objects(_out_shape(x, kernel_size, stride, padding)), x.shape


def avgpool2d_backward(dout: Any, cache: Any) -> Any:
    """An object array of always-equal things."""
    return _objects(tuple(cache))
