"""The basic residual block of ResNet-18/34 (He et al., 2016).

Instead of learning a mapping H(x) directly, the two stacked convolutions learn the residual
F(x) = H(x) - x, and the input is added back through a skip connection:

    out = relu(F(x) + shortcut(x)),   F = bn2 ∘ conv2(3×3) ∘ relu ∘ bn1 ∘ conv1(3×3, stride)

The shortcut is the identity (``shortcut is None``) when x and F(x) have the same shape. When the
block changes the shape — a stride that halves H and W, or more channels (the dotted lines of the
ResNet-34 figure) — it is a projection: a 1×1 convolution with the same stride, then batch norm.
The convolutions have no bias, since the batch norm after each one has its own shift β.

Parameters: 2·(3·3·C·C) + 2·(2·C) for C → C (73,984 for C = 64); a projection C_in → C_out adds
1·1·C_in·C_out + 2·C_out. The skip also gives gradients a short path back to early layers: d out/dx
contains the identity term, which is why very deep ResNets still train.
"""

from __future__ import annotations

from minigrad import nn
from minigrad.nn import functional as F
from minigrad.tensor import Tensor

__all__ = ["ResidualBlock"]


class ResidualBlock(nn.Module):
    """(N, in_channels, H, W) -> (N, out_channels, ⌈H/stride⌉, ⌈W/stride⌉)."""

    expansion = 1  # block output channels / out_channels, read by ResNet builders (4 for bottlenecks)

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride == 1 and in_channels == out_channels:
            self.shortcut = None
        else:  # the shape changes: project x to it with a strided 1×1 convolution
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x: Tensor) -> Tensor:
        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(residual + skip)
