"""AlexNet as in the lecture's simplified layer table (227×227×3 input, one GPU, no groups).

    INPUT [227×227×3]
    CONV1 [55×55×96]   96 11×11 s4 p0    (227 - 11)/4 + 1 = 55   (11·11·3 + 1)·96    =     34,944
    POOL1 [27×27×96]   3×3 s2            (55 - 3)/2 + 1 = 27
    CONV2 [27×27×256]  256 5×5 s1 p2                             (5·5·96 + 1)·256    =    614,656
    POOL2 [13×13×256]  3×3 s2
    CONV3 [13×13×384]  384 3×3 s1 p1                             (3·3·256 + 1)·384   =    885,120
    CONV4 [13×13×384]  384 3×3 s1 p1                             (3·3·384 + 1)·384   =  1,327,488
    CONV5 [13×13×256]  256 3×3 s1 p1                             (3·3·384 + 1)·256   =    884,992
    POOL3 [6×6×256]    3×3 s2
    FC6   [4096]                                                 (9,216 + 1)·4,096   = 37,752,832
    FC7   [4096]                                                 (4,096 + 1)·4,096   = 16,781,312
    FC8   [1000]                                                 (4,096 + 1)·1,000   =  4,097,000
                                                                               total   62,378,344

Left out: the local response normalisation (NORM1/NORM2 of the longer table:
no parameters, no longer used) and the original two-GPU split (``groups=2`` on
CONV2, CONV4, CONV5; ``alexnet(groups=2)`` builds it: 60,965,224 parameters). Dropout 0.5
before FC6 and FC7 as in the paper.
"""

from __future__ import annotations

from .. import nn
from ._base import Network

__all__ = ["alexnet"]


def alexnet(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5, groups: int = 1) -> Network:
    """AlexNet for (in_channels, 227, 227) images: 62,378,344 parameters with 1000 classes.

    ``groups=2`` splits CONV2, CONV4 and CONV5 as the two-GPU original did (each
    filter sees C_in/2 channels: (F·F·C_in/2 + 1)·C_out parameters).
    """
    def drop(name: str) -> list[tuple[str, nn.Module]]:
        return [(name, nn.Dropout(dropout))] if dropout else []

    return Network([
        ("conv1", nn.Conv2d(in_channels, 96, 11, stride=4)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(3, stride=2)),
        ("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=groups)),
        ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(3, stride=2)),
        ("conv3", nn.Conv2d(256, 384, 3, padding=1)),
        ("relu3", nn.ReLU()),
        ("conv4", nn.Conv2d(384, 384, 3, padding=1, groups=groups)),
        ("relu4", nn.ReLU()),
        ("conv5", nn.Conv2d(384, 256, 3, padding=1, groups=groups)),
        ("relu5", nn.ReLU()),
        ("pool3", nn.MaxPool2d(3, stride=2)),
        ("flatten", nn.Flatten()),
        *drop("drop6"),
        ("fc6", nn.Linear(256 * 6 * 6, 4096)),
        ("relu6", nn.ReLU()),
        *drop("drop7"),
        ("fc7", nn.Linear(4096, 4096)),
        ("relu7", nn.ReLU()),
        ("fc8", nn.Linear(4096, num_classes)),
    ], name="AlexNet")
