"""Learning-rate schedules: they rewrite ``group["lr"]`` of an optimizer's param groups.

Call ``scheduler.step()`` once per epoch, after the epoch's ``optimizer.step()``
calls (``ReduceLROnPlateau.step(metric)`` takes the epoch's validation metric).
"""

from __future__ import annotations

import math
from typing import Any

from .optimizer import Optimizer, check_number

__all__ = ["CosineAnnealingLR", "LRScheduler", "ReduceLROnPlateau", "StepLR"]


def _check_optimizer(owner: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"{owner}: optimizer must be a minigrad Optimizer, got {type(optimizer).__name__}")


def _check_int(owner: str, name: str, value: Any, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{owner}: {name} must be an integer >= {low}, got {value!r}")


class LRScheduler:
    """Base class for epoch-indexed schedules: subclasses give the lr of epoch ``last_epoch``.

    On construction each group's current lr is saved as ``group["initial_lr"]``
    (the base lr) and epoch 0 is applied, so the first epoch trains at the base lr.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group["initial_lr"] = group["lr"]
        elif any("initial_lr" not in g for g in optimizer.param_groups):
            raise ValueError(f"{type(self).__name__}: last_epoch={last_epoch} resumes a schedule, so every "
                             "param group must have 'initial_lr'; got a group without it")
        self.base_lrs: list[float] = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self.step()

    def get_lr(self) -> list[float]:
        """The lr of each group at epoch ``self.last_epoch``."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new lrs into the optimizer."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs the last :meth:`step` set, one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer (plain numbers and lists)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs: ``base_lr * gamma**(epoch // step_size)``."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1,
    ) -> None:
        _check_int("StepLR", "step_size", step_size, 1)
        check_number("StepLR", "gamma", gamma, 0.0)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine from the base lr down to ``eta_min`` over ``T_max`` epochs (SGDR without restarts)::

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    Past ``T_max`` the cosine goes on, so the lr climbs back; stop stepping at ``T_max`` to hold ``eta_min``.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        _check_int("CosineAnnealingLR", "T_max", T_max, 1)
        check_number("CosineAnnealingLR", "eta_min", eta_min, 0.0)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cos = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]


class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` when a metric has stopped improving (PyTorch's rules).

    ``step(metric)`` once per epoch. A metric is an improvement when it beats the
    best so far by the threshold: in mode ``"min"`` with ``threshold_mode="rel"``,
    ``metric < best * (1 - threshold)``; ``"abs"``: ``metric < best - threshold``
    (mode ``"max"`` mirrors these with ``>`` and ``+``). After more than
    ``patience`` epochs in a row without improvement, ``lr = max(lr * factor, min_lr)``,
    then ``cooldown`` epochs pass before bad epochs count again.

    The AlexNet recipe (Krizhevsky et al., 2012): SGD with momentum 0.9 and
    weight decay 5e-4, the lr divided by 10 whenever the validation accuracy
    plateaus::

        opt = SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        sched = ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=...)
        for epoch in range(epochs):
            train(...); sched.step(val_accuracy)
    """

    def __init__(
        self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
        threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
        min_lr: float | list[float] = 0.0, eps: float = 1e-8,
    ) -> None:
        owner = "ReduceLROnPlateau"
        _check_optimizer(owner, optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"{owner}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{owner}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        check_number(owner, "factor", factor, 0.0, 1.0, high_open=True)
        _check_int(owner, "patience", patience, 0)
        _check_int(owner, "cooldown", cooldown, 0)
        check_number(owner, "threshold", threshold, 0.0)
        check_number(owner, "eps", eps, 0.0)
        n = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        if len(min_lrs) != n:
            raise ValueError(f"{owner}: min_lr must be a number or a list of {n} (one per group), "
                             f"got {len(min_lrs)} values")
        for v in min_lrs:
            check_number(owner, "min_lr", v, 0.0)
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lrs, self.eps = cooldown, min_lrs, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def is_better(self, metric: float, best: float) -> bool:
        """Whether ``metric`` beats ``best`` by more than the threshold."""
        if self.mode == "min":
            bar = best * (1 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold
            return metric < bar
        bar = best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        return metric > bar

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metric: Any) -> None:
        """Record this epoch's ``metric`` (a number or one-element tensor); cut the lr if it plateaued."""
        current = float(metric.item() if hasattr(metric, "item") else metric)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:  # bad epochs right after a cut do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:  # skip updates too small to matter (e.g. already at min_lr)
                group["lr"] = new

    def get_last_lr(self) -> list[float]:
        """The lrs after the last :meth:`step`, one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
