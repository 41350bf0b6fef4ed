"""Pooling layers; the math runs in the active kernel source.

Output size per axis: (W - F + 2P)/S + 1 (:mod:`.geometry`), stride S defaulting
to the window F (the seeds' 2×2 max pool with stride 2 halves each side). No
parameters.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .geometry import output_size, spatial_tuple
from .module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        layer = type(self).__name__
        self.kernel_size = spatial_tuple(kernel_size, 2, "kernel_size", layer)
        self.stride = self.kernel_size if stride is None else spatial_tuple(stride, 2, "stride", layer)
        self.padding = spatial_tuple(padding, 2, "padding", layer, allow_zero=True)

    def _check(self, shape: tuple[int, ...]) -> None:
        if len(shape) != 4:
            raise ValueError(f"{type(self).__name__}: expected (N, C, H, W) input, got shape {shape}")

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The output's shape for an input of ``shape``, without computing it (:mod:`.geometry`)."""
        self._check(shape)
        return (*shape[:2], *map(output_size, shape[2:], self.kernel_size, self.stride, self.padding))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over each window (padding counts as -inf); ties send the gradient to the first maximum."""

    def forward(self, x: Tensor) -> Tensor:
        self._check(x.shape)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over each window; padded zeros count towards the mean."""

    def forward(self, x: Tensor) -> Tensor:
        self._check(x.shape)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
