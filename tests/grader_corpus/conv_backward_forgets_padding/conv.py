"""Bug: the backward pass never cuts the padding off dx.

Otherwise the same as tests/grader_corpus/alternative_correct/conv.py.
"""

from __future__ import annotations

from typing import Any

from minigrad.backend import get_array_module

from ._utils import pair, require_float_array


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int | str = 0, dilation: int = 1,
                     *, strict: bool = False) -> int:
    """(size - F + 2P) // S + 1 with F = D·(K - 1) + 1."""
    for name, value in (("size", size), ("kernel_size", kernel_size), ("stride", stride), ("dilation", dilation)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if padding == "same":
        return -(-size // stride)
    padding = 0 if padding == "valid" else padding
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    span = dilation * (kernel_size - 1) + 1
    room = size + 2 * padding - span
    if room < 0:
        raise ValueError(f"kernel_size {kernel_size} does not fit in the padded input ({size + 2 * padding})")
    if strict and room % stride:
        raise ValueError(f"stride {stride} leaves pixels over")
    return room // stride + 1


def _axis(size: int, k: int, s: int, p: Any, d: int) -> tuple[int, int, int]:
    out = conv_output_size(size, k, s, p, d)
    if p == "same":
        total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
        return out, total // 2, total - total // 2
    p = 0 if p == "valid" else p
    return out, p, p


def _offsets(kh: int, kw: int, s: tuple[int, int], d: tuple[int, int], ho: int, wo: int) -> Any:
    for i in range(kh):
        for j in range(kw):
            yield i, j, (slice(i * d[0], i * d[0] + s[0] * (ho - 1) + 1, s[0]),
                         slice(j * d[1], j * d[1] + s[1] * (wo - 1) + 1, s[1]))


def conv2d_forward(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                   groups: int = 1) -> tuple[Any, Any]:
    """im2col with one strided slice per kernel offset, then a grouped einsum."""
    require_float_array(x, "x", 4)
    require_float_array(w, "w", 4)
    xp = get_array_module(x)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    if cg * groups != c or o % groups:
        raise ValueError(f"w expects {cg * groups} input channels with groups={groups}, x has {c}")
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    p = (padding, padding) if isinstance(padding, str) else pair(padding, "padding", minimum=0)
    ho, top, bottom = _axis(h, kh, s[0], p[0], d[0])
    wo, left, right = _axis(wd, kw, s[1], p[1], d[1])
    x_pad = xp.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    cols = xp.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for i, j, window in _offsets(kh, kw, s, d, ho, wo):
        cols[:, :, i, j] = x_pad[(slice(None), slice(None), *window)]
    cols = cols.reshape(n, groups, cg * kh * kw, ho * wo)
    out = xp.einsum("gok,ngkp->ngop", w.reshape(groups, o // groups, cg * kh * kw), cols).reshape(n, o, ho, wo)
    if b is not None:
        out = out + b.reshape(1, o, 1, 1)
    return out, (cols, w, b is not None, x.shape, (top, bottom, left, right), s, d, groups, (ho, wo))


def conv2d_backward(dout: Any, cache: Any) -> tuple[Any, Any, Any]:
    """dW by einsum with the columns, dX by einsum with W and col2im (+=)."""
    cols, w, has_bias, (n, c, h, wd), (top, bottom, left, right), s, d, groups, (ho, wo) = cache
    xp = get_array_module(dout)
    o, cg, kh, kw = w.shape
    dout_g = dout.reshape(n, groups, o // groups, ho * wo)
    dw = xp.einsum("ngop,ngkp->gok", dout_g, cols).reshape(w.shape)
    dcols = xp.einsum("gok,ngop->ngkp", w.reshape(groups, o // groups, cg * kh * kw), dout_g)
    dcols = dcols.reshape(n, c, kh, kw, ho, wo)
    dx_pad = xp.zeros((n, c, h + top + bottom, wd + left + right), dtype=dout.dtype)
    for i, j, window in _offsets(kh, kw, s, d, ho, wo):
        dx_pad[(slice(None), slice(None), *window)] += dcols[:, :, i, j]
    dx = dx_pad  # BUG: the padding is not cut off
    return dx, dw, (dout.sum(axis=(0, 2, 3)) if has_bias else None)


def conv1d_forward(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                   groups: int = 1) -> tuple[Any, Any]:
    """conv2d on (N, C, 1, L)."""
    require_float_array(x, "x", 3)
    p = padding if isinstance(padding, str) else (0, padding)
    out, cache = conv2d_forward(x[:, :, None], w[:, :, None], b, (1, stride), p, (1, dilation), groups)
    return out[:, :, 0], cache


def conv1d_backward(dout: Any, cache: Any) -> tuple[Any, Any, Any]:
    """conv2d_backward on (N, C, 1, L)."""
    dx, dw, db = conv2d_backward(dout[:, :, None], cache)
    return dx[:, :, 0], dw[:, :, 0], db
