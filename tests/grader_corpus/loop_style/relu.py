"""A correct ReLU written with plain Python loops, element by element, as students often write it first."""

from __future__ import annotations

from typing import Any

import numpy as np


def relu_forward(x: Any) -> tuple[Any, Any]:
    """out[i] = x[i] if x[i] > 0 else 0, one element at a time."""
    out = np.zeros_like(x)
    mask = np.zeros(x.shape, dtype=bool)
    for index in np.ndindex(*x.shape):
        if x[index] > 0:
            out[index] = x[index]
            mask[index] = True
    return out, mask


def relu_backward(dout: Any, cache: Any) -> Any:
    """dx[i] = dout[i] where x[i] > 0, else 0."""
    dx = np.zeros_like(dout)
    for index in np.ndindex(*dout.shape):
        if cache[index]:
            dx[index] = dout[index]
    return dx
