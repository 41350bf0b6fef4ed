"""Convolution layers; the math runs in the active kernel source (see :mod:`minigrad.kernels`).

Output size per spatial axis: (W - F + 2P)/S + 1 for input W, kernel F,
padding P, stride S (with dilation D the kernel spans D·(F - 1) + 1; see
:mod:`.geometry`). Parameters: (F·F·C_in/groups + 1)·C_out — e.g. ten 5×5
filters on 3 channels: (5·5·3 + 1)·10 = 760.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..creation import empty
from ..tensor import Tensor
from . import functional as F
from . import init
from .geometry import output_size, spatial_tuple
from .module import Module, Parameter


class _ConvNd(Module):
    n_spatial: int
    axes: str  # the spatial axes' names, for error messages
    function: Callable[..., Tensor]  # the functional form: F.conv2d or F.conv1d

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

    def _check(self, shape: tuple[int, ...]) -> None:
        if len(shape) != self.n_spatial + 2 or shape[1] != self.in_channels:
            raise ValueError(f"{type(self).__name__}: expected input (N, {self.in_channels}, {self.axes}), "
                             f"got shape {shape}")

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The output's shape for an input of ``shape``, without computing it (:mod:`.geometry`)."""
        self._check(shape)
        pads = (self.padding,) * self.n_spatial if isinstance(self.padding, str) else self.padding
        return (shape[0], self.out_channels, *map(output_size, shape[2:], self.kernel_size, self.stride, pads,
                                                  self.dilation))

    def forward(self, x: Tensor) -> Tensor:
        self._check(x.shape)
        return self.function(x, self.weight, self.bias, **self._options())

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

    n_spatial, axes, function = 2, "H, W", staticmethod(F.conv2d)


class Conv1d(_ConvNd):
    """1-D convolution over signals such as spectra: (N, C_in, L) -> (N, C_out, L')."""

    n_spatial, axes, function = 1, "L", staticmethod(F.conv1d)
