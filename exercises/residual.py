"""Exercise 6 — the basic residual block of ResNet-18/34.

Very deep plain networks train worse than shallow ones: the gradient fades on its way back. A
residual block lets its two convolutions learn only the residual F(x) = H(x) - x of the mapping
H(x) it should compute, and adds the input back through a skip connection:

    out = relu(F(x) + shortcut(x))
    F   = conv3×3 (stride, padding 1, no bias) -> BatchNorm2d -> ReLU -> conv3×3 (padding 1, no bias)
          -> BatchNorm2d

shortcut(x) is x itself when F(x) has x's shape (the solid lines of the ResNet-34 diagram). When the
block changes the shape — stride 2, or more channels (the dotted lines) — the shortcut projects x:
a 1×1 convolution with the same stride and no bias, then BatchNorm2d.

Parameters of a C -> C block: 2·(3·3·C·C) + 2·(2·C) (73,984 for C = 64); a projection from C_in to
C_out adds 1·1·C_in·C_out + 2·C_out.

Build it from ``minigrad.nn`` layers (Conv2d, BatchNorm2d, Sequential) and ``minigrad.nn.functional.relu``
so that your own kernels run inside it. The attribute names are fixed — tests and state_dict keys
use them: conv1, bn1, conv2, bn2, shortcut (None for the identity, else
``nn.Sequential(nn.Conv2d(...), nn.BatchNorm2d(...))``).
"""

from __future__ import annotations

from minigrad import nn
from minigrad.tensor import Tensor


class ResidualBlock(nn.Module):
    """(N, in_channels, H, W) -> (N, out_channels, ⌈H/stride⌉, ⌈W/stride⌉)."""

    expansion = 1  # block output channels / out_channels, read by ResNet builders (4 for bottlenecks)

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        """Create conv1, bn1, conv2, bn2 and shortcut (None when stride == 1 and in == out channels)."""
        super().__init__()
        raise NotImplementedError("exercise ResidualBlock.__init__: create conv1, bn1, conv2, bn2 and "
                                  "shortcut in exercises/residual.py")

    def forward(self, x: Tensor) -> Tensor:
        """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), shortcut(x) = x when it is None."""
        raise NotImplementedError("exercise ResidualBlock.forward: add the residual branch to the shortcut "
                                  "in exercises/residual.py")
