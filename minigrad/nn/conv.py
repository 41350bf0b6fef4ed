"""Convolution layers; the math runs in the active kernel source (see :mod:`minigrad.kernels`).

Output size per spatial axis: (W - F + 2P)/S + 1 for input W, kernel F,
padding P, stride S (with dilation D the kernel spans D·(F - 1) + 1).
Parameters: (F·F·C_in/groups + 1)·C_out — e.g. ten 5×5 filters on 3 channels:
(5·5·3 + 1)·10 = 760.
"""

from __future__ import annotations

import math
from typing import Any

from ..creation import empty
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


def spatial_tuple(value: Any, n: int, name: str, layer: str, allow_zero: bool = False) -> tuple[int, ...]:
    """``value`` as one int per spatial axis (an int is repeated), or a one-line error naming ``name``."""
    lowest = 0 if allow_zero else 1
    values = (value,) * n if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if len(values) != n or not all(isinstance(v, int) and not isinstance(v, bool) and v >= lowest for v in values):
        expected = "an int" if n == 1 else f"an int or {n} ints"
        raise ValueError(f"{layer}: {name} must be {expected} >= {lowest}, got {value!r}")
    return values


class _ConvNd(Module):
    n_spatial: int

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True) -> None:
        super().__init__()
        layer = type(self).__name__
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{layer}: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{layer}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        n = self.n_spatial
        self.kernel_size = spatial_tuple(kernel_size, n, "kernel_size", layer)
        self.stride = spatial_tuple(stride, n, "stride", layer)
        self.dilation = spatial_tuple(dilation, n, "dilation", layer)
        self.padding = padding if isinstance(padding, str) else spatial_tuple(padding, n, "padding", layer, True)
        fan_in = in_channels // groups * math.prod(self.kernel_size)
        self.weight = Parameter(empty(out_channels, in_channels // groups, *self.kernel_size))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # PyTorch's default: U(-1/√fan_in, 1/√fan_in)
        bound = 1 / math.sqrt(fan_in)
        self.bias = Parameter(init.uniform_(empty(out_channels), -bound, bound)) if bias else None

    def _options(self) -> dict[str, Any]:
        unwrap = (lambda v: v[0]) if self.n_spatial == 1 else (lambda v: v)
        padding = self.padding if isinstance(self.padding, str) else unwrap(self.padding)
        return {"stride": unwrap(self.stride), "padding": padding, "dilation": unwrap(self.dilation),
                "groups": self.groups}

    def extra_repr(self) -> str:
        k = self.kernel_size if self.n_spatial == 2 else self.kernel_size[0]
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={k}"
        for name, default in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)):
            value = self._options()[name]
            if value not in (default, (default, default)):
                text += f", {name}={value!r}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation): (N, C_in, H, W) -> (N, C_out, H', W')."""

    n_spatial = 2

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d: expected input (N, {self.in_channels}, H, W), got shape {x.shape}")
        return F.conv2d(x, self.weight, self.bias, **self._options())


class Conv1d(_ConvNd):
    """1-D convolution over signals such as spectra: (N, C_in, L) -> (N, C_out, L')."""

    n_spatial = 1

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv1d: expected input (N, {self.in_channels}, L), got shape {x.shape}")
        return F.conv1d(x, self.weight, self.bias, **self._options())
