"""VGG networks (Simonyan & Zisserman, 2014) from the configuration table, VGG16 = configuration D.

Every conv is 3×3, stride 1, padding 1 — (W - 3 + 2·1)/1 + 1 = W, the size is
kept — and followed by ReLU; each block ends in a 2×2 max pool with stride 2,
which halves the size: 224 → 112 → 56 → 28 → 14 → 7. Configuration C puts a
1×1 conv (padding 0) third in blocks 3-5. Three fully connected layers
(7·7·512 → 4096 → 4096 → classes), dropout 0.5 after the first two.

Parameters, (F·F·C_in + 1)·C_out per conv and (in + 1)·out per FC layer, for
1000 classes: A (VGG11) 132,863,336; B (VGG13) 133,047,848; C 133,638,952;
D (VGG16) 138,357,544; E (VGG19) 143,667,240 — the table's 133, 133, 134, 138
and 144 million.
"""

from __future__ import annotations

from .. import nn
from ._base import Network

__all__ = ["VGG_CONFIGS", "vgg", "vgg11", "vgg13", "vgg16", "vgg19"]

#: configuration -> blocks -> (kernel size, output channels) of each conv in the block
VGG_CONFIGS: dict[str, list[list[tuple[int, int]]]] = {
    "A": [[(3, 64)], [(3, 128)], [(3, 256)] * 2, [(3, 512)] * 2, [(3, 512)] * 2],
    "B": [[(3, 64)] * 2, [(3, 128)] * 2, [(3, 256)] * 2, [(3, 512)] * 2, [(3, 512)] * 2],
    "C": [[(3, 64)] * 2, [(3, 128)] * 2, [(3, 256)] * 2 + [(1, 256)], [(3, 512)] * 2 + [(1, 512)],
          [(3, 512)] * 2 + [(1, 512)]],
    "D": [[(3, 64)] * 2, [(3, 128)] * 2, [(3, 256)] * 3, [(3, 512)] * 3, [(3, 512)] * 3],
    "E": [[(3, 64)] * 2, [(3, 128)] * 2, [(3, 256)] * 4, [(3, 512)] * 4, [(3, 512)] * 4],
}


def vgg(config: str = "D", num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5,
        input_size: int = 224) -> Network:
    """VGG of configuration ``config`` ("A" ... "E") for (in_channels, input_size, input_size) images.

    Layers are named ``conv<block>_<i>``, ``relu<block>_<i>``, ``pool<block>``,
    then ``fc6``, ``relu6``, ``drop6``, ``fc7``, ``relu7``, ``drop7``, ``fc8``.
    """
    if config not in VGG_CONFIGS:
        raise ValueError(f"vgg: unknown configuration {config!r}; choose from {', '.join(VGG_CONFIGS)}")
    if input_size % 32:
        raise ValueError(f"vgg: input_size must be a multiple of 32 (five 2×2 pools), got {input_size}")
    layers: list[tuple[str, nn.Module]] = []
    channels = in_channels
    for b, block in enumerate(VGG_CONFIGS[config], start=1):
        for i, (k, out) in enumerate(block, start=1):
            layers.append((f"conv{b}_{i}", nn.Conv2d(channels, out, k, padding=k // 2)))
            layers.append((f"relu{b}_{i}", nn.ReLU()))
            channels = out
        layers.append((f"pool{b}", nn.MaxPool2d(2, stride=2)))
    side = input_size // 32
    layers.append(("flatten", nn.Flatten()))
    for n, (fan_in, fan_out) in ((6, (channels * side * side, 4096)), (7, (4096, 4096))):
        layers.append((f"fc{n}", nn.Linear(fan_in, fan_out)))
        layers.append((f"relu{n}", nn.ReLU()))
        if dropout:
            layers.append((f"drop{n}", nn.Dropout(dropout)))
    layers.append(("fc8", nn.Linear(4096, num_classes)))
    names = {"A": "VGG11", "B": "VGG13", "C": "VGG16-C", "D": "VGG16", "E": "VGG19"}
    return Network(layers, name=names[config])


def vgg11(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> Network:
    """VGG configuration A: 8 conv + 3 FC layers, 132,863,336 parameters."""
    return vgg("A", num_classes, in_channels, dropout)


def vgg13(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> Network:
    """VGG configuration B: 10 conv + 3 FC layers, 133,047,848 parameters."""
    return vgg("B", num_classes, in_channels, dropout)


def vgg16(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> Network:
    """VGG configuration D, the lecture's VGG16: 13 conv + 3 FC layers, 138,357,544 parameters.

    Conv weights (3·3·C_in)·C_out without biases: 1,728, 36,864, 73,728, 147,456,
    294,912, 589,824 ×2, 1,179,648, 2,359,296 ×5; FC weights 7·7·512·4096 =
    102,760,448, 4096·4096 = 16,777,216, 4096·1000 = 4,096,000. Biases add 13,416.
    """
    return vgg("D", num_classes, in_channels, dropout)


def vgg19(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> Network:
    """VGG configuration E: 16 conv + 3 FC layers, 143,667,240 parameters."""
    return vgg("E", num_classes, in_channels, dropout)
