"""Reductions over axes: sum, mean, max, min, var.

``axis`` is None (all axes), an int or a tuple; ``keepdims`` keeps reduced axes
as size 1 (PyTorch's ``dim``/``keepdim`` are accepted too). A reduction's
gradient is spread back over the reduced axes: evenly for sum and mean, to the
extreme elements for max and min (split equally among ties), and by
2(x - mean)/(n - ddof) for var.

``max``/``min`` answer as NumPy does (a tensor) unless given PyTorch's ``dim=``:
then, as ``torch.max(x, dim)`` does, a named tuple ``(values, indices)`` with the
indices of the first extreme along ``dim`` (int64), and the gradient of
``values`` going to exactly those entries.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ..autograd import Context, Function, as_tensor
from ..backend import get_array_module
from ._spelling import pytorch_spellings, spelled
from ._util import expand_reduced, normalize_axes
from .compare import argmax, argmin
from .elementwise import maximum, minimum, sqrt


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
        if math.prod(ctx.in_shape[a] for a in ctx.axes) == 0:
            raise ValueError(f"mean over an empty axis of a tensor of shape {ctx.in_shape}")
        return x.mean(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None, None]:
        n = math.prod(ctx.in_shape[a] for a in ctx.axes)
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


class _PickAlong(Function):
    """The entries of ``x`` at ``index`` along ``axis`` (index from argmax/argmin, keepdims shape).

    values[..., 0, ...] = x[..., index, ...]; the gradient goes to that one entry per slice, so ties
    are not split (PyTorch's ``max(dim=...)`` rule), unlike :class:`Max`.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any, axis: int, keepdims: bool) -> Any:
        xp = get_array_module(x)
        ctx.in_shape, ctx.axis, ctx.keepdims, ctx.index = tuple(x.shape), axis, keepdims, index
        out = xp.take_along_axis(x, index, axis=axis)
        return out if keepdims else out.reshape([n for i, n in enumerate(x.shape) if i != axis])

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None, None, None]:
        xp = get_array_module(grad)
        positions = xp.arange(ctx.in_shape[ctx.axis]).reshape(
            [n if i == ctx.axis else 1 for i, n in enumerate(ctx.in_shape)])
        hit = positions == ctx.index  # one True per slice along the axis
        g = expand_reduced(grad, ctx.in_shape, (ctx.axis,), ctx.keepdims)
        return xp.where(hit, g, 0).astype(grad.dtype, copy=False), None, None, None


class ValuesIndices(NamedTuple):
    """What ``x.max(dim=d)`` and ``x.min(dim=d)`` return, as PyTorch does: ``values, indices = x.max(dim=1)``."""

    values: Any
    indices: Any


class Var(Function):
    """Variance Σ(x - mean)² / (n - ddof); ddof=0 is the biased estimate BatchNorm uses."""

    @staticmethod
    def forward(ctx: Context, x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
        ctx.axes = normalize_axes(axis, x.ndim, "var")
        ctx.in_shape, ctx.keepdims = tuple(x.shape), keepdims
        n = math.prod(ctx.in_shape[a] for a in ctx.axes)
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


@pytorch_spellings
def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Σ over ``axis`` (None: all axes; int or tuple); ``keepdims`` keeps them as size 1."""
    return Sum.apply(x, axis, keepdims)


@pytorch_spellings
def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Σ/n over ``axis``, n the number of values reduced."""
    return Mean.apply(x, axis, keepdims)


def _extreme(pick: str, x: Any, axis: Any, keepdims: bool | None, kwargs: dict[str, Any]) -> Any:
    """max/min: NumPy's answer, PyTorch's (values, indices) for ``dim=``, ``maximum`` for a tensor."""
    for key in kwargs:
        if key not in ("dim", "keepdim"):
            raise TypeError(f"{pick}() got an unexpected keyword argument {key!r}; "
                            f"{spelled(pick, ['axis', 'keepdims'])}")
    if "keepdim" in kwargs:
        if keepdims is not None:
            raise TypeError(f"{pick}(): keepdims= and keepdim= are two spellings of one argument; give it once")
        keepdims = kwargs["keepdim"]
    keepdims = bool(keepdims)
    dim = kwargs.get("dim")
    if hasattr(axis, "requires_grad"):  # torch.max(a, b): the elementwise extreme of two tensors
        return (maximum if pick == "max" else minimum)(x, axis)
    if dim is None:
        return (Max if pick == "max" else Min).apply(x, axis, keepdims)
    if axis is not None:
        raise TypeError(f"{pick}(): axis= and dim= are two spellings of one argument; give it once")
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{pick}(dim=...) takes one dimension, as in PyTorch; for several write "
                        f"{pick}(axis={tuple(dim)!r})")
    x = as_tensor(x)
    (axis,) = normalize_axes(dim, x.ndim, pick)
    if x.size == 0:
        raise ValueError(f"{pick} of an empty tensor of shape {x.shape}")
    index = (argmax if pick == "max" else argmin)(x, axis, keepdims=True)
    values = _PickAlong.apply(x, index.data, axis, keepdims)
    return ValuesIndices(values, index if keepdims else index.reshape(values.shape))


def max(x: Any, axis: Any = None, keepdims: bool | None = None, **kwargs: Any) -> Any:
    """The largest value over ``axis`` (None: all; int or tuple), a tensor; ties share the gradient.

    PyTorch's forms: ``max(dim=d, keepdim=False)`` -> ``ValuesIndices(values, indices)``, the indices of
    the first maximum along ``d`` (the gradient goes there); ``max(other)`` -> ``maximum(x, other)``.
    """
    return _extreme("max", x, axis, keepdims, kwargs)


def min(x: Any, axis: Any = None, keepdims: bool | None = None, **kwargs: Any) -> Any:
    """The smallest value over ``axis``; PyTorch's ``min(dim=d)`` and ``min(other)`` as in :func:`max`."""
    return _extreme("min", x, axis, keepdims, kwargs)


@pytorch_spellings
def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
    """Σ(x - mean)² / (n - ddof) over ``axis``. ddof defaults to 0 (NumPy); PyTorch's default is 1."""
    return Var.apply(x, axis, keepdims, ddof)


@pytorch_spellings
def std(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
    """√var(x, axis, keepdims, ddof); ddof defaults to 0 (NumPy), PyTorch's to 1."""
    return sqrt(var(x, axis, keepdims, ddof))


