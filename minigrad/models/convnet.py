"""The lecture's two Keras models for 28×28×1 images: the MLP and the small convnet.

Keras' ``padding="same"`` with stride 1 is padding (F - 1)/2: 2 for the 5×5
conv, 1 for the 3×3 one. The final ``softmax`` of the Keras code is left to the
loss (:class:`minigrad.nn.CrossEntropyLoss` takes logits).
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ._base import Network

__all__ = ["keras_convnet", "mlp"]


def mlp(num_classes: int = 10, in_features: int = 784, hidden: Sequence[int] = (256, 128)) -> Network:
    """Flatten → Linear → ReLU → ... → Linear: 784-256-128-10 by default.

    Parameters Σ (in + 1)·out: 785·256 + 257·128 + 129·10 = 235,146. The notes'
    Keras MLP (one hidden layer of 256) is ``mlp(hidden=(256,))``: 203,530.
    """
    layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
    width = in_features
    for i, h in enumerate(hidden, start=1):
        layers += [(f"fc{i}", nn.Linear(width, h)), (f"relu{i}", nn.ReLU())]
        width = h
    layers.append((f"fc{len(hidden) + 1}", nn.Linear(width, num_classes)))
    return Network(layers, name="MLP")


def keras_convnet(num_classes: int = 10, in_channels: int = 1, input_size: int = 28,
                  dropout: float = 0.0) -> Network:
    """Conv 32 5×5 same → ReLU → MaxPool 2 → Conv 64 3×3 same → ReLU → MaxPool 2 → Dense 256 → ReLU → Dense.

    The notes' model has no dropout (default 0); ``dropout=p`` adds Dropout(p)
    after the Dense-256 ReLU. Feature maps 28 → 14 → 7, so the flattened
    vector has 64·7·7 = 3,136 values. Parameters:
    (5·5·1 + 1)·32 = 832, (3·3·32 + 1)·64 = 18,496, 3,137·256 = 803,072,
    257·10 = 2,570: 824,970 in all.
    """
    if input_size % 4:
        raise ValueError(f"keras_convnet: input_size must be a multiple of 4, got {input_size}")
    side = input_size // 4
    layers: list[tuple[str, nn.Module]] = [
        ("conv1", nn.Conv2d(in_channels, 32, 5, padding=2)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2, stride=2)),
        ("conv2", nn.Conv2d(32, 64, 3, padding=1)),
        ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2, stride=2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(64 * side * side, 256)),
        ("relu3", nn.ReLU()),
    ]
    if dropout:
        layers.append(("dropout", nn.Dropout(dropout)))
    layers.append(("fc2", nn.Linear(256, num_classes)))
    return Network(layers, name="ConvNet")
