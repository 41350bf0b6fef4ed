"""Attack: objects that pretend to be arrays — one with ``__array__`` (which even gives the right values),
one with ``__array_ufunc__``/``__array_function__`` making every NumPy comparison succeed, and one with a
lying ``__eq__`` inside an object array.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class LooksRight:
    """``np.asarray`` of it is the correct output."""

    def __init__(self, values: Any) -> None:
        self.values = values

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        return self.values if dtype is None else self.values.astype(dtype)


class AgreesWithNumpy:
    """Every ufunc and array function says "all close"."""

    shape = ()

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return np.bool_(True)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return True


class Equal:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


def relu_forward(x: Any) -> tuple[Any, Any]:
    """The right values, wrapped."""
    return LooksRight(np.maximum(x, 0)), x > 0


def relu_backward(dout: Any, cache: Any) -> Any:
    """Agrees with every check (for float64), or an object array of always-equal things (float32)."""
    if dout.dtype == np.float32:
        out = np.empty(dout.shape, dtype=object)
        out[...] = Equal()
        return out
    return AgreesWithNumpy()
