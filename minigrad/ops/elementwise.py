"""Elementwise math: exp, log, sqrt, abs, tanh, sigmoid, clip, maximum, minimum, where.

Each backward multiplies ``grad`` by the local derivative, written in terms of
what forward already computed where that is cheaper (exp, sqrt, tanh and
sigmoid reuse their output).
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module
from ._util import broadcast_shapes, constant, shape_of, unbroadcast


class Exp(Function):
    """d/dx e^x = e^x."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = get_array_module(x).exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_arrays
        return grad * out


class Log(Function):
    """d/dx ln x = 1/x."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return get_array_module(x).log(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_arrays
        return grad / x


class Sqrt(Function):
    """d/dx √x = 1 / (2√x)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = get_array_module(x).sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_arrays
        return grad / (2 * out)


class Abs(Function):
    """d/dx |x| = sign(x), taken as 0 at x = 0."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return get_array_module(x).abs(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_arrays
        return grad * get_array_module(x).sign(x)


class Tanh(Function):
    """d/dx tanh x = 1 - tanh² x."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = get_array_module(x).tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_arrays
        return grad * (1 - out * out)


class Sigmoid(Function):
    """σ(x) = 1 / (1 + e^-x), computed as exp(-log(1 + e^-x)) so large |x| never overflows; σ' = σ(1 - σ)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = get_array_module(x)
        out = xp.exp(-xp.logaddexp(0, -x)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_arrays
        return grad * out * (1 - out)


class Clip(Function):
    """Clamp to [low, high]; the gradient passes where low ≤ x ≤ high."""

    @staticmethod
    def forward(ctx: Context, x: Any, low: Any, high: Any) -> Any:
        if low is not None and high is not None and low > high:
            raise ValueError(f"clip: low={low} is greater than high={high}")
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        if low is None and high is None:  # nothing to clamp; NumPy before 2.1 and CuPy refuse clip(x, None, None)
            return x.copy()
        return get_array_module(x).clip(x, low, high)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None, None]:
        (x,) = ctx.saved_arrays
        keep = get_array_module(x).ones(x.shape, dtype=bool)
        if ctx.low is not None:
            keep &= x >= ctx.low
        if ctx.high is not None:
            keep &= x <= ctx.high
        return grad * keep, None, None


class _Extremum(Function):
    """Elementwise max/min of two inputs; where they tie, each gets half the gradient."""

    pick: str

    @classmethod
    def forward(cls, ctx: Context, a: Any, b: Any) -> Any:
        xp = _module(a, b)
        ctx.a_shape, ctx.b_shape = shape_of(a), shape_of(b)
        broadcast_shapes(cls.pick, ctx.a_shape, ctx.b_shape)
        out = getattr(xp, cls.pick)(a, b)
        ctx.save_for_backward(a, b)
        return out

    @classmethod
    def backward(cls, ctx: Context, grad: Any) -> tuple[Any, Any]:
        a, b = ctx.saved_arrays
        a_wins = (a > b) if cls.pick == "maximum" else (a < b)
        share_a = a_wins + 0.5 * (a == b)
        ga = unbroadcast(grad * share_a, ctx.a_shape)
        gb = unbroadcast(grad * (1 - share_a), ctx.b_shape)
        dtype = grad.dtype
        return ga.astype(dtype, copy=False), gb.astype(dtype, copy=False)


class Maximum(_Extremum):
    pick = "maximum"


class Minimum(_Extremum):
    pick = "minimum"


class Where(Function):
    """``where(cond, a, b)``: a's gradient flows where cond holds, b's elsewhere."""

    @staticmethod
    def forward(ctx: Context, cond: Any, a: Any, b: Any) -> Any:
        xp = _module(cond, a, b)
        ctx.a_shape, ctx.b_shape = shape_of(a), shape_of(b)
        broadcast_shapes("where", shape_of(cond), ctx.a_shape, ctx.b_shape)
        cond = xp.asarray(cond).astype(bool, copy=False)
        ctx.save_for_backward(cond)
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[None, Any, Any]:
        (cond,) = ctx.saved_arrays
        zero = grad.dtype.type(0)
        xp = get_array_module(grad)
        ga = unbroadcast(xp.where(cond, grad, zero), ctx.a_shape)
        gb = unbroadcast(xp.where(cond, zero, grad), ctx.b_shape)
        return None, ga, gb


def _module(*values: Any) -> Any:
    """The array module of the first array among ``values`` (scalars belong to none)."""
    for v in values:
        if hasattr(v, "shape"):
            return get_array_module(v)
    return get_array_module(values[0])


def exp(x: Any) -> Any:
    return Exp.apply(x)


def log(x: Any) -> Any:
    return Log.apply(x)


def sqrt(x: Any) -> Any:
    return Sqrt.apply(x)


def abs(x: Any) -> Any:
    return Abs.apply(x)


def tanh(x: Any) -> Any:
    return Tanh.apply(x)


def sigmoid(x: Any) -> Any:
    return Sigmoid.apply(x)


def clip(x: Any, low: float | None = None, high: float | None = None) -> Any:
    return Clip.apply(x, constant(low), constant(high))


def maximum(a: Any, b: Any) -> Any:
    return Maximum.apply(constant(a), constant(b))


def minimum(a: Any, b: Any) -> Any:
    return Minimum.apply(constant(a), constant(b))


def where(cond: Any, a: Any, b: Any) -> Any:
    return Where.apply(cond, constant(a), constant(b))
