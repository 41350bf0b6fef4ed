"""Basic layers: Linear, Flatten, Identity, Dropout, activations, and global average pooling."""

from __future__ import annotations

import math

from .. import ops
from ..creation import empty
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b with W (out_features, in_features): in·out + out parameters.

    Initialised as in PyTorch: W, b ~ U(-1/√in, 1/√in).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: object = None) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Linear: {name} must be a positive int, got {value!r}")
        self.in_features, self.out_features = in_features, out_features
        dtype = dtype or "float32"
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        bound = 1 / math.sqrt(in_features)
        init.uniform_(self.weight, -bound, bound)
        self.bias = Parameter(init.uniform_(empty(out_features, dtype=dtype), -bound, bound)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The output's shape for an input of ``shape``, without computing it."""
        F.check_features(shape, self.in_features)
        return (*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W): merge axes start_dim..end_dim."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return ops.flatten(x, self.start_dim, self.end_dim)


class Identity(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x


class Dropout(Module):
    """Inverted dropout: in training zero with probability p and scale by 1/(1-p); identity in eval."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ReLU(Module):
    """max(0, x), computed by the active kernel source's ``relu_forward``/``relu_backward``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return ops.sigmoid(x)


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return ops.tanh(x)


class GlobalAvgPool2d(Module):
    """(N, C, H, W) -> (N, C): the mean of each feature map (ResNet's last pooling)."""

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"GlobalAvgPool2d: expected (N, C, H, W) input, got shape {x.shape}")
        return x.mean(axis=(2, 3))
