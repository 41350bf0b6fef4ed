"""Operators and methods of ``Tensor``, each a thin call into :mod:`minigrad.ops`.

Kept apart from ``tensor.py`` so that file holds only what a tensor *is*.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from .tensor import Tensor


def _scalar(value: Any) -> Any:
    # NumPy scalars would promote float32 to float64 under NumPy 2's rules;
    # as Python numbers they take the tensor's dtype, like any other constant.
    return value.item() if isinstance(value, np.generic) else value


def _binary(fn: Any, reflected: bool = False) -> Any:
    if reflected:
        def method(self: Tensor, other: Any) -> Tensor:
            return fn(_scalar(other), self)
    else:
        def method(self: Tensor, other: Any) -> Tensor:
            return fn(self, _scalar(other))
    return method


Tensor.__add__ = _binary(ops.add)
Tensor.__radd__ = _binary(ops.add, reflected=True)
Tensor.__sub__ = _binary(ops.sub)
Tensor.__rsub__ = _binary(ops.sub, reflected=True)
Tensor.__mul__ = _binary(ops.mul)
Tensor.__rmul__ = _binary(ops.mul, reflected=True)
Tensor.__truediv__ = _binary(ops.div)
Tensor.__rtruediv__ = _binary(ops.div, reflected=True)
Tensor.__pow__ = _binary(ops.pow)
Tensor.__rpow__ = _binary(ops.pow, reflected=True)
Tensor.__matmul__ = _binary(ops.matmul)
Tensor.__rmatmul__ = _binary(ops.matmul, reflected=True)
Tensor.__neg__ = ops.neg
Tensor.__abs__ = ops.abs
Tensor.__getitem__ = ops.getitem
Tensor.__eq__ = _binary(ops.eq)  # type: ignore[assignment]
Tensor.__ne__ = _binary(ops.ne)  # type: ignore[assignment]
Tensor.__lt__ = _binary(ops.lt)
Tensor.__le__ = _binary(ops.le)
Tensor.__gt__ = _binary(ops.gt)
Tensor.__ge__ = _binary(ops.ge)

for _name in ("exp", "log", "sqrt", "tanh", "sigmoid", "clip", "sum", "mean", "max", "min", "var", "std",
              "reshape", "permute", "transpose", "flatten", "squeeze", "unsqueeze", "broadcast_to",
              "argmax", "argmin", "abs", "pad", "maximum", "minimum"):
    setattr(Tensor, _name, getattr(ops, _name))

Tensor.T = property(lambda self: ops.transpose(self))
Tensor.view = ops.reshape
Tensor.matmul = ops.matmul


def _any(self: Tensor, axis: Any = None) -> Tensor:
    return Tensor._wrap(self.data.any(axis=axis))


def _all(self: Tensor, axis: Any = None) -> Tensor:
    return Tensor._wrap(self.data.all(axis=axis))


Tensor.any = _any
Tensor.all = _all


def _numel(self: Tensor) -> int:
    """The number of elements (PyTorch's name for ``size``)."""
    return self.size


def _dim(self: Tensor) -> int:
    """The number of dimensions (PyTorch's name for ``ndim``)."""
    return self.ndim


Tensor.numel = _numel
Tensor.dim = _dim
