"""minigrad: a small tensor autograd engine for teaching CNNs, on NumPy or CuPy.

    >>> import minigrad as mg
    >>> x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]], dtype=float32)
"""

from . import allocator, backend, kernels, ops, random
from .autograd import Context, Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import DeviceError, get_default_device, set_default_device
from .creation import (
                       arange,
                       empty,
                       eye,
                       full,
                       full_like,
                       linspace,
                       ones,
                       ones_like,
                       rand,
                       rand_like,
                       randint,
                       randn,
                       randn_like,
                       tensor,
                       zeros,
                       zeros_like,
)
from .dtypes import bool_, float32, float64, int8, int16, int32, int64, uint8
from .kernels import active_kernels, use_kernels
from .ops import (
                       abs,
                       argmax,
                       argmin,
                       broadcast_to,
                       cat,
                       clip,
                       concatenate,
                       exp,
                       flatten,
                       log,
                       matmul,
                       max,
                       maximum,
                       mean,
                       min,
                       minimum,
                       pad,
                       permute,
                       reshape,
                       sigmoid,
                       sqrt,
                       squeeze,
                       stack,
                       std,
                       sum,
                       tanh,
                       transpose,
                       unsqueeze,
                       var,
                       where,
)
from .random import manual_seed
from .tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "Context", "DeviceError", "Function", "Tensor", "abs", "active_kernels", "arange", "argmax", "argmin", "backend",
    "bool_", "broadcast_to", "cat", "clip", "concatenate", "empty", "enable_grad", "exp", "eye", "flatten",
    "float32", "float64", "full", "full_like", "get_default_device", "int8", "int16", "int32", "int64",
    "is_grad_enabled", "kernels", "linspace", "log", "manual_seed", "matmul", "max", "maximum", "mean", "min",
    "minimum", "no_grad", "ones", "ones_like", "ops", "pad", "permute", "rand", "rand_like", "randint",
    "randn", "randn_like", "random", "reshape", "set_default_device", "set_grad_enabled", "sigmoid",
    "sqrt", "squeeze", "stack", "std", "sum", "tanh", "tensor", "transpose", "uint8", "unsqueeze", "use_kernels",
    "var", "where", "zeros", "zeros_like",
]

from . import data, models, nn, optim, serialization
from .serialization import load, save

__all__ += ["data", "load", "models", "nn", "optim", "save", "serialization"]

allocator.apply_default()  # reuse freed memory across training steps (see minigrad/allocator.py)
