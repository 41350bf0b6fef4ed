"""Bug: every value equal to a window's max gets its gradient (ties double-counted).

Otherwise the same as tests/grader_corpus/alternative_correct/pooling.py.
"""

from __future__ import annotations

from typing import Any

from minigrad.backend import get_array_module

from ._utils import pair, require_float_array
from .conv import conv_output_size


def _windows(x: Any, kernel_size: Any, stride: Any, padding: Any, fill: float) -> tuple[Any, Any]:
    require_float_array(x, "x", 4)
    xp = get_array_module(x)
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    p = pair(padding, "padding", minimum=0)
    if 2 * p[0] > k[0] or 2 * p[1] > k[1]:
        raise ValueError(f"padding {p} is more than half the window {k}")
    n, c, h, w = x.shape
    ho, wo = conv_output_size(h, k[0], s[0], p[0]), conv_output_size(w, k[1], s[1], p[1])
    x_pad = xp.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)
    win = xp.empty((n, c, k[0] * k[1], ho, wo), dtype=x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            win[:, :, i * k[1] + j] = x_pad[:, :, i:i + s[0] * (ho - 1) + 1:s[0], j:j + s[1] * (wo - 1) + 1:s[1]]
    return win, (x.shape, k, s, p, ho, wo)


def _scatter(dwin: Any, meta: Any) -> Any:
    (n, c, h, w), k, s, p, ho, wo = meta
    xp = get_array_module(dwin)
    dx_pad = xp.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), dtype=dwin.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            dx_pad[:, :, i:i + s[0] * (ho - 1) + 1:s[0], j:j + s[1] * (wo - 1) + 1:s[1]] += dwin[:, :, i * k[1] + j]
    return dx_pad[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


def maxpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """Max of each window; the cache keeps the first argmax."""
    win, meta = _windows(x, kernel_size, stride, padding, float("-inf"))
    return win.max(axis=2), (meta, win == win.max(axis=2, keepdims=True))  # BUG: keeps every tied max


def maxpool2d_backward(dout: Any, cache: Any) -> Any:
    """Each window's dout to its first max."""
    meta, first = cache
    xp = get_array_module(dout)
    hit = first  # every tied max
    return _scatter(xp.where(hit, dout[:, :, None], 0).astype(dout.dtype), meta)


def avgpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """Mean of each window, padded zeros included."""
    win, meta = _windows(x, kernel_size, stride, padding, 0.0)
    return win.mean(axis=2), meta


def avgpool2d_backward(dout: Any, cache: Any) -> Any:
    """dout / (KH·KW) to every input of each window."""
    xp = get_array_module(dout)
    k = cache[1]
    share = dout[:, :, None] / (k[0] * k[1])
    return _scatter(xp.broadcast_to(share, (*dout.shape[:2], k[0] * k[1], *dout.shape[2:])), cache)


def sumpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """Bonus, not attempted."""
    raise NotImplementedError("bonus")


def sumpool2d_backward(dout: Any, cache: Any) -> Any:
    """Bonus, not attempted."""
    raise NotImplementedError("bonus")


def l2pool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """Bonus, not attempted."""
    raise NotImplementedError("bonus")


def l2pool2d_backward(dout: Any, cache: Any) -> Any:
    """Bonus, not attempted."""
    raise NotImplementedError("bonus")
