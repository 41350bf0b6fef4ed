"""A correct convolution written with plain loops over the output pixels, as students often write it first.

Every output is the dot product of one filter with one window of the padded input, read straight
from the definition; backward scatters each output's gradient back into that window and filter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._utils import pair, require_float_array


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int | str = 0, dilation: int = 1,
                     *, strict: bool = False) -> int:
    """(size - F + 2P) // S + 1 with F = D·(K - 1) + 1; ceil(size / S) for "same"."""
    for name, value in (("size", size), ("kernel_size", kernel_size), ("stride", stride), ("dilation", dilation)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if padding == "same":
        return (size + stride - 1) // stride
    if padding == "valid":
        padding = 0
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be an int >= 0, 'same' or 'valid', got {padding!r}")
    span = dilation * (kernel_size - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(f"kernel_size {kernel_size} spans {span}, more than the padded input {size + 2 * padding}")
    if strict and (size + 2 * padding - span) % stride != 0:
        raise ValueError(f"stride {stride} does not tile the input exactly")
    return (size + 2 * padding - span) // stride + 1


def _padding(size: int, kernel: int, stride: int, padding: Any, dilation: int) -> tuple[int, int, int]:
    """(output size, padding before, padding after) along one axis."""
    out = conv_output_size(size, kernel, stride, padding, dilation)
    if padding == "same":
        total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
        return out, total // 2, total - total // 2
    if padding == "valid":
        return out, 0, 0
    return out, padding, padding


def conv2d_forward(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                   groups: int = 1) -> tuple[Any, Any]:
    """out[n, f, i, j] = b[f] + Σ w[f] · window(n, group of f, i, j), one output at a time."""
    require_float_array(x, "x", 4)
    require_float_array(w, "w", 4)
    n_batch, channels, height, width = x.shape
    filters, group_channels, kh, kw = w.shape
    if not isinstance(groups, int) or groups < 1 or channels % groups or filters % groups:
        raise ValueError(f"groups={groups} must divide the {channels} input and {filters} output channels")
    if group_channels * groups != channels:
        raise ValueError(f"w expects {group_channels * groups} input channels, x has {channels}")
    if b is not None and b.shape != (filters,):
        raise ValueError(f"b must have shape ({filters},), got {b.shape}")
    sh, sw = pair(stride, "stride")
    dh, dw = pair(dilation, "dilation")
    ph, pw = (padding, padding) if isinstance(padding, str) else pair(padding, "padding", minimum=0)
    out_h, top, bottom = _padding(height, kh, sh, ph, dh)
    out_w, left, right = _padding(width, kw, sw, pw, dw)
    x_pad = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out = np.zeros((n_batch, filters, out_h, out_w), dtype=x.dtype)
    per_group = filters // groups
    for n in range(n_batch):
        for f in range(filters):
            first = (f // per_group) * group_channels
            for i in range(out_h):
                for j in range(out_w):
                    window = x_pad[n, first:first + group_channels, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                                   j * sw:j * sw + dw * (kw - 1) + 1:dw]
                    out[n, f, i, j] = np.sum(window * w[f])
                    if b is not None:
                        out[n, f, i, j] += b[f]
    return out, (x_pad, w, b is not None, (top, left), (height, width), (sh, sw), (dh, dw), groups)


def conv2d_backward(dout: Any, cache: Any) -> tuple[Any, Any, Any]:
    """Each output's gradient goes back into its window (dx) and its filter (dw); db sums dout."""
    x_pad, w, has_bias, (top, left), (height, width), (sh, sw), (dh, dw_), groups = cache
    n_batch, filters, out_h, out_w = dout.shape
    _, group_channels, kh, kw = w.shape
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    per_group = filters // groups
    for n in range(n_batch):
        for f in range(filters):
            first = (f // per_group) * group_channels
            for i in range(out_h):
                for j in range(out_w):
                    rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
                    cols = slice(j * sw, j * sw + dw_ * (kw - 1) + 1, dw_)
                    g = dout[n, f, i, j]
                    dw[f] += g * x_pad[n, first:first + group_channels, rows, cols]
                    dx_pad[n, first:first + group_channels, rows, cols] += g * w[f]
    db = None
    if has_bias:
        db = np.zeros(filters, dtype=dout.dtype)
        for f in range(filters):
            db[f] = dout[:, f].sum()
    return dx_pad[:, :, top:top + height, left:left + width], dw, db


def conv1d_forward(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                   groups: int = 1) -> tuple[Any, Any]:
    """A signal is an image one pixel high."""
    require_float_array(x, "x", 3)
    require_float_array(w, "w", 3)
    p = padding if isinstance(padding, str) else (0, padding)
    out, cache = conv2d_forward(x[:, :, None, :], w[:, :, None, :], b, (1, stride), p, (1, dilation), groups)
    return out[:, :, 0, :], cache


def conv1d_backward(dout: Any, cache: Any) -> tuple[Any, Any, Any]:
    """conv2d_backward on the one-pixel-high image."""
    dx, dw, db = conv2d_backward(dout[:, :, None, :], cache)
    return dx[:, :, 0, :], dw[:, :, 0, :], db
