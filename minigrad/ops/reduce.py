"""Reductions over axes: sum, mean, max, min, var.

``axis`` is None (all axes), an int or a tuple; ``keepdims`` keeps reduced axes
as size 1. A reduction's gradient is spread back over the reduced axes:
evenly for sum and mean, to the extreme elements for max and min (split
equally among ties), and by 2(x - mean)/(n - ddof) for var.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ._util import expand_reduced, normalize_axes


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class Sum(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        ctx.axes = normalize_axes(axis, x.ndim, "sum")
        ctx.in_shape, ctx.keepdims = tuple(x.shape), keepdims
        return x.sum(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None, None]:
        return expand_reduced(grad, ctx.in_shape, ctx.axes, ctx.keepdims), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        ctx.axes = normalize_axes(axis, x.ndim, "mean")
        ctx.in_shape, ctx.keepdims = tuple(x.shape), keepdims
        if _count(ctx.in_shape, ctx.axes) == 0:
            raise ValueError(f"mean over an empty axis of a tensor of shape {ctx.in_shape}")
        return x.mean(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None, None]:
        n = _count(ctx.in_shape, ctx.axes)
        return expand_reduced(grad / n, ctx.in_shape, ctx.axes, ctx.keepdims), None, None


class _Extreme(Function):
    """max or min over axes; the gradient goes to the extreme entries, split equally among ties."""

    pick: str

    @classmethod
    def forward(cls, ctx: Context, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        ctx.axes = normalize_axes(axis, x.ndim, cls.pick)
        if x.size == 0:
            raise ValueError(f"{cls.pick} of an empty tensor of shape {tuple(x.shape)}")
        ctx.in_shape, ctx.keepdims = tuple(x.shape), keepdims
        out = getattr(x, cls.pick)(axis=ctx.axes, keepdims=True)
        ctx.save_for_backward(x, out)
        return out if keepdims else out.reshape([n for i, n in enumerate(x.shape) if i not in ctx.axes])

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None, None]:
        x, out = ctx.saved_arrays
        hits = x == out
        share = hits / hits.sum(axis=ctx.axes, keepdims=True)
        g = expand_reduced(grad, ctx.in_shape, ctx.axes, ctx.keepdims)
        return (g * share).astype(grad.dtype, copy=False), None, None


class Max(_Extreme):
    pick = "max"


class Min(_Extreme):
    pick = "min"


class Var(Function):
    """Variance Σ(x - mean)² / (n - ddof); ddof=0 is the biased estimate BatchNorm uses."""

    @staticmethod
    def forward(ctx: Context, x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
        ctx.axes = normalize_axes(axis, x.ndim, "var")
        ctx.in_shape, ctx.keepdims = tuple(x.shape), keepdims
        n = _count(ctx.in_shape, ctx.axes)
        if n - ddof <= 0:
            raise ValueError(f"var: {n} values with ddof={ddof} leave no degrees of freedom")
        centered = x - x.mean(axis=ctx.axes, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.denominator = n - ddof
        return (centered * centered).sum(axis=ctx.axes, keepdims=keepdims) / ctx.denominator

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None, None, None]:
        (centered,) = ctx.saved_arrays
        g = expand_reduced(grad, ctx.in_shape, ctx.axes, ctx.keepdims)
        return g * centered * (2.0 / ctx.denominator), None, None, None


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return Sum.apply(x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return Mean.apply(x, axis, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return Max.apply(x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return Min.apply(x, axis, keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
    return Var.apply(x, axis, keepdims, ddof)


def std(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
    from .elementwise import sqrt

    return sqrt(var(x, axis, keepdims, ddof))


