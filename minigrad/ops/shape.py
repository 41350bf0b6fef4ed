"""Ops that move values around without arithmetic.

reshape, permute/transpose, broadcast_to, indexing, concatenate, stack, pad,
dtype casts and device moves. Each backward puts the gradient back where the
values came from: reshape back, permute by the inverse order, scatter-add for
indexing (so repeated indices accumulate), slice for concatenate and pad.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import backend, dtypes
from ..autograd import Context, Function
from ..backend import get_array_module
from ._spelling import pytorch_spellings
from ._util import index_data, normalize_axes, unbroadcast


def _shape_arg(shape: Any, op: str) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in shape):
        raise TypeError(f"{op}: shape must be ints, got {tuple(shape)!r}")
    return tuple(shape)


class Reshape(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...]) -> Any:
        ctx.in_shape = tuple(x.shape)
        known = math.prod(n for n in shape if n != -1)
        if shape.count(-1) > 1 or any(n < -1 for n in shape) or (
                -1 not in shape and known != x.size) or (-1 in shape and (known == 0 or x.size % known)):
            raise ValueError(f"reshape: cannot view {x.size} values of shape {ctx.in_shape} as {shape}")
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None]:
        return grad.reshape(ctx.in_shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)) or len(axes) != x.ndim:
            raise ValueError(f"permute: {axes} is not an ordering of the {x.ndim} axes of {tuple(x.shape)}")
        ctx.axes = tuple(a % x.ndim for a in axes)
        return x.transpose(ctx.axes)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None]:
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return grad.transpose(inverse), None


class BroadcastTo(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...]) -> Any:
        ctx.in_shape = tuple(x.shape)
        try:
            return get_array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"broadcast_to: shape {ctx.in_shape} does not broadcast to {shape}") from None

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None]:
        return unbroadcast(grad, ctx.in_shape), None


def _is_basic(index: Any) -> bool:
    """Basic indices (ints, slices, None, ...) select each element at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class GetItem(Function):
    """``x[index]``; backward scatter-adds, so an index repeated k times collects k gradients."""

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any) -> Any:
        ctx.in_shape, ctx.dtype, ctx.index = tuple(x.shape), x.dtype, index
        try:
            return x[index]
        except IndexError as err:
            raise IndexError(f"index {index!r} for a tensor of shape {ctx.in_shape}: {err}") from None

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None]:
        xp = get_array_module(grad)
        out = xp.zeros(ctx.in_shape, dtype=grad.dtype)
        if _is_basic(ctx.index):
            out[ctx.index] = grad
        else:
            xp.add.at(out, ctx.index, grad)
        return out, None


class Concatenate(Function):
    @staticmethod
    def forward(ctx: Context, axis: int, *parts: Any) -> Any:
        if not parts:
            raise ValueError("concatenate: needs at least one tensor")
        (ctx.axis,) = normalize_axes(axis, parts[0].ndim, "concatenate")
        first = tuple(parts[0].shape)
        for p in parts[1:]:
            other = tuple(p.shape)
            if len(other) != len(first) or any(
                    n != m for i, (n, m) in enumerate(zip(first, other)) if i != ctx.axis):
                raise ValueError(f"concatenate: shapes {first} and {other} differ outside axis {ctx.axis}")
        ctx.sizes = [p.shape[ctx.axis] for p in parts]
        return get_array_module(parts[0]).concatenate(parts, axis=ctx.axis)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        pieces, start = [], 0
        for n in ctx.sizes:
            index = [slice(None)] * grad.ndim
            index[ctx.axis] = slice(start, start + n)
            pieces.append(grad[tuple(index)])
            start += n
        return (None, *pieces)


class Pad(Function):
    """Constant padding; ``pad_width`` as in ``numpy.pad``: ((before, after), ...) per axis."""

    @staticmethod
    def forward(ctx: Context, x: Any, pad_width: Any, value: float = 0.0) -> Any:
        xp = get_array_module(x)
        widths = _pad_widths(pad_width, x.ndim)
        ctx.slices = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape))
        return xp.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None, None]:
        return grad[ctx.slices], None, None


