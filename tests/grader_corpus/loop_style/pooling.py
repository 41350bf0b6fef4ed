"""Correct max and average pooling written with plain loops over the output pixels, as students often do first."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._utils import pair, require_float_array


def _geometry(x: Any, kernel_size: Any, stride: Any, padding: Any) -> tuple[Any, ...]:
    """(KH, KW), (SH, SW), (PH, PW), (H_out, W_out), after checking the arguments."""
    require_float_array(x, "x", 4)
    kh, kw = pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else pair(stride, "stride")
    ph, pw = pair(padding, "padding", minimum=0)
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"padding ({ph}, {pw}) is more than half the window ({kh}, {kw})")
    height, width = x.shape[2] + 2 * ph, x.shape[3] + 2 * pw
    if kh > height or kw > width:
        raise ValueError(f"kernel_size ({kh}, {kw}) is larger than the padded input ({height}, {width})")
    return (kh, kw), (sh, sw), (ph, pw), ((height - kh) // sh + 1, (width - kw) // sw + 1)


def _pad(x: Any, ph: int, pw: int, fill: float) -> Any:
    x_pad = np.full((x.shape[0], x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), fill, dtype=x.dtype)
    x_pad[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
    return x_pad


def maxpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """Each output is its window's max; the cache keeps where the (first) max was."""
    (kh, kw), (sh, sw), (ph, pw), (out_h, out_w) = _geometry(x, kernel_size, stride, padding)
    x_pad = _pad(x, ph, pw, -np.inf)
    out = np.empty((x.shape[0], x.shape[1], out_h, out_w), dtype=x.dtype)
    where = np.empty(out.shape, dtype=np.int64)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_h):
                for j in range(out_w):
                    window = x_pad[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    k = int(np.argmax(window))  # the first max in row-major order
                    where[n, c, i, j] = k
                    out[n, c, i, j] = window.flat[k]
    return out, (x.shape, (kh, kw), (sh, sw), (ph, pw), where)


def maxpool2d_backward(dout: Any, cache: Any) -> Any:
    """Each window's gradient goes to the position of its max (+=: windows may share it)."""
    x_shape, (_, kw), (sh, sw), (ph, pw), where = cache
    dx_pad = np.zeros((x_shape[0], x_shape[1], x_shape[2] + 2 * ph, x_shape[3] + 2 * pw), dtype=dout.dtype)
    for n in range(dout.shape[0]):
        for c in range(dout.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    r, q = divmod(int(where[n, c, i, j]), kw)
                    dx_pad[n, c, i * sh + r, j * sw + q] += dout[n, c, i, j]
    return dx_pad[:, :, ph:ph + x_shape[2], pw:pw + x_shape[3]]


def avgpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """Each output is its window's sum over KH·KW (padded zeros count)."""
    (kh, kw), (sh, sw), (ph, pw), (out_h, out_w) = _geometry(x, kernel_size, stride, padding)
    x_pad = _pad(x, ph, pw, 0.0)
    out = np.empty((x.shape[0], x.shape[1], out_h, out_w), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_h):
                for j in range(out_w):
                    out[n, c, i, j] = x_pad[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw].sum() / (kh * kw)
    return out, (x.shape, (kh, kw), (sh, sw), (ph, pw))


def avgpool2d_backward(dout: Any, cache: Any) -> Any:
    """Every input of a window gets dout / (KH·KW)."""
    x_shape, (kh, kw), (sh, sw), (ph, pw) = cache
    dx_pad = np.zeros((x_shape[0], x_shape[1], x_shape[2] + 2 * ph, x_shape[3] + 2 * pw), dtype=dout.dtype)
    for n in range(dout.shape[0]):
        for c in range(dout.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    dx_pad[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw] += dout[n, c, i, j] / (kh * kw)
    return dx_pad[:, :, ph:ph + x_shape[2], pw:pw + x_shape[3]]
