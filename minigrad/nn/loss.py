"""Loss functions."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class CrossEntropyLoss(Module):
    """Mean over the batch of -log softmax(logits)[label]; runs the active kernel source's kernels.

    logits (N, K) float, labels (N,) int in [0, K).
    """

    def forward(self, logits: Tensor, labels: Any) -> Tensor:
        return F.cross_entropy(logits, labels)


class MSELoss(Module):
    """Mean of (prediction - target)² over all elements."""

    def forward(self, prediction: Tensor, target: Any) -> Tensor:
        diff = prediction - target
        return (diff * diff).mean()
