"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), with PyTorch's formulas."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from minigrad.backend import get_array_module

from .optimizer import Optimizer, check_number

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam. At step ``t`` (from 1) for a parameter ``p`` with gradient ``g``::

        g  = g + weight_decay * p                 # L2 penalty, folded into the gradient
        m  = beta1 * m + (1 - beta1) * g          # first moment   (state "exp_avg")
        v  = beta2 * v + (1 - beta2) * g**2       # second moment  (state "exp_avg_sq")
        v_ = max(v_, v) if amsgrad else v         # state "max_exp_avg_sq"
        p  = p - lr / (1 - beta1**t) * m / (sqrt(v_) / sqrt(1 - beta2**t) + eps)

    The two ``1 - beta**t`` factors undo the moments' bias towards their zero start.
    """

    _decoupled = False  # AdamW sets this: decay p directly instead of adding to g

    def __init__(
        self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad}
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        check_number(name, "lr", group["lr"], 0.0)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2) in [0, 1), got {betas!r}")
        group["betas"] = tuple(betas)
        check_number(name, "betas[0]", betas[0], 0.0, 1.0, high_open=True)
        check_number(name, "betas[1]", betas[1], 0.0, 1.0, high_open=True)
        check_number(name, "eps", group["eps"], 0.0)
        check_number(name, "weight_decay", group["weight_decay"], 0.0)
        if group["amsgrad"] not in (True, False):
            raise ValueError(f"{name}: amsgrad must be True or False, got {group['amsgrad']!r}")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Apply one update to every parameter whose ``.grad`` is set; return ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = get_array_module(p.data)
                g = p.grad.data.astype(p.data.dtype, copy=False)
                state = self._state(p)
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = xp.zeros_like(p.data)
                    state["exp_avg_sq"] = xp.zeros_like(p.data)
                    if amsgrad:
                        state["max_exp_avg_sq"] = xp.zeros_like(p.data)
                state["step"] += 1
                t = state["step"]

                if weight_decay != 0:
                    if self._decoupled:
                        p.data *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * p.data  # new array: never write into p.grad

                m, v = state["exp_avg"], state["exp_avg_sq"]
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * (g * g)

                if amsgrad:
                    # the group may have switched amsgrad on after the state was made
                    vmax = state.setdefault("max_exp_avg_sq", xp.zeros_like(p.data))
                    xp.maximum(vmax, v, out=vmax)
                    v = vmax
                step_size = lr / (1 - beta1**t)
                denom = xp.sqrt(v) / math.sqrt(1 - beta2**t)
                denom += eps
                p.data -= step_size * m / denom
                p._version += 1  # a graph that saved p now fails loudly at backward
        return loss


class AdamW(Adam):
    r"""Adam with decoupled weight decay: the decay shrinks ``p`` directly, not through ``g``::

        p = p * (1 - lr * weight_decay)           # before the Adam step, which then sees plain g

    so the decay is not rescaled by the adaptive ``1 / sqrt(v)`` factor. Default weight_decay 1e-2.
    """

    _decoupled = True

    def __init__(
        self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
