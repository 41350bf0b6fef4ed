"""Elementwise arithmetic with NumPy broadcasting: + - * / ** and negation.

For ``out = f(a, b)`` with broadcasting, each input's gradient is the local
derivative times ``grad``, summed back to the input's shape (``unbroadcast``).
Python and NumPy scalars are constants: they take the tensor's dtype and get
no gradient.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ..backend import get_array_module
from ._util import broadcast_shapes, shape_of, unbroadcast


def _shapes(ctx: Context, op: str, a: Any, b: Any) -> None:
    ctx.a_shape, ctx.b_shape = shape_of(a), shape_of(b)
    if ctx.a_shape != ctx.b_shape and ctx.a_shape and ctx.b_shape:  # equal shapes and scalars always fit
        broadcast_shapes(op, ctx.a_shape, ctx.b_shape)


class Add(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _shapes(ctx, "add", a, b)
        return a + b

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        return unbroadcast(grad, ctx.a_shape), unbroadcast(grad, ctx.b_shape)


class Sub(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _shapes(ctx, "sub", a, b)
        return a - b

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        gb = -unbroadcast(grad, ctx.b_shape) if ctx.needs_input_grad[1] else None
        return unbroadcast(grad, ctx.a_shape), gb


class Mul(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _shapes(ctx, "mul", a, b)
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        a, b = ctx.saved_arrays
        ga = unbroadcast(grad * b, ctx.a_shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(grad * a, ctx.b_shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _shapes(ctx, "div", a, b)
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        a, b = ctx.saved_arrays
        ga = unbroadcast(grad / b, ctx.a_shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(-grad * a / (b * b), ctx.b_shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    """``a ** b``: d/da = b·a^(b-1), 0 where b = 0 (even at a = 0); d/db = a^b·log(a) (defined where a > 0).

    At a = 0 the other exponents follow the formula as torch does: b = 1 gives 1, b = 2 gives 0, and
    0 < b < 1 (a square root) gives +inf.
    """

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _shapes(ctx, "pow", a, b)
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        a, b, out = ctx.saved_arrays
        xp = get_array_module(out)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # a^0 is the constant 1, so its slope is 0 even at a = 0, where b·a^(b-1) would be 0·∞ = NaN
            # (torch agrees). Raising 1 instead of a where b == 0 keeps that term 0, and warning-free.
            base = xp.where(xp.asarray(b) == 0, xp.ones((), dtype=a.dtype), a)
            ga = unbroadcast(grad * b * base ** (b - 1), ctx.a_shape)
        if ctx.needs_input_grad[1]:
            # a Python-scalar base makes a float64 0-d log: keep the gradient in out's dtype
            safe_log = xp.log(xp.where(a > 0, a, 1)).astype(out.dtype, copy=False)
            gb = unbroadcast(grad * out * safe_log, ctx.b_shape)
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        return -a

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return -grad


def add(a: Any, b: Any) -> Any:
    return Add.apply(a, b)


def sub(a: Any, b: Any) -> Any:
    return Sub.apply(a, b)


def mul(a: Any, b: Any) -> Any:
    return Mul.apply(a, b)


def div(a: Any, b: Any) -> Any:
    return Div.apply(a, b)


def pow(a: Any, b: Any) -> Any:
    return Pow.apply(a, b)


def neg(a: Any) -> Any:
    return Neg.apply(a)
