"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from minigrad.backend import get_array_module

from .optimizer import Optimizer, check_number

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""SGD with PyTorch's update rules. For each parameter ``p`` with gradient ``g``::

        g = g + weight_decay * p                        # L2 penalty (weight_decay != 0)
        b = g                                           # first step (momentum != 0)
        b = momentum * b + (1 - dampening) * g          # later steps
        g = g + momentum * b   if nesterov   else   b
        p = p - lr * g

    The momentum buffer ``b`` is the parameter's state ``"momentum_buffer"``.
    Nesterov needs ``momentum > 0`` and ``dampening == 0``.

    The AlexNet recipe (Krizhevsky et al., 2012): ``SGD(params, lr=0.01,
    momentum=0.9, weight_decay=5e-4)``, with the lr divided by 10 when the
    validation accuracy stops improving (see :class:`ReduceLROnPlateau`).
    """

    def __init__(
        self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
        weight_decay: float = 0.0, nesterov: bool = False,
    ) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov}
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("SGD", "lr", group["lr"], 0.0)
        check_number("SGD", "momentum", group["momentum"], 0.0, 1.0, high_open=True)
        check_number("SGD", "dampening", group["dampening"], 0.0, 1.0)
        check_number("SGD", "weight_decay", group["weight_decay"], 0.0)
        if group["nesterov"] not in (True, False):
            raise ValueError(f"SGD: nesterov must be True or False, got {group['nesterov']!r}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening == 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Apply one update to every parameter whose ``.grad`` is set; return ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = get_array_module(p.data)
                g = p.grad.data.astype(p.data.dtype, copy=False)
                if weight_decay != 0:
                    g = g + weight_decay * p.data  # new array: never write into p.grad
                if momentum != 0:
                    state = self._state(p)
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = xp.array(g, copy=True)
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * g
                    g = g + momentum * buf if nesterov else buf
                p.data -= lr * g
                p._version += 1  # a graph that saved p now fails loudly at backward
        return loss
