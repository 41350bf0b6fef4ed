"""ResNet-18 and ResNet-34 (He et al., 2016) from the active kernel source's ``ResidualBlock``.

    stem    conv 7×7/2, 64, pad 3 (no bias) → BN → ReLU → max pool 3×3/2 pad 1    224 → 112 → 56
    layer1  n₁ blocks,  64 channels, stride 1                                      56
    layer2  n₂ blocks, 128 channels, first block stride 2                          28
    layer3  n₃ blocks, 256 channels, first block stride 2                          14
    layer4  n₄ blocks, 512 channels, first block stride 2                          7
    head    global average pool (N, 512, 7, 7) → (N, 512) → fully connected → classes

with (n₁, n₂, n₃, n₄) = (2, 2, 2, 2) for ResNet-18 and (3, 4, 6, 3) for ResNet-34.
A block is conv3×3 → BN → ReLU → conv3×3 → BN, plus a shortcut (identity, or
a 1×1 conv with stride + BN where the shape changes), then ReLU. The block
class is the active kernel source's (``minigrad.kernels.residual.ResidualBlock``), so students
train on their own block with ``minigrad.use_kernels("exercises")``.

Parameters with 1000 classes on RGB input: 11,689,512 (ResNet-18) and
21,797,672 (ResNet-34), as torchvision counts them (convs without bias, BN's
γ and β counted, running statistics not). ``small_input=True`` replaces the
stem by a 3×3/1 conv without max pool for 28×28 or 32×32 images.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import kernels, nn
from ..tensor import Tensor

__all__ = ["ResNet", "resnet", "resnet18", "resnet34"]

WIDTHS = (64, 128, 256, 512)


class ResNet(nn.Module):
    """Stem → layer1 ... layer4 (Sequential of residual blocks) → global average pool → fc.

    Submodules are named as in torchvision (``conv1``, ``bn1``, ``relu``,
    ``maxpool``, ``layer1`` ... ``layer4``, ``avgpool``, ``fc``).
    """

    def __init__(self, blocks: Sequence[int], num_classes: int = 1000, in_channels: int = 3,
                 small_input: bool = False, widths: Sequence[int] = WIDTHS) -> None:
        super().__init__()
        if len(blocks) != len(widths) or not all(isinstance(n, int) and n > 0 for n in blocks):
            raise ValueError(f"ResNet: blocks must be {len(widths)} positive ints, got {blocks!r}")
        block = kernels.residual.ResidualBlock
        self.blocks, self.small_input = tuple(blocks), small_input
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, widths[0], 3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2, padding=1)
        expansion = getattr(block, "expansion", 1)  # output channels per unit of width (1: basic block)
        channels = widths[0]
        for i, (n, width) in enumerate(zip(blocks, widths), start=1):
            stride = 1 if i == 1 else 2
            stage = [block(channels, width, stride)]
            stage += [block(width * expansion, width, 1) for _ in range(n - 1)]
            setattr(self, f"layer{i}", nn.Sequential(*stage))
            channels = width * expansion
        self.avgpool = nn.GlobalAvgPool2d()
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, len(self.blocks) + 1):
            x = getattr(self, f"layer{i}")(x)
        return self.fc(self.avgpool(x))

    def extra_repr(self) -> str:
        return f"blocks={list(self.blocks)}, small_input={self.small_input}"


def resnet(blocks: Sequence[int], num_classes: int = 1000, in_channels: int = 3,
           small_input: bool = False) -> ResNet:
    """A ResNet with ``blocks[i]`` residual blocks in stage i (64, 128, 256, 512 channels)."""
    return ResNet(blocks, num_classes, in_channels, small_input)


def resnet18(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False) -> ResNet:
    """ResNet-18: stages [2, 2, 2, 2]; 11,689,512 parameters (1000 classes, RGB)."""
    return ResNet((2, 2, 2, 2), num_classes, in_channels, small_input)


def resnet34(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False) -> ResNet:
    """ResNet-34: stages [3, 4, 6, 3]; 21,797,672 parameters (1000 classes, RGB)."""
    return ResNet((3, 4, 6, 3), num_classes, in_channels, small_input)
