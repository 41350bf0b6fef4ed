"""Exercise 4 — pooling: shrink each feature map by reducing small windows to one value.

Pooling has no parameters and works on each channel separately. Over a window of values x_uv:

    max pooling        y = max x_uv
    average pooling    y = (1/(KH·KW)) Σ x_uv
    sum pooling        y = Σ x_uv              (bonus)
    square-sum (L2)    y = √(Σ x_uv²)          (bonus)

Output size per axis, as for a convolution: (W - F + 2P)/S + 1, floored. Compute it here rather than
importing ``conv_output_size`` from exercises/conv.py: pooling is graded with *your* files, so a bug in
one exercise would then cost you points in two. The stride S defaults to the window F: a 2×2 max pool
with stride 2 halves each side, e.g. [[4,3,1,5],[1,3,4,8],[4,5,4,3],[6,5,9,4]] -> [[4,8],[6,9]]. With S < F the
windows overlap.

The rules your kernels must follow:
* padding P may be at most half the window (2·P <= F), else raise a one-line ValueError naming
  "padding"; a window larger than the padded input raises a ValueError naming "kernel_size";
* max pooling pads with -inf (padding never wins), average pooling pads with zeros that count:
  always divide by KH·KW;
* when several values tie for a window's max, the whole gradient goes to the first of them in
  row-major order within the window (``argmax`` over the flattened window gives exactly that one);
* where windows overlap, their gradients add up.
"""

from __future__ import annotations

from typing import Any

from minigrad.backend import get_array_module


def maxpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """x (N, C, H, W) -> (out (N, C, H_out, W_out), cache): the max of each window.

    kernel_size, stride, padding: int or pair (stride None = kernel_size).
    Hints: gather the windows as in conv2d (one strided slice per window offset, or
    ``as_strided``) into (N, C, KH·KW, H_out, W_out); ``.max(axis=2)`` gives out and
    ``.argmax(axis=2)`` the winner of each window, which is all backward needs.
    """
    xp = get_array_module(x)  # noqa: F841  (NumPy or CuPy: call xp.<function>, never np.<function>)
    raise NotImplementedError("exercise maxpool2d_forward: return (max of each window, cache) "
                              "in exercises/pooling.py")


def maxpool2d_backward(dout: Any, cache: Any) -> Any:
    """dout (N, C, H_out, W_out) -> dx (N, C, H, W): each window's dout goes to its (first) max.

    Hint: loop over the KH·KW window offsets k = i·KW + j, add ``xp.where(argmax == k, dout, 0)``
    into the strided slice of dx_pad that offset reads; then cut the padding off.
    """
    xp = get_array_module(dout)  # noqa: F841
    raise NotImplementedError("exercise maxpool2d_backward: route dout to each window's first max "
                              "in exercises/pooling.py")


def avgpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """x (N, C, H, W) -> (out, cache): the mean of each window, padded zeros included (÷ KH·KW)."""
    xp = get_array_module(x)  # noqa: F841
    raise NotImplementedError("exercise avgpool2d_forward: return (mean of each window, cache) "
                              "in exercises/pooling.py")


def avgpool2d_backward(dout: Any, cache: Any) -> Any:
    """dout (N, C, H_out, W_out) -> dx (N, C, H, W): every input of a window gets dout/(KH·KW)."""
    xp = get_array_module(dout)  # noqa: F841
    raise NotImplementedError("exercise avgpool2d_backward: spread dout/(KH·KW) over each window "
                              "in exercises/pooling.py")


def sumpool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """Bonus. x (N, C, H, W) -> (out, cache): y = Σ x_uv over each window (zero padding)."""
    xp = get_array_module(x)  # noqa: F841
    raise NotImplementedError("bonus sumpool2d_forward: return (sum of each window, cache) "
                              "in exercises/pooling.py")


def sumpool2d_backward(dout: Any, cache: Any) -> Any:
    """Bonus. dout (N, C, H_out, W_out) -> dx (N, C, H, W): dout to every input of each window."""
    xp = get_array_module(dout)  # noqa: F841
    raise NotImplementedError("bonus sumpool2d_backward: spread dout over each window "
                              "in exercises/pooling.py")


def l2pool2d_forward(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> tuple[Any, Any]:
    """Bonus. x (N, C, H, W) -> (out, cache): y = √(Σ x_uv²) over each window (zero padding)."""
    xp = get_array_module(x)  # noqa: F841
    raise NotImplementedError("bonus l2pool2d_forward: return (√Σx² of each window, cache) "
                              "in exercises/pooling.py")


def l2pool2d_backward(dout: Any, cache: Any) -> Any:
    """Bonus. dx_uv = dout · x_uv / y for each window; 0 where y = 0 (an all-zero window)."""
    xp = get_array_module(dout)  # noqa: F841
    raise NotImplementedError("bonus l2pool2d_backward: return dout·x/y per window in exercises/pooling.py")
