"""Forgery: return objects that claim to equal anything (``__eq__`` always True, an int subclass).

The runner sends anything that is not an exact ndarray or a plain number back as an opaque handle,
and the judge fails a handle where it expects an array or a number.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class AlwaysEqual:
    """Equal to everything, close to everything, shaped like anything."""

    shape = property(lambda self: self)
    dtype = np.dtype(np.float64)

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        return np.zeros(1)

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Any:
        return iter(())

    def __float__(self) -> float:
        return 0.0

    def __getattr__(self, name: str) -> Any:
        return self


class Int(int):
    """An int that equals every number."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int | str = 0, dilation: int = 1,
                     *, strict: bool = False) -> int:
    """An int that equals anything."""
    return Int(0)


def conv2d_forward(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                   groups: int = 1) -> tuple[Any, Any]:
    """An output that equals anything."""
    return AlwaysEqual(), AlwaysEqual()


def conv2d_backward(dout: Any, cache: Any) -> tuple[Any, Any, Any]:
    """Gradients that equal anything."""
    return AlwaysEqual(), AlwaysEqual(), AlwaysEqual()


def conv1d_forward(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                   groups: int = 1) -> tuple[Any, Any]:
    """An output that equals anything."""
    return AlwaysEqual(), AlwaysEqual()


def conv1d_backward(dout: Any, cache: Any) -> tuple[Any, Any, Any]:
    """Gradients that equal anything."""
    return AlwaysEqual(), AlwaysEqual(), AlwaysEqual()
