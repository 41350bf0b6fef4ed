"""Differentiable ops, one family per file; each op is a ``Function`` plus a lowercase wrapper."""

from .arithmetic import add, div, mul, neg, pow, sub
from .compare import argmax, argmin, eq, ge, gt, le, lt, ne
from .elementwise import abs, clip, exp, log, maximum, minimum, sigmoid, sqrt, tanh, where
from .matmul import matmul
from .reduce import ValuesIndices, max, mean, min, std, sum, var
from .shape import (
                    broadcast_to,
                    cast,
                    cat,
                    concatenate,
                    flatten,
                    getitem,
                    pad,
                    permute,
                    reshape,
                    squeeze,
                    stack,
                    to_device,
                    transpose,
                    unsqueeze,
)

__all__ = [
    "ValuesIndices", "abs", "add", "argmax", "argmin", "broadcast_to", "cast", "cat", "clip", "concatenate", "div",
    "eq", "exp",
    "flatten", "ge", "getitem", "gt", "le", "log", "lt", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "ne", "neg", "pad", "permute", "pow", "reshape", "sigmoid", "sqrt", "squeeze",
    "stack", "std", "sub", "sum", "tanh", "to_device", "transpose", "unsqueeze", "var", "where",
]
