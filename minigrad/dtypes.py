"""The dtypes a tensor may hold, and how Python data picks one.

Floating tensors are float32 unless float64 is asked for (or given: a float64
NumPy array stays float64 — nothing a user gives is silently narrowed).
Integer and boolean tensors hold labels, indices and masks; they never require
grad.
"""

from __future__ import annotations

from typing import Any

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

FLOAT_DTYPES = (float32, float64)
SUPPORTED_DTYPES = (float32, float64, int8, int16, int32, int64, uint8, bool_)
_NAMES = ", ".join(str(d) for d in SUPPORTED_DTYPES)


def resolve_dtype(dtype: Any) -> np.dtype | None:
    """Turn ``"float64"``, ``np.float64``, ``minigrad.float64`` ... into a supported ``np.dtype``."""
    if dtype is None:
        return None
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be one of {_NAMES}; got {dtype!r}") from None
    if resolved not in SUPPORTED_DTYPES:
        raise TypeError(f"dtype must be one of {_NAMES}; got {resolved}")
    return resolved


def is_floating(dtype: Any) -> bool:
    return np.dtype(dtype) in FLOAT_DTYPES


def default_dtype_for(array_dtype: np.dtype, from_python: bool) -> np.dtype:
    """The dtype a new tensor gets when none is named.

    Python floats become float32; a float64 array keeps float64. Python ints
    become int64. Other array dtypes are kept when supported.
    """
    kind = array_dtype.kind
    if kind == "f":
        if from_python or array_dtype == np.float16:
            return float32
        return float64 if array_dtype == float64 else float32
    if kind in "iu":
        return int64 if from_python else array_dtype
    if kind == "b":
        return bool_
    raise TypeError(f"cannot make a tensor of {array_dtype} data; supported dtypes: {_NAMES}")
