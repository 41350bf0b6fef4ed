"""Argument checks shared by the reference kernels (one clear line for each bad input), and the two
window helpers the convolution and pooling kernels share: im2col as a strided view, and its adjoint."""

from __future__ import annotations

from numbers import Integral
from typing import Any

from minigrad.backend import get_array_module


def array_module(x: Any) -> Any:
    return get_array_module(x)


def require_array(x: Any, name: str, ndim: int | None = None, shape: tuple[int, ...] | None = None,
                  floating: bool = True) -> None:
    """Raise a one-line error unless ``x`` is an array of the expected rank/shape and kind."""
    if not (hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "ndim")):
        raise TypeError(f"{name} must be an array, got {type(x).__name__}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if shape is not None and tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(x.shape)}")
    if floating and x.dtype.kind != "f":
        raise TypeError(f"{name} must be a float array (float32 or float64), got {x.dtype}")


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)  # NumPy ints count, bools do not


def require_int(value: Any, name: str, minimum: int = 1) -> int:
    """Raise a one-line error unless ``value`` is an int >= ``minimum``."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def pair(value: Any, name: str, minimum: int = 1) -> tuple[int, int]:
    """``value`` as (height, width): an int is used for both axes, a pair is taken as it is."""
    items = (value, value) if _is_int(value) else value
    if not (isinstance(items, (tuple, list)) and len(items) == 2 and all(_is_int(v) for v in items)):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(items) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


def single(value: Any, name: str, minimum: int = 1) -> int:
    """A 1-D op's option: an int (or a 1-tuple holding one) >= ``minimum``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise TypeError(f"{name} of a 1-D op must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return require_int(value, name, minimum)


def window_view(x_pad: Any, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
                out_hw: tuple[int, int]) -> Any:
    """Every window of ``x_pad`` (N, C, Hp, Wp) as a read-only view (N, C, KH, KW, H_out, W_out).

    view[n, c, i, j, p, q] = x_pad[n, c, p·S_h + i·D_h, q·S_w + j·D_w]: only strides change, so no
    data is copied until the caller reshapes the view. Never write to it (CuPy's ``as_strided`` has
    no ``writeable`` flag, and overlapping windows alias the same memory).
    """
    xp = get_array_module(x_pad)
    s_n, s_c, s_h, s_w = x_pad.strides
    shape = (*x_pad.shape[:2], *kernel, *out_hw)
    strides = (s_n, s_c, s_h * dilation[0], s_w * dilation[1], s_h * stride[0], s_w * stride[1])
    return xp.lib.stride_tricks.as_strided(x_pad, shape=shape, strides=strides)


def add_windows(dx_pad: Any, dwin: Any, stride: tuple[int, int], dilation: tuple[int, int]) -> Any:
    """The adjoint of :func:`window_view`: add dwin (N, C, KH, KW, H_out, W_out) into dx_pad in place.

    One vectorised strided add per kernel offset (i, j); windows that overlap accumulate, because
    the offsets are visited one after another. Returns ``dx_pad``.
    """
    kh, kw, h_out, w_out = dwin.shape[2:]
    for i in range(kh):
        rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (h_out - 1) + 1, stride[0])
        for j in range(kw):
            cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (w_out - 1) + 1, stride[1])
            dx_pad[:, :, rows, cols] += dwin[:, :, i, j]
    return dx_pad
