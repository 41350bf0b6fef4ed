"""Kernels written in the ``xp`` style run unchanged on the CuPy stand-in and match NumPy; a stray
``np.`` call inside one fails there, as it would on a GPU."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad import backend
from minigrad.testing import fake_cuda, fakecupy


def im2col(x, kh, kw):
    """(N, C, H, W) -> (N, C*kh*kw, OH*OW), stride 1, via a strided view: no Python loops."""
    xp = backend.get_array_module(x)
    n, c, h, w = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    sn, sc, sh, sw = x.strides
    cols = xp.lib.stride_tricks.as_strided(x, (n, c, kh, kw, oh, ow), (sn, sc, sh, sw, sh, sw))
    return cols.reshape(n, c * kh * kw, oh * ow)


def col2im(cols, shape, kh, kw):
    """Adjoint of im2col: scatter-add every column entry back where it came from."""
    xp = backend.get_array_module(cols)
    n, c, h, w = shape
    oh, ow = h - kh + 1, w - kw + 1
    ci, ki, kj, oi, oj = xp.meshgrid(xp.arange(c), xp.arange(kh), xp.arange(kw), xp.arange(oh), xp.arange(ow),
                                     indexing="ij")
    flat = ((ci * h + ki + oi) * w + kj + oj).reshape(-1)
    out = xp.zeros((n, c * h * w), dtype=cols.dtype)
    for b in range(n):
        xp.add.at(out[b], flat, cols[b].reshape(-1))
    return out.reshape(shape)


def softmax(z):
    xp = backend.get_array_module(z)
    e = xp.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_with_stray_numpy(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # the bug the stand-in exists to catch
    return e / e.sum(axis=-1, keepdims=True)


def conv_layer(x, w):
    """A small forward/backward: conv via im2col, softmax over channels, gradient back to the input."""
    xp = backend.get_array_module(x)
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    cols = im2col(x, kh, kw)
    y = xp.einsum("fk,nkp->nfp", w.reshape(f, -1), cols).reshape(n, f, h - kh + 1, wd - kw + 1)
    p = softmax(y.transpose(0, 2, 3, 1))
    dcols = xp.einsum("fk,nfp->nkp", w.reshape(f, -1), p.transpose(0, 3, 1, 2).reshape(n, f, -1))
    return p, col2im(dcols, x.shape, kh, kw), p.sum()


def test_xp_style_kernels_run_on_the_stand_in_and_match_numpy():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    want = conv_layer(x, w)
    with fake_cuda():
        got = conv_layer(backend.to_device(x, "cuda"), backend.to_device(w, "cuda"))
    for g, e in zip(got, want):
        assert isinstance(g, fakecupy.ndarray), type(g)  # every result stayed on the device
        np.testing.assert_allclose(g.get(), e, rtol=1e-12, atol=1e-12)
    assert got[2].ndim == 0  # a reduction stays on the device as a 0-d array


def test_a_stray_numpy_call_fails_on_the_stand_in_but_not_on_numpy():
    z = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_allclose(softmax_with_stray_numpy(z), softmax(z))  # NumPy alone would never notice
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        softmax_with_stray_numpy(fakecupy.asarray(z))
