"""Pooling kernels: max and average pooling (and, from the seeds, sum and L2 pooling) over 2-D windows.

Each output is one window of one channel, reduced: y = max x_uv (max), (1/(KH·KW))·Σ x_uv (average),
Σ x_uv (sum) or √(Σ x_uv²) (L2, the seeds' "square sum pooling"). No parameters; channels stay apart.
Output size per axis: (W - F + 2P)/S + 1 (floored), as for a convolution, with the stride S defaulting
to the window F — a 2×2 pool with stride 2 halves each side, e.g. [[4,3,1,5],[1,3,4,8],[4,5,4,3],
[6,5,9,4]] max-pools to [[4,8],[6,9]]. A stride smaller than the window makes windows overlap.

Rules (the same as PyTorch's defaults):
* Padding P is at most half the window (2·P <= F), so every window holds at least one real value.
* Max pooling pads with -inf: padding never wins a max.
* Average pooling pads with zeros and always divides by KH·KW: padded zeros count towards the mean.
* Ties: when several values share a window's max, the whole gradient goes to the first of them in
  row-major order within the window (what ``argmax`` over the flattened window would pick). A window
  holding a NaN outputs NaN and passes no gradient back.
* Overlapping windows add their gradients where they share an input.

How: ``window_view`` re-strides the padded input into (N, C, KH, KW, H_out, W_out) without copying.
Both directions then loop over the KH·KW window offsets (4 steps for a 2×2 window), each step one
vectorised operation on a strided (N, C, H_out, W_out) slice of the whole batch: the forward pass
folds the slices together (a running max or sum), and ``add_windows`` adds each window's gradient
back, which also accumulates the overlaps. Reducing over the two window axes in one call would say
the same thing, but NumPy would walk the tiny window axes innermost, about ten times slower.
Max pooling keeps, per offset, a boolean "is this the window's first maximum" mask for backward.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._checks import add_windows, array_module, pair, require_array, window_view
from .conv import conv_output_size

__all__ = [
    "avgpool2d_backward", "avgpool2d_forward", "l2pool2d_backward", "l2pool2d_forward",
    "maxpool2d_backward", "maxpool2d_forward", "sumpool2d_backward", "sumpool2d_forward",
]

NO_DILATION = (1, 1)


class _PoolCache(NamedTuple):
    x_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    out_hw: tuple[int, int]
    saved: Any  # what the backward of each kind needs: first-max masks, a scale, or (windows, output)


def _windows(x: Any, kernel_size: Any, stride: Any, padding: Any, fill: float) -> tuple[Any, _PoolCache]:
    """Check the arguments; return the window view (N, C, KH, KW, H_out, W_out) of x padded with ``fill``."""
    require_array(x, "x", ndim=4)
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    p = pair(padding, "padding", minimum=0)
    if 2 * p[0] > k[0] or 2 * p[1] > k[1]:
        raise ValueError(f"padding {p} must be at most half of kernel_size {k}, so no window is all padding")
    out_hw = tuple(conv_output_size(size, k_i, s_i, p_i) for size, k_i, s_i, p_i in zip(x.shape[2:], k, s, p))
    xp = array_module(x)
    x_pad = xp.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill) if any(p) else x
    return window_view(x_pad, k, s, NO_DILATION, out_hw), _PoolCache(tuple(x.shape), k, s, p, out_hw, None)


def _scatter(dwin: Any, cache: _PoolCache) -> Any:
    """dx (x's shape) from each window's gradient dwin (N, C, KH, KW, H_out, W_out)."""
    xp = array_module(dwin)
    n, c, h, w = cache.x_shape
    (ph, pw) = cache.padding
    dx_pad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=dwin.dtype)
    add_windows(dx_pad, dwin, cache.stride, NO_DILATION, fresh=True)
    return xp.ascontiguousarray(dx_pad[:, :, ph:ph + h, pw:pw + w])


def _check_dout(dout: Any, cache: _PoolCache) -> None:
    require_array(dout, "dout", shape=(*cache.x_shape[:2], *cache.out_hw))


def _offset_slices(windows: Any) -> list[Any]:
    """The window view's (N, C, H_out, W_out) slices, one per offset (i, j), in row-major order."""
    kh, kw = windows.shape[2:4]
    return [windows[:, :, i, j] for i in range(kh) for j in range(kw)]


def maxpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """x (N, C, H, W) -> (out (N, C, H_out, W_out), cache): the max of each window (padding is -inf)."""
    windows, cache = _windows(x, kernel_size, stride, padding, fill=float("-inf"))
    xp = array_module(x)
    slices = _offset_slices(windows)
    out = slices[0].copy()                                # our own array, never a view of x
    for entry in slices[1:]:
        xp.maximum(out, entry, out=out)                   # a NaN in a window stays NaN
    taken = xp.zeros(out.shape, dtype=bool)
    first_max = []                                        # row-major order: the first tied max wins
    for entry in slices:
        winner = (entry == out) & ~taken
        taken |= winner
        first_max.append(winner)
    return out, cache._replace(saved=xp.stack(first_max))  # (KH·KW, N, C, H_out, W_out) bool


def maxpool2d_backward(dout: Any, cache: Any) -> Any:
    """dout (N, C, H_out, W_out) -> dx (N, C, H, W): each window's gradient goes to its first maximum."""
    _check_dout(dout, cache)
    first_max = cache.saved
    kh, kw = cache.kernel
    dwin = (first_max * dout).reshape(kh, kw, *dout.shape)  # bool · float keeps dout's dtype
    return _scatter(dwin.transpose(2, 3, 0, 1, 4, 5), cache)


def _sum_pool_forward(x: Any, kernel_size: Any, stride: Any, padding: Any, mean: bool) -> tuple[Any, Any]:
    """Σ over each window (zero padding), divided by KH·KW for the mean."""
    windows, cache = _windows(x, kernel_size, stride, padding, fill=0.0)
    divisor = cache.kernel[0] * cache.kernel[1] if mean else None
    out = sum(_offset_slices(windows))
    if divisor is not None:
        out = out / divisor  # a Python int keeps float32 as float32
    return out, cache._replace(saved=divisor)


def _sum_pool_backward(dout: Any, cache: Any) -> Any:
    """Every input of a window receives that window's dout (divided by the divisor, for the mean)."""
    _check_dout(dout, cache)
    xp = array_module(dout)
    share = dout if cache.saved is None else dout / cache.saved
    shape = (*dout.shape[:2], *cache.kernel, *dout.shape[2:])
    return _scatter(xp.broadcast_to(share[:, :, None, None], shape), cache)


def avgpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """x (N, C, H, W) -> (out, cache): the mean of each window; padded zeros count (÷ KH·KW always)."""
    return _sum_pool_forward(x, kernel_size, stride, padding, mean=True)


def avgpool2d_backward(dout: Any, cache: Any) -> Any:
    """dout (N, C, H_out, W_out) -> dx (N, C, H, W): dout/(KH·KW) to every input of each window."""
    return _sum_pool_backward(dout, cache)


def sumpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """x (N, C, H, W) -> (out, cache): y = Σ x_uv over each window (zero padding)."""
    return _sum_pool_forward(x, kernel_size, stride, padding, mean=False)


def sumpool2d_backward(dout: Any, cache: Any) -> Any:
    """dout (N, C, H_out, W_out) -> dx (N, C, H, W): dout to every input of each window."""
    return _sum_pool_backward(dout, cache)


def l2pool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """x (N, C, H, W) -> (out, cache): y = √(Σ x_uv²) over each window (zero padding)."""
    windows, cache = _windows(x, kernel_size, stride, padding, fill=0.0)
    out = array_module(x).sqrt(sum(entry * entry for entry in _offset_slices(windows)))
    return out, cache._replace(saved=(windows, out))


def l2pool2d_backward(dout: Any, cache: Any) -> Any:
    """dx_uv = dout · x_uv / y for each window; 0 for an all-zero window (y = 0 has no derivative)."""
    _check_dout(dout, cache)
    xp = array_module(dout)
    windows, out = cache.saved
    nonzero = out > 0
    safe_out = xp.where(nonzero, out, xp.ones((), dtype=out.dtype))  # no 0/0 warnings
    ratio = xp.where(nonzero, dout / safe_out, xp.zeros((), dtype=dout.dtype))
    return _scatter(windows * ratio[:, :, None, None], cache)
