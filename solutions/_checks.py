"""Argument checks shared by the reference kernels (one clear line for each bad input), the two
window helpers the convolution and pooling kernels share (im2col as a strided view, and its adjoint),
and the two copies between NCHW and the convolution's batch-last working order."""

from __future__ import annotations

from numbers import Integral
from typing import Any

from minigrad.backend import device_of, get_array_module


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


def flags(value: Any, name: str, count: int) -> tuple[bool, ...]:
    """``value`` as ``count`` bools (a tuple or list of True/False), or a one-line error."""
    if not (isinstance(value, (tuple, list)) and len(value) == count and all(isinstance(v, bool) for v in value)):
        raise TypeError(f"{name} must be {count} bools such as {(True,) * count}, got {value!r}")
    return tuple(value)


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


def _windows_overlap(kernel: int, stride: int, dilation: int, out: int) -> bool:
    """Whether two windows along one axis can share an input (False only when they surely cannot)."""
    return kernel > 1 and out > 1 and stride < dilation * (kernel - 1) + 1


def add_windows(dx_pad: Any, dwin: Any, stride: tuple[int, int], dilation: tuple[int, int],
                fresh: bool = False) -> Any:
    """The adjoint of :func:`window_view`: add dwin (N, C, KH, KW, H_out, W_out) into dx_pad in place.

    One vectorised strided add per kernel offset (i, j); windows that overlap accumulate, because
    the offsets are visited one after another. ``fresh=True`` promises that dx_pad is all zeros and
    that no other call adds into it: then, where no two windows share an input (a 2×2 pool at
    stride 2), each slice is written with = instead, the same numbers in about half the time of +=.
    Returns ``dx_pad``.
    """
    kh, kw, h_out, w_out = dwin.shape[2:]
    overlap = not fresh or (_windows_overlap(kh, stride[0], dilation[0], h_out)
                            or _windows_overlap(kw, stride[1], dilation[1], w_out))
    for i in range(kh):
        rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (h_out - 1) + 1, stride[0])
        for j in range(kw):
            cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (w_out - 1) + 1, stride[1])
            if overlap:
                dx_pad[:, :, rows, cols] += dwin[:, :, i, j]
            else:
                dx_pad[:, :, rows, cols] = dwin[:, :, i, j]
    return dx_pad


# Both layout copies go piecewise on the CPU, because a transposing copy done in one go fights the
# cache; a GPU does it in one launch. Pieces of ~32 KiB fit an L1 data cache.
_PIECE_BYTES = 32 * 1024
_SAMPLES_PER_PIECE = 16  # 16 float32 numbers fill one 64-byte cache line


def to_batch_last(x: Any, pads: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0))) -> Any:
    """x (N, C, H, W) copied into a (C, H_p, W_p, N) array, zero-padded by ((top, bottom), (left, right)).

    Sixteen samples at a time: in one go the copy reads x with a stride of C·H·W numbers, and when
    that is a multiple of a large power of two (32·28·28 = 2⁹·49) all those reads land in the same
    few cache sets and evict each other, which made it four times slower.
    """
    xp = get_array_module(x)
    n, c, h, w = x.shape
    (top, bottom), (left, right) = pads
    shape = (c, top + h + bottom, left + w + right, n)
    out = xp.zeros(shape, dtype=x.dtype) if top or bottom or left or right else xp.empty(shape, dtype=x.dtype)
    inside = out[:, top:top + h, left:left + w]
    step = _SAMPLES_PER_PIECE if device_of(x) == "cpu" else n
    for first in range(0, n, step):
        inside[..., first:first + step] = x[first:first + step].transpose(1, 2, 3, 0)
    return out


def to_batch_first(a: Any) -> Any:
    """a (C, H, W, N), contiguous or a slice of a padded array, copied into a new (N, C, H, W) array.

    A few rows of one channel at a time (about 32 KiB): in one go, every cache line read from ``a``
    is evicted before the copy comes back for its next number, which made it twice as slow.
    """
    xp = get_array_module(a)
    c, h, w, n = a.shape
    out = xp.empty((n, c, h, w), dtype=a.dtype)
    if device_of(a) != "cpu":
        out[...] = a.transpose(3, 0, 1, 2)
        return out
    rows = max(1, _PIECE_BYTES // (w * n * a.itemsize))
    for channel in range(c):
        for row in range(0, h, rows):
            out[:, channel, row:row + rows] = a[channel, row:row + rows].transpose(2, 0, 1)
    return out
