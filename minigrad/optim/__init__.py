"""Optimizers and learning-rate schedules, with PyTorch's update rules.

Optimizers update ``p.data`` in place from ``p.grad`` on raw arrays (NumPy or
CuPy, whichever holds the parameter)::

    opt = minigrad.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    sched = minigrad.optim.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=5)
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        sched.step(validation_accuracy)   # lr / 10 when the accuracy plateaus

That is the AlexNet recipe (Krizhevsky et al., 2012): SGD with momentum 0.9,
weight decay 5e-4, and the lr divided by 10 when validation accuracy stops
improving.
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .lr_scheduler import CosineAnnealingLR, LRScheduler, ReduceLROnPlateau, StepLR
from .optimizer import Optimizer
from .sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "LRScheduler",
    "Optimizer",
    "ReduceLROnPlateau",
    "StepLR",
    "lr_scheduler",
]