def _pad_widths(pad_width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    if isinstance(pad_width, int):
        widths = ((pad_width, pad_width),) * ndim
    else:
        widths = tuple((p, p) if isinstance(p, int) else tuple(p) for p in pad_width)
    if len(widths) != ndim or any(len(w) != 2 or min(w) < 0 for w in widths):
        raise ValueError(f"pad: pad_width must give (before, after) >= 0 for each of {ndim} axes, "
                         f"got {pad_width!r}")
    return widths


class Cast(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, dtype: Any) -> Any:
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None]:
        if not dtypes.is_floating(ctx.in_dtype):
            return None, None
        return grad.astype(ctx.in_dtype), None


class ToDevice(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, device: str) -> Any:
        ctx.source = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None]:
        return backend.to_device(grad, ctx.source), None


def reshape(x: Any, *shape: Any) -> Any:
    return Reshape.apply(x, _shape_arg(shape, "reshape"))


def permute(x: Any, *axes: Any) -> Any:
    return Permute.apply(x, _shape_arg(axes, "permute"))


def transpose(x: Any, *axes: int) -> Any:
    """No axes: reverse them all (``x.T``); two axes: swap those two, as in PyTorch.

    For any other reordering use :func:`permute`.
    """
    ndim = x.ndim
    if not axes:
        return Permute.apply(x, tuple(reversed(range(ndim))))
    if len(axes) != 2:
        raise ValueError(f"transpose takes no axes or two axes to swap, got {axes}; use permute to reorder")
    (i,), (j,) = normalize_axes(axes[0], ndim, "transpose"), normalize_axes(axes[1], ndim, "transpose")
    order = list(range(ndim))
    order[i], order[j] = order[j], order[i]
    return Permute.apply(x, tuple(order))


def broadcast_to(x: Any, *shape: Any) -> Any:
    return BroadcastTo.apply(x, _shape_arg(shape, "broadcast_to"))


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    """Merge axes start_dim..end_dim into one (``flatten(x, 1)`` keeps the batch axis)."""
    if x.ndim == 0:
        return reshape(x, 1)
    (start,) = normalize_axes(start_dim, x.ndim, "flatten")
    (end,) = normalize_axes(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape
    return reshape(x, *shape[:start], math.prod(shape[start:end + 1]), *shape[end + 1:])


@pytorch_spellings
def squeeze(x: Any, axis: Any = None) -> Any:
    axes = normalize_axes(axis, x.ndim, "squeeze") if axis is not None else tuple(
        i for i, n in enumerate(x.shape) if n == 1)
    if any(x.shape[a] != 1 for a in axes):
        raise ValueError(f"squeeze: axis {axis} of shape {x.shape} is not of size 1")
    return reshape(x, *[n for i, n in enumerate(x.shape) if i not in axes])


@pytorch_spellings
def unsqueeze(x: Any, axis: int) -> Any:
    (a,) = normalize_axes(axis, x.ndim + 1, "unsqueeze")
    shape = list(x.shape)
    shape.insert(a, 1)
    return reshape(x, *shape)


def getitem(x: Any, index: Any) -> Any:
    if isinstance(index, list):
        index = get_array_module(x.data).asarray(index)
    return GetItem.apply(x, index_data(index))


@pytorch_spellings
def concatenate(tensors: Sequence[Any], axis: int = 0) -> Any:
    """Join tensors along an existing ``axis``; their shapes must agree on every other axis."""
    return Concatenate.apply(axis, *tensors)


@pytorch_spellings
def cat(tensors: Sequence[Any], axis: int = 0) -> Any:
    """PyTorch's name for :func:`concatenate`: ``cat([a, b], dim=1)``."""
    return Concatenate.apply(axis, *tensors)


@pytorch_spellings
def stack(tensors: Sequence[Any], axis: int = 0) -> Any:
    """Join along a new axis: every tensor gets a size-1 axis there, then they are concatenated."""
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors need one shape, got {sorted(shapes)}")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis)


def pad(x: Any, pad_width: Any, value: float = 0.0) -> Any:
    return Pad.apply(x, pad_width, value)


def cast(x: Any, dtype: Any) -> Any:
    return Cast.apply(x, dtypes.resolve_dtype(dtype))


def to_device(x: Any, device: str) -> Any:
    return ToDevice.apply(x, backend.normalize_device(device))
