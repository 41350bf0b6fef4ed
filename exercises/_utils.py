"""Small argument helpers for the exercises (given: they are bookkeeping, not the lesson)."""

from __future__ import annotations

from typing import Any


def pair(value: Any, name: str, minimum: int = 1) -> tuple[int, int]:
    """``value`` as (height, width): an int is used for both axes, a pair is taken as it is.

        pair(2, "stride") -> (2, 2);  pair((1, 3), "stride") -> (1, 3);  pair(0, "stride") raises ValueError
    """
    is_int = isinstance(value, int) and not isinstance(value, bool)
    items = (value, value) if is_int else value
    if not (isinstance(items, (tuple, list)) and len(items) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in items)):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(items) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


def require_float_array(x: Any, name: str, ndim: int | None = None) -> None:
    """Raise a one-line error unless ``x`` is a float array (NumPy or CuPy) with ``ndim`` dimensions."""
    if not (hasattr(x, "shape") and hasattr(x, "dtype")):
        raise TypeError(f"{name} must be an array, got {type(x).__name__}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name} must be a float array (float32 or float64), got {x.dtype}")
