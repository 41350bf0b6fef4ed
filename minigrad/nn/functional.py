"""Functional forms of the layers: ``relu``, ``conv2d``, ``max_pool2d``, ``cross_entropy`` ...

The kernel-backed ops adapt a ``*_forward`` / ``*_backward`` kernel pair from
the active kernel source (:mod:`minigrad.kernels`) into a ``Function``: forward
keeps the kernel's cache in the context, backward hands it back. A layer never
knows whether student or reference code runs, and autograd's gradients are
exactly the kernel's own backward.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from .. import backend, kernels, ops
from ..autograd import Context, Function
from ..backend import get_array_module
from ..kernels import KernelError
from ..ops._spelling import pytorch_spellings
from ..random import get_generator
from ..tensor import Tensor


@functools.lru_cache(maxsize=256)
def _declares_needs_input_grad(kernel: Callable[..., Any]) -> bool:
    try:
        return "needs_input_grad" in inspect.signature(kernel).parameters
    except (TypeError, ValueError):  # a builtin or C function without a signature
        return False


def _takes_needs_input_grad(kernel: Callable[..., Any]) -> bool:
    """Whether a backward kernel declares the optional ``needs_input_grad`` argument."""
    try:
        return _declares_needs_input_grad(kernel)
    except TypeError:  # an unhashable callable object cannot be cached: look every time
        return _declares_needs_input_grad.__wrapped__(kernel)


def _name(kernel: Callable[..., Any]) -> str:
    return getattr(kernel, "__name__", type(kernel).__name__)


class KernelFunction(Function):
    """A Function whose math lives in a kernel pair of the active source: ``pair()`` names it.

    Positional arguments are arrays (the first ``n_grads`` get gradients; later
    ones, such as labels, do not), keyword arguments the options (stride,
    padding ...). The backward kernel returns the ``n_grads`` gradients, a single
    array when there is one.

    A backward kernel that declares ``needs_input_grad`` is told which of them
    anyone wants (like ``ctx.needs_input_grad``) and may return None for the
    others: a network's first convolution has no use for dx, a frozen layer none
    for dw. Kernels without the argument compute everything, as before.
    """

    pair: Callable[[], tuple[Callable[..., Any], Callable[..., Any]]]  # (forward kernel, backward kernel)
    n_grads = 1
    grad_names: tuple[str, ...] = ("x",)

    @classmethod
    def forward(cls, ctx: Context, *arrays: Any, **options: Any) -> Any:
        forward_kernel, ctx.backward_kernel = cls.pair()
        result = forward_kernel(*arrays, **options)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise KernelError(f"{_name(forward_kernel)} must return (out, cache), got {type(result).__name__}")
        out, ctx.cache = result
        if not hasattr(out, "shape"):  # a loss may come back as a Python or NumPy scalar
            out = get_array_module(arrays[0]).asarray(out, dtype=arrays[0].dtype)
        ctx.n_inputs = len(arrays)
        return out

    @classmethod
    def backward(cls, ctx: Context, grad: Any) -> tuple[Any, ...]:
        wanted = ctx.needs_input_grad[:cls.n_grads]
        if _takes_needs_input_grad(ctx.backward_kernel):
            grads = ctx.backward_kernel(grad, ctx.cache, needs_input_grad=wanted)
        else:
            grads = ctx.backward_kernel(grad, ctx.cache)
        if not isinstance(grads, tuple):
            grads = (grads,)
        name = _name(ctx.backward_kernel)
        if len(grads) != cls.n_grads:
            raise KernelError(f"{name} returned {len(grads)} gradients, expected {cls.n_grads}")
        for grad_name, want, value in zip(cls.grad_names, wanted, grads):
            if want and value is None:
                raise KernelError(f"{name} returned None for {grad_name}, whose gradient is needed "
                                  f"(needs_input_grad={wanted})")
        return grads + (None,) * (ctx.n_inputs - cls.n_grads)


class ReLUOp(KernelFunction):
    pair = staticmethod(lambda: (kernels.relu.relu_forward, kernels.relu.relu_backward))


class Conv2dOp(KernelFunction):
    pair = staticmethod(lambda: (kernels.conv.conv2d_forward, kernels.conv.conv2d_backward))
    n_grads = 3  # dx, dw, db (db is None when there is no bias)
    grad_names = ("x", "w", "b")


class Conv1dOp(KernelFunction):
    pair = staticmethod(lambda: (kernels.conv.conv1d_forward, kernels.conv.conv1d_backward))
    n_grads = 3
    grad_names = ("x", "w", "b")


class MaxPool2dOp(KernelFunction):
    pair = staticmethod(lambda: (kernels.pooling.maxpool2d_forward, kernels.pooling.maxpool2d_backward))


class AvgPool2dOp(KernelFunction):
    pair = staticmethod(lambda: (kernels.pooling.avgpool2d_forward, kernels.pooling.avgpool2d_backward))


class SoftmaxCrossEntropyOp(KernelFunction):
    pair = staticmethod(lambda: (kernels.softmax_ce.softmax_cross_entropy_forward,
                                 kernels.softmax_ce.softmax_cross_entropy_backward))
    grad_names = ("logits",)


def relu(x: Tensor) -> Tensor:
    """max(0, x) elementwise; gradient 1 where x > 0 and 0 elsewhere (0 at exactly 0)."""
    return ReLUOp.apply(x)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation: x (N, C_in, H, W), weight (C_out, C_in/groups, KH, KW) -> (N, C_out, H', W').

    H' = (H + 2P - D·(KH - 1) - 1) // S + 1, i.e. (W - F + 2P)/S + 1 when D = 1 (:mod:`.geometry`).
    """
    return Conv2dOp.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation: x (N, C_in, L), weight (C_out, C_in/groups, K) -> (N, C_out, L')."""
    return Conv1dOp.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Max over each window; stride defaults to the kernel size."""
    return MaxPool2dOp.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Mean over each window (padded zeros count); stride defaults to the kernel size."""
    return AvgPool2dOp.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def cross_entropy(logits: Tensor, labels: Any) -> Tensor:
    """Mean softmax cross-entropy of (N, K) logits against N integer labels in [0, K)."""
    raw = labels.data if isinstance(labels, Tensor) else labels
    if not hasattr(raw, "dtype"):
        raw = get_array_module(logits.data).asarray(raw)
    return SoftmaxCrossEntropyOp.apply(logits, raw)


@pytorch_spellings
def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x - max) / Σ exp(x - max), differentiable through the engine's ops."""
    shifted = x - x.max(axis=axis, keepdims=True).detach()
    e = ops.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


@pytorch_spellings
def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """(x - max) - log Σ exp(x - max) along ``axis`` (or ``dim``)."""
    shifted = x - x.max(axis=axis, keepdims=True).detach()
    return shifted - ops.log(ops.exp(shifted).sum(axis=axis, keepdims=True))


def check_features(shape: tuple[int, ...], in_features: int) -> None:
    """A one-line error unless an input of ``shape`` has ``in_features`` values along its last axis."""
    if shape[-1] != in_features:
        raise ValueError(f"linear: input has {shape[-1]} features, the layer expects {in_features} "
                         f"(input shape {shape})")


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weightᵀ + bias, with weight (out_features, in_features)."""
    check_features(x.shape, weight.shape[1])
    out = x @ weight.T
    return out if bias is None else out + bias


class DropoutOp(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, p: float) -> Any:
        keep = get_generator().random(tuple(x.shape)) >= p
        mask = backend.to_device(keep.astype(x.dtype) / x.dtype.type(1 - p), backend.device_of(x))
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None]:
        (mask,) = ctx.saved_arrays
        return grad * mask, None


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each value with probability p and scale the rest by 1/(1 - p) (inverted dropout)."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    return DropoutOp.apply(x, p)
