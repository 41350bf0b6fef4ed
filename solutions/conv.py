"""Convolution kernels (2-D and 1-D): im2col through strides, then one batched matrix product.

What a convolution layer computes is a cross-correlation, as in every framework:

    out[n, o, p, q] = b[o] + Σ_{c,i,j} w[o, c, i, j] · x_pad[n, g·C_g + c, p·S + i·D, q·S + j·D]

with g the group of output channel o and C_g = C_in/groups. True convolution (seed 002:
Σ_s Σ_t A_st B_{i-s, j-t}) flips the kernel first; a CNN skips the flip because its weights are
learned anyway, so a flipped kernel is simply another set of weights to learn.

Sizes, per spatial axis: W_out = (W - F + 2P)/S + 1, where a dilated kernel spans F = D·(K - 1) + 1.
A 7×7 input with a 3×3 filter gives 5 at stride 1 and 3 at stride 2; at stride 3 the windows leave
one pixel over ((7 - 3)/3 + 1 is no integer). Frameworks floor the quotient, and so do we;
``conv_output_size(..., strict=True)`` refuses such a configuration instead.
Parameters: (F·F·C_in/groups + 1)·C_out, e.g. ten 5×5 filters on an RGB image: (5·5·3 + 1)·10 = 760.

Padding: an int or (P_h, P_w) of zeros on both sides of an axis, "valid" (none) or "same", which
makes W_out = ceil(W/S): it pads max((W_out - 1)·S + D·(K - 1) + 1 - W, 0) in total, i.e. D·(K - 1)
at stride 1, half before and half after with the odd pixel at the bottom/right (as TF/Keras do).

How it is computed, and why:
* Batch last inside the kernel. The input is copied once, padded, into (C, H_p, W_p, N) order. In
  that order the pixels a kernel offset touches across the whole batch lie in long contiguous runs
  (W_out·N numbers at stride 1) instead of rows of W_out (14 numbers in LeNet), so every copy and
  add below streams through memory instead of paying NumPy's per-row cost. The GEMMs do not care.
  The copies into and out of that order go in cache-sized pieces (``to_batch_last``/``_first``).
* im2col without a Python loop: ``window_view`` re-strides the padded input into all windows at
  once; one reshape copies them into columns (G, C_g·KH·KW, H_out·W_out·N) — im2col's only copy.
* Forward is one matrix product per group, done as a single batched matmul: (G, O_g, C_g·KH·KW) @ cols
  — with groups=1 a single large GEMM, which is where the time goes. Its (C_out, H_out, W_out, N)
  result is transposed back to (N, C_out, H_out, W_out) on the way out.
* Backward is two more GEMMs: dW = dout @ colsᵀ (contracting over all N·H_out·W_out positions) and
  dcols = Wᵀ @ dout. col2im (``add_windows``) adds dcols back into the padded input with one strided
  add per kernel offset (KH·KW steps, each vectorised over the whole batch); overlapping windows
  accumulate correctly for free. dcols is made a block of output rows at a time (``_ROW_BLOCKS``):
  only a quarter of it exists at once, and each block is added back while it is still in the cache.
  A gradient nobody needs is skipped (``needs_input_grad``): a network's first layer makes no dx.
* The columns stay in the cache for dW: KH·KW times the input's memory, traded for not rebuilding
  them. Peak extra memory of forward + backward stays under twice the columns (``python -m bench``:
  1.5–1.8× at stride 1; nearly 2× at stride 2, where the columns shrink by S² but dx does not).
* conv1d is conv2d on (N, C, 1, L): the math is written once.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._checks import (
    add_windows,
    array_module,
    flags,
    pair,
    require_array,
    require_int,
    single,
    to_batch_first,
    to_batch_last,
    window_view,
)

__all__ = ["conv1d_backward", "conv1d_forward", "conv2d_backward", "conv2d_forward", "conv_output_size"]

PADDING_MODES = ("same", "valid")


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int | str = 0, dilation: int = 1,
                     *, strict: bool = False) -> int:
    """Output length along one axis: (size - F + 2P) // S + 1 with F = D·(kernel_size - 1) + 1.

    ``padding`` is the zeros added on *each* side, or "valid" (0) or "same" (gives ceil(size/S)).
    Raises ValueError when the kernel is larger than the padded input, and with ``strict=True`` also
    when (size - F + 2P) is not a multiple of S (the last window would hang over the edge).
    """
    require_int(size, "size", 1)
    require_int(kernel_size, "kernel_size", 1)
    require_int(stride, "stride", 1)
    require_int(dilation, "dilation", 1)
    if isinstance(padding, str):
        if padding not in PADDING_MODES:
            raise ValueError(f"padding must be a number of pixels, 'same' or 'valid', got {padding!r}")
        if padding == "same":
            return -(-size // stride)
        padding = 0
    require_int(padding, "padding", 0)
    span = dilation * (kernel_size - 1) + 1
    room = size + 2 * padding - span
    if room < 0:
        raise ValueError(f"kernel_size {kernel_size} (spanning {span} with dilation {dilation}) is larger "
                         f"than the padded input {size + 2 * padding} (size {size} + 2·padding {padding})")
    if strict and room % stride:
        raise ValueError(f"stride {stride} does not fit: (W - F + 2P) = ({size} - {span} + 2·{padding}) "
                         f"= {room} is not a multiple of {stride}")
    return room // stride + 1


class _ConvCache(NamedTuple):
    cols: Any                               # (G, C_g·KH·KW, N·H_out·W_out)
    w: Any                                  # (C_out, C_g, KH, KW)
    has_bias: bool
    x_shape: tuple[int, int, int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]  # (top, bottom), (left, right)
    stride: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    out_hw: tuple[int, int]


def _check_conv_args(x: Any, w: Any, b: Any, groups: int) -> None:
    require_array(x, "x", ndim=4)
    require_array(w, "w", ndim=4)
    if w.dtype != x.dtype:
        raise TypeError(f"w has dtype {w.dtype} but x has {x.dtype}; convert one so both match")
    c_out = w.shape[0]
    if b is not None:
        require_array(b, "b", shape=(c_out,))
        if b.dtype != x.dtype:
            raise TypeError(f"b has dtype {b.dtype} but x has {x.dtype}; convert one so both match")
    require_int(groups, "groups", 1)
    if x.shape[1] % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide both x's {x.shape[1]} input channels and "
                         f"w's {c_out} output channels")
    if w.shape[1] * groups != x.shape[1]:
        raise ValueError(f"channel mismatch: w expects {w.shape[1] * groups} input channels "
                         f"(C_in/groups = {w.shape[1]}, groups = {groups}), x has {x.shape[1]}")


def _resolve_geometry(x: Any, w: Any, stride: Any, padding: Any, dilation: Any) -> tuple[Any, ...]:
    """Stride, dilation, per-side padding and output size of each spatial axis."""
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    # a mode string applies to both axes; conv_output_size checks it
    p = (padding, padding) if isinstance(padding, str) else pair(padding, "padding", minimum=0)
    out_hw, pads = [], []
    for size, k, s_i, p_i, d_i in zip(x.shape[2:], w.shape[2:], s, p, d):
        out = conv_output_size(size, k, s_i, p_i, d_i)
        if p_i == "same":
            total = max((out - 1) * s_i + d_i * (k - 1) + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        else:
            pads.append((0, 0) if p_i == "valid" else (p_i, p_i))
        out_hw.append(out)
    return s, d, tuple(pads), tuple(out_hw)


def conv2d_forward(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                   groups: int = 1) -> tuple[Any, Any]:
    """x (N, C_in, H, W), w (C_out, C_in/groups, KH, KW), b (C_out,) or None -> (out, cache).

    out (N, C_out, H_out, W_out) has x's dtype; stride, padding and dilation take an int or a pair,
    padding also "same" or "valid" (see the module docstring).
    """
    _check_conv_args(x, w, b, groups)
    s, d, pads, (h_out, w_out) = _resolve_geometry(x, w, stride, padding, dilation)
    xp = array_module(x)
    n = x.shape[0]
    c_out, c_g, kh, kw = w.shape
    x_pad = to_batch_last(x, pads)                                        # (C, H_p, W_p, N)
    windows = window_view(x_pad.transpose(3, 0, 1, 2), (kh, kw), s, d, (h_out, w_out))  # (N, C, KH, KW, H', W')
    cols = (windows.transpose(1, 2, 3, 4, 5, 0)                           # memory order: batch last
            .reshape(groups, c_g * kh * kw, h_out * w_out * n))           # the one im2col copy
    out = xp.matmul(w.reshape(groups, c_out // groups, c_g * kh * kw), cols)  # (G, O_g, H'·W'·N)
    out = to_batch_first(out.reshape(c_out, h_out, w_out, n))
    if b is not None:
        out += b.reshape(1, c_out, 1, 1)  # out is our own fresh array
    return out, _ConvCache(cols, w, b is not None, tuple(x.shape), pads, s, d, groups, (h_out, w_out))


_ROW_BLOCKS = 4  # dcols is built in this many blocks of output rows (memory and cache reuse)


def conv2d_backward(dout: Any, cache: Any, needs_input_grad: Any = (True, True, True)) -> tuple[Any, Any, Any]:
    """dout (N, C_out, H_out, W_out) -> (dx, dw, db), shaped like x, w and b; db is None without bias.

    ``needs_input_grad`` (three bools, for x, w and b) skips what nobody asked for, returning None in
    its place: a network's first layer needs no dx (its input is data), saving a GEMM and the col2im.
    """
    need_dx, need_dw, need_db = flags(needs_input_grad, "needs_input_grad", 3)
    cols, w, has_bias, (n, c_in, h, w_in), pads, s, d, groups, (h_out, w_out) = cache
    c_out, _, kh, kw = w.shape
    require_array(dout, "dout", shape=(n, c_out, h_out, w_out))
    if dout.dtype != w.dtype:
        raise TypeError(f"dout has dtype {dout.dtype} but the forward pass ran in {w.dtype}")
    xp = array_module(dout)
    dout_g = to_batch_last(dout).reshape(groups, c_out // groups, -1)
    dw = xp.matmul(dout_g, cols.transpose(0, 2, 1)).reshape(w.shape) if need_dw else None  # D @ colsᵀ
    db = dout.sum(axis=(0, 2, 3)) if has_bias and need_db else None
    if not need_dx:
        return None, dw, db
    w_t = w.reshape(groups, c_out // groups, -1).transpose(0, 2, 1)         # (G, C_g·KH·KW, O_g)
    (top, bottom), (left, right) = pads
    dx_pad = xp.zeros((c_in, h + top + bottom, w_in + left + right, n), dtype=dout.dtype)
    rows_per_block = -(-h_out // _ROW_BLOCKS)
    for row in range(0, h_out, rows_per_block):
        rows = min(rows_per_block, h_out - row)
        block = slice(row * w_out * n, (row + rows) * w_out * n)
        dcols = xp.matmul(w_t, dout_g[:, :, block])                        # (G, C_g·KH·KW, rows·W'·N)
        dwin = dcols.reshape(c_in, kh, kw, rows, w_out, n).transpose(5, 0, 1, 2, 3, 4)
        add_windows(dx_pad[:, row * s[0]:].transpose(3, 0, 1, 2), dwin, s, d)  # col2im of these rows
        del dcols, dwin  # freed before the next block is made, so only one block exists at a time
    del dout_g  # freed before dx is copied out of dx_pad: that copy is the backward's peak
    dx = to_batch_first(dx_pad[:, top:top + h, left:left + w_in])
    return dx, dw, db


def conv1d_forward(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                   groups: int = 1) -> tuple[Any, Any]:
    """x (N, C_in, L), w (C_out, C_in/groups, K), b (C_out,) or None -> (out (N, C_out, L_out), cache).

    A 1-D signal (a spectrum) is an image of height 1, so this is conv2d with H = 1 and a 1×K kernel.
    stride, dilation: int; padding: int, "same" or "valid".
    """
    require_array(x, "x", ndim=3)
    require_array(w, "w", ndim=3)
    s, d = single(stride, "stride"), single(dilation, "dilation")
    p = padding if isinstance(padding, str) else (0, single(padding, "padding", minimum=0))
    out, cache = conv2d_forward(x[:, :, None, :], w[:, :, None, :], b, (1, s), p, (1, d), groups)
    return out[:, :, 0, :], cache


def conv1d_backward(dout: Any, cache: Any, needs_input_grad: Any = (True, True, True)) -> tuple[Any, Any, Any]:
    """dout (N, C_out, L_out) -> (dx (N, C_in, L), dw (C_out, C_in/groups, K), db (C_out,) or None).

    ``needs_input_grad`` as for conv2d_backward: a gradient nobody needs comes back as None.
    """
    require_array(dout, "dout", ndim=3)
    dx, dw, db = conv2d_backward(dout[:, :, None, :], cache, needs_input_grad)
    return (None if dx is None else dx[:, :, 0, :]), (None if dw is None else dw[:, :, 0, :]), db
