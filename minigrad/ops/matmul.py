"""Matrix product with NumPy's rules: 1-D operands, batches and broadcast batch axes.

For C = A @ B: dA = dC @ Bᵀ and dB = Aᵀ @ dC, with a 1-D operand treated as a
row (A) or a column (B), and batch axes summed back where they were broadcast.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ._util import broadcast_shapes, unbroadcast


def _check(a: Any, b: Any) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands need at least 1 dimension, got shapes {a.shape} and {b.shape}; "
                         "use * for scalars")
    inner_a, inner_b = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ValueError(f"matmul: {tuple(a.shape)} @ {tuple(b.shape)}: inner dimensions {inner_a} "
                         f"and {inner_b} differ")
    broadcast_shapes("matmul (batch axes)", tuple(a.shape[:-2]), tuple(b.shape[:-2]))


class MatMul(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _check(a, b)
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        a, b = ctx.saved_arrays
        if a.ndim == 1 and b.ndim == 1:  # dot product: grad is a scalar
            return grad * b, grad * a
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = g[..., None, :]
        if b.ndim == 1:
            g = g[..., None]
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


def matmul(a: Any, b: Any) -> Any:
    return MatMul.apply(a, b)
