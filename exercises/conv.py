"""Exercises 2 and 3 — the convolution layer: output sizes, then the forward and backward passes.

A convolution layer slides each filter over the input and takes a dot product at every position —
one neuron per position, all sharing the same weights. Written out (NCHW layout, stride S,
dilation D, zero padding P, groups G with C_g = C_in/G input channels per group):

    out[n, o, p, q] = b[o] + Σ_{c,i,j} w[o, c, i, j] · x_pad[n, g·C_g + c, p·S + i·D, q·S + j·D]

where g is the group of output channel o. This is a cross-correlation: the mathematical convolution
(f * g)(x) = Σ_k f(k)·g(x - k) flips the kernel, but a CNN learns its weights, so the flip would
only relabel them — every framework skips it.

Sizes, per spatial axis (F the kernel size; a dilated kernel spans F = D·(K - 1) + 1):

    W_out = (W - F + 2P)/S + 1            e.g. 7×7 input, 3×3 filter: 5 at S=1, 3 at S=2
    parameters = (F·F·C_in/G + 1)·C_out   e.g. ten 5×5 filters on 32×32×3: (5·5·3 + 1)·10 = 760

At S = 3 the 7×7 example gives (7 - 3)/3 + 1 = 2.33: the filter does not tile the input. Frameworks
floor the result (the last pixel is never visited); ``strict=True`` refuses it instead.

Padding: an int (or a pair (P_h, P_w)) of zeros on both sides, "valid" = 0, or "same", which keeps
W_out = ceil(W/S): total padding max((W_out - 1)·S + D·(K - 1) + 1 - W, 0) — D·(K - 1) at stride 1 —
split in two, the odd pixel going to the bottom/right (as TensorFlow/Keras do).
"""

from __future__ import annotations

from typing import Any

from minigrad.backend import get_array_module


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int | str = 0, dilation: int = 1,
                     *, strict: bool = False) -> int:
    """Output length along one axis: (size - F + 2P) // S + 1 with F = D·(kernel_size - 1) + 1.

    ``padding`` is the zeros on *each* side, or "valid" (0) or "same" (returns ceil(size/stride)).
    Raise a one-line ValueError naming the argument when the kernel is larger than the padded input
    (mention "kernel_size"), when stride/dilation/size < 1 or padding < 0, and — only with
    ``strict=True`` — when (size - F + 2P) is not a multiple of the stride (mention "stride").

        conv_output_size(7, 3) == 5;  conv_output_size(7, 3, stride=2) == 3
        conv_output_size(7, 3, stride=3) == 2;  conv_output_size(7, 3, stride=3, strict=True) raises
        conv_output_size(32, 5, padding=2) == 32
    """
    raise NotImplementedError("exercise conv_output_size: compute (W - F + 2P)/S + 1 in exercises/conv.py")


def conv2d_forward(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                   groups: int = 1) -> tuple[Any, Any]:
    """2-D convolution forward: returns (out, cache).

    Shapes: x (N, C_in, H, W); w (C_out, C_in/groups, KH, KW); b (C_out,) or None;
            out (N, C_out, H_out, W_out) in x's dtype (float32 stays float32).
    stride, dilation: int or pair; padding: int, pair, "same" or "valid". Check the arguments
    first, with one-line ValueError/TypeError messages naming the argument (x, w, b, stride,
    padding, dilation, groups): ``pair`` and ``require_float_array`` in exercises/_utils.py help.

    Hints:
      1. Pad once: ``xp.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))``.
      2. im2col, without a loop over pixels: for each kernel offset (i, j) the inputs it meets form
         the strided slice x_pad[:, :, i·D : i·D + S·(H_out - 1) + 1 : S, j·D : ...] of shape
         (N, C, H_out, W_out). Stack them into columns (N, C, KH, KW, H_out, W_out) — a loop over the
         KH·KW offsets is fine — or build the same view at once with
         ``xp.lib.stride_tricks.as_strided`` (read only!).
      3. Then one matrix product does every dot product: reshape the columns to
         (C_in·KH·KW, N·H_out·W_out) and w to (C_out, C_in·KH·KW). For groups, split C into (G, C_g)
         and use a batched ``xp.matmul`` over G.
      4. Keep in ``cache`` what the backward pass needs: the columns, w, shapes and options.
    """
    xp = get_array_module(x)  # noqa: F841  (NumPy or CuPy: call xp.<function>, never np.<function>)
    raise NotImplementedError("exercise conv2d_forward: implement im2col + one matrix product "
                              "in exercises/conv.py")


def conv2d_backward(dout: Any, cache: Any, needs_input_grad: Any = (True, True, True)) -> tuple[Any, Any, Any]:
    """2-D convolution backward: dout (N, C_out, H_out, W_out) -> (dx, dw, db).

    dx has x's shape, dw w's shape, db is (C_out,) — or None when the forward pass had no bias.
    With the columns X_col (C_in·KH·KW, N·H_out·W_out) and dout as D (C_out, N·H_out·W_out):

        db = Σ_{n,p,q} dout[n, :, p, q]
        dW = D @ X_colᵀ            (reshaped to w's shape)
        dX_col = Wᵀ @ D            then col2im: add each offset's slab back into dx_pad at the very
                                   strided slice it came from (``+=``: overlapping windows add up),
                                   and cut the padding off.

    Optional speed-up: ``needs_input_grad`` (three bools, for x, w, b) says which gradients anyone
    uses; you may return None for one that is False — a network's first layer needs no dx, since
    its input is data. Computing all three anyway is correct too.
    """
    xp = get_array_module(dout)  # noqa: F841
    raise NotImplementedError("exercise conv2d_backward: return (dx, dw, db) via two matrix products and "
                              "col2im in exercises/conv.py")


def conv1d_forward(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                   groups: int = 1) -> tuple[Any, Any]:
    """1-D convolution of signals such as spectra: x (N, C_in, L), w (C_out, C_in/groups, K) -> (out, cache).

    out (N, C_out, L_out), L_out = (L - F + 2P)/S + 1. stride, dilation: int; padding: int, "same" or
    "valid". Hint: a 1-D signal is an image of height 1 — call conv2d_forward on x[:, :, None, :]
    and w[:, :, None, :] with stride (1, S), padding (0, P), dilation (1, D), and drop the axis again.
    """
    xp = get_array_module(x)  # noqa: F841
    raise NotImplementedError("exercise conv1d_forward: reuse conv2d_forward with H = 1 in exercises/conv.py")


def conv1d_backward(dout: Any, cache: Any, needs_input_grad: Any = (True, True, True)) -> tuple[Any, Any, Any]:
    """dout (N, C_out, L_out) -> (dx (N, C_in, L), dw (C_out, C_in/groups, K), db (C_out,) or None).

    ``needs_input_grad``: as in conv2d_backward (optional; computing everything is correct).
    """
    xp = get_array_module(dout)  # noqa: F841
    raise NotImplementedError("exercise conv1d_backward: reuse conv2d_backward with H = 1 "
                              "in exercises/conv.py")
