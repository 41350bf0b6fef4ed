"""Naive loop references for the kernels, in float64: slow, short, and obviously right.

Each loops over every output position and reads its window straight from the definition, with
padding, stride, dilation and groups given explicitly per side/axis (no "same"; the tests resolve
it with :func:`same_padding`). Gradients come from the same loops: every output scatters its
upstream gradient back into the inputs it read.
"""

from __future__ import annotations

import numpy as np

Pair = tuple[int, int]


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> Pair:
    """(before, after) for output ceil(size/stride): TF's rule, the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _pad(x: np.ndarray, pads: tuple[Pair, Pair], fill: float = 0.0) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]), constant_values=fill)


def conv2d(x, w, b, stride: Pair, pads: tuple[Pair, Pair], dilation: Pair, groups: int, dout=None):
    """out, or (out, dx, dw, db) when ``dout`` is given; x (N, C, H, W), w (O, C/groups, KH, KW)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    x_pad = _pad(x, pads)
    n_batch = x.shape[0]
    c_out, c_g, kh, kw = w.shape
    (sh, sw), (dil_h, dil_w) = stride, dilation
    h_out = (x_pad.shape[2] - dil_h * (kh - 1) - 1) // sh + 1
    w_out = (x_pad.shape[3] - dil_w * (kw - 1) - 1) // sw + 1
    out = np.zeros((n_batch, c_out, h_out, w_out))
    dx_pad, dw, db = np.zeros_like(x_pad), np.zeros_like(w), np.zeros(c_out)
    o_g = c_out // groups
    for n in range(n_batch):
        for o in range(c_out):
            chans = slice((o // o_g) * c_g, (o // o_g + 1) * c_g)
            for p in range(h_out):
                rows = slice(p * sh, p * sh + dil_h * (kh - 1) + 1, dil_h)
                for q in range(w_out):
                    cols = slice(q * sw, q * sw + dil_w * (kw - 1) + 1, dil_w)
                    window = x_pad[n, chans, rows, cols]
                    out[n, o, p, q] = np.sum(window * w[o]) + (0.0 if b is None else b[o])
                    if dout is not None:
                        g = dout[n, o, p, q]
                        dx_pad[n, chans, rows, cols] += g * w[o]
                        dw[o] += g * window
                        db[o] += g
    if dout is None:
        return out
    (top, _), (left, _) = pads
    dx = dx_pad[:, :, top:top + x.shape[2], left:left + x.shape[3]]
    return out, dx, dw, (None if b is None else db)


def conv1d(x, w, b, stride: int, pads: Pair, dilation: int, groups: int, dout=None):
    """The same loops along one axis: x (N, C, L), w (O, C/groups, K)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    x_pad = np.pad(x, ((0, 0), (0, 0), pads))
    n_batch = x.shape[0]
    c_out, c_g, k = w.shape
    l_out = (x_pad.shape[2] - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((n_batch, c_out, l_out))
    dx_pad, dw, db = np.zeros_like(x_pad), np.zeros_like(w), np.zeros(c_out)
    o_g = c_out // groups
    for n in range(n_batch):
        for o in range(c_out):
            chans = slice((o // o_g) * c_g, (o // o_g + 1) * c_g)
            for p in range(l_out):
                taps = slice(p * stride, p * stride + dilation * (k - 1) + 1, dilation)
                out[n, o, p] = np.sum(x_pad[n, chans, taps] * w[o]) + (0.0 if b is None else b[o])
                if dout is not None:
                    g = dout[n, o, p]
                    dx_pad[n, chans, taps] += g * w[o]
                    dw[o] += g * x_pad[n, chans, taps]
                    db[o] += g
    if dout is None:
        return out
    dx = dx_pad[:, :, pads[0]:pads[0] + x.shape[2]]
    return out, dx, dw, (None if b is None else db)


def pool2d(kind: str, x, kernel: Pair, stride: Pair, padding: Pair, dout=None):
    """kind in max, avg, sum, l2; out, or (out, dx) when ``dout`` is given.

    max: padding is -inf and a tie sends the gradient to the first maximum met in row-major order.
    avg: padding is 0 and the divisor is always KH·KW. l2: √(Σ x²), gradient x/y (0 when y = 0).
    """
    x = np.asarray(x, np.float64)
    pads = ((padding[0], padding[0]), (padding[1], padding[1]))
    x_pad = _pad(x, pads, -np.inf if kind == "max" else 0.0)
    n_batch, chans = x.shape[:2]
    (kh, kw), (sh, sw) = kernel, stride
    h_out, w_out = (x_pad.shape[2] - kh) // sh + 1, (x_pad.shape[3] - kw) // sw + 1
    out = np.zeros((n_batch, chans, h_out, w_out))
    dx_pad = np.zeros_like(x_pad)
    for n in range(n_batch):
        for c in range(chans):
            for p in range(h_out):
                for q in range(w_out):
                    r0, c0 = p * sh, q * sw
                    if kind == "max":
                        best, at = -np.inf, (r0, c0)
                        for i in range(kh):
                            for j in range(kw):
                                if x_pad[n, c, r0 + i, c0 + j] > best:  # strict: the first max keeps it
                                    best, at = x_pad[n, c, r0 + i, c0 + j], (r0 + i, c0 + j)
                        out[n, c, p, q] = best
                        if dout is not None:
                            dx_pad[n, c, at[0], at[1]] += dout[n, c, p, q]
                        continue
                    window = x_pad[n, c, r0:r0 + kh, c0:c0 + kw]
                    if kind == "l2":
                        y = np.sqrt(np.sum(window ** 2))
                        grad = window / y if y > 0 else np.zeros_like(window)
                    else:
                        y = np.sum(window) / (kh * kw if kind == "avg" else 1)
                        grad = np.full_like(window, 1.0 / (kh * kw if kind == "avg" else 1))
                    out[n, c, p, q] = y
                    if dout is not None:
                        dx_pad[n, c, r0:r0 + kh, c0:c0 + kw] += dout[n, c, p, q] * grad
    if dout is None:
        return out
    return out, dx_pad[:, :, padding[0]:padding[0] + x.shape[2], padding[1]:padding[1] + x.shape[3]]


def assert_matches(actual, expected, rtol: float = 1e-10) -> None:
    """Same shape, then values equal to ``rtol`` relative to the largest expected magnitude."""
    expected = np.asarray(expected)
    assert tuple(actual.shape) == expected.shape, f"shape {tuple(actual.shape)} != expected {expected.shape}"
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
    err = float(np.max(np.abs(np.asarray(actual, np.float64) - expected), initial=0.0))
    assert err <= rtol * scale, f"max abs error {err:.3e} > {rtol:.0e} × {scale:.3e}"

