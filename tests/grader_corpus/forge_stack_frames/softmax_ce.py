"""Forgery: search the call stack and every live object for the expected values and return them.

The runner's stack holds only the worker's frames and the judge's inputs; the expected values never
leave the judge's process, so what this finds is an input, which is wrong.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import numpy as np


def _steal(shape: tuple[int, ...], dtype: Any, *mine: Any) -> Any:
    """The most recently created array of the right shape that is not one of our arguments."""
    found = None
    frame = sys._getframe(1)
    while frame is not None:
        for name, value in list(frame.f_locals.items()) + list(frame.f_globals.items()):
            if isinstance(value, np.ndarray) and value.shape == shape and not any(value is m for m in mine):
                if any(word in name.lower() for word in ("expect", "ref", "want", "result")):
                    return value
                found = value if found is None else found
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            for value in obj.values():
                if isinstance(value, np.ndarray) and value.shape == shape and not any(value is m for m in mine):
                    found = value
    return np.zeros(shape, dtype) if found is None else np.asarray(found, dtype)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """Whatever the search finds."""
    return _steal(x.shape, x.dtype, x)


def softmax(x: Any, axis: int = -1) -> Any:
    """Whatever the search finds."""
    return _steal(x.shape, x.dtype, x)


def softmax_cross_entropy_forward(logits: Any, labels: Any) -> tuple[Any, Any]:
    """Whatever the search finds, for the loss too."""
    return _steal((), logits.dtype, logits, labels), (logits.shape, logits.dtype)


def softmax_cross_entropy_backward(dloss: Any, cache: Any) -> Any:
    """Whatever the search finds."""
    shape, dtype = cache
    return _steal(tuple(shape), np.dtype(dtype) if isinstance(dtype, str) else dtype, dloss)
