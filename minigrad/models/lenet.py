"""LeNet-5 as in the lecture's LeNet table (LeCun et al., 1998), for 28×28 MNIST-style images.

The notes' table lists, per layer, units / connections / weights (biases
not counted)::

    layer  type                  units              connections            weights
    C1     conv 5×5, 6, "same"   6·28·28 = 4,704    28·28·5·5·6 = 117,600  5·5·6 = 150
    S2     pool 2×2              6·14·14 = 1,176    4,704                  0
    C3     conv 5×5, 16          16·10·10 = 1,600   1,600·5·5·6 = 240,000  5·5·6·16 = 2,400
    S4     pool 2×2              16·5·5 = 400       1,600                  0
    F5     fully connected       120                400·120 = 48,000       48,000
    F6     fully connected       84                 120·84 = 10,080        10,080
    output fully connected       10                 84·10 = 840            840

Weights 61,470; with one bias per map/unit (6 + 16 + 120 + 84 + 10 = 236)
the model has 61,706 parameters. C3 sees all 6 maps of S2 (the table's
2,400 weights), not the sparse connection scheme of the 1998 paper. The
table does not name the non-linearity or the pooling type: we use ReLU and
max pooling (the lecture's building blocks); ``activation="tanh"`` and
``pool="avg"`` give the closer-to-1998 variant with the same parameters.
"""

from __future__ import annotations

from .. import nn
from ._base import Network

__all__ = ["ACTIVATIONS", "lenet5", "make_activation"]

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def make_activation(name: str) -> nn.Module:
    """A new activation layer by name: ``"relu"``, ``"tanh"`` or ``"sigmoid"``."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}") from None


def lenet5(num_classes: int = 10, in_channels: int = 1, padding: int = 2, activation: str = "relu",
           pool: str = "max") -> Network:
    """LeNet-5 for (in_channels, 28, 28) images (``padding=2``: the table's "same" C1), or 32×32 ones (0).

    Output sizes: C1 (28 + 2·2 - 5)/1 + 1 = 28, S2 14, C3 (14 - 5)/1 + 1 = 10, S4 5,
    so F5 sees 16·5·5 = 400 features. Parameters ``(F·F·C_in + 1)·C_out`` per conv:
    (25·1 + 1)·6 = 156, (25·6 + 1)·16 = 2,416; then 400·120 + 120 = 48,120,
    120·84 + 84 = 10,164, 84·10 + 10 = 850: 61,706 in all (``num_classes=10``).
    """
    if pool not in ("max", "avg"):
        raise ValueError(f"lenet5: pool must be 'max' or 'avg', got {pool!r}")
    pool_layer = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
    return Network([
        ("c1", nn.Conv2d(in_channels, 6, 5, padding=padding)),
        ("act1", make_activation(activation)),
        ("s2", pool_layer(2)),
        ("c3", nn.Conv2d(6, 16, 5)),
        ("act3", make_activation(activation)),
        ("s4", pool_layer(2)),
        ("flatten", nn.Flatten()),
        ("f5", nn.Linear(16 * 5 * 5, 120)),
        ("act5", make_activation(activation)),
        ("f6", nn.Linear(120, 84)),
        ("act6", make_activation(activation)),
        ("output", nn.Linear(84, num_classes)),
    ], name="LeNet-5")
