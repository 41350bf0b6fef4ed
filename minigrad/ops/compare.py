"""Comparisons and arg-reductions: boolean or integer tensors, which never record the graph.

Each is a ``Function`` without a backward: ``Function.apply`` records nothing for a result that is not
floating point, so nobody can ask these for a gradient.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from ..autograd import Context, Function
from ._spelling import pytorch_spellings
from ._util import normalize_axes


class Compare(Function):
    """``op(a, b)`` elementwise, with ``op`` one of ``operator.eq, ne, lt, le, gt, ge``."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any, op: Callable[[Any, Any], Any]) -> Any:
        return op(a, b)


class ArgExtreme(Function):
    """The index of the first largest (``pick="argmax"``) or smallest value along ``axis``, as int64."""

    @staticmethod
    def forward(ctx: Context, x: Any, pick: str, axis: int | None, keepdims: bool) -> Any:
        if axis is not None:
            (axis,) = normalize_axes(axis, x.ndim, pick)
        return getattr(x, pick)(axis=axis, keepdims=keepdims).astype("int64")


def _comparison(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def compare(a: Any, b: Any) -> Any:
        return Compare.apply(a, b, op)

    compare.__name__ = compare.__qualname__ = op.__name__
    return compare


eq, ne, lt, le, gt, ge = (_comparison(getattr(operator, name)) for name in ("eq", "ne", "lt", "le", "gt", "ge"))


@pytorch_spellings
def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """Index of the largest value (the first one among ties), as int64."""
    return ArgExtreme.apply(x, "argmax", axis, keepdims)


@pytorch_spellings
def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """Index of the smallest value (the first one among ties), as int64."""
    return ArgExtreme.apply(x, "argmin", axis, keepdims)
