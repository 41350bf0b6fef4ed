"""Bug: the projection shortcut is a 1×1 convolution without BatchNorm2d.

Otherwise the same as tests/grader_corpus/alternative_correct/residual.py.
"""

from __future__ import annotations

from minigrad import nn
from minigrad.nn import functional as F
from minigrad.tensor import Tensor


class ResidualBlock(nn.Module):
    """relu(shortcut(x) + bn2(conv2(relu(bn1(conv1(x))))))."""

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False))  # BUG

    def forward(self, x: Tensor) -> Tensor:
        """The skip is added before the final ReLU."""
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(skip + self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
