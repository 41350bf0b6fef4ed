"""The optimizer base class: parameter groups, per-parameter state, ``zero_grad``.

An optimizer holds ``param_groups``, a list of dicts, each with a ``"params"``
list and its own hyperparameters (``"lr"``, ``"momentum"`` ...); keys a group
leaves out are filled from the optimizer's ``defaults``. Per-parameter state
(momentum buffers, Adam moments, step counts) lives in ``state``, keyed by the
parameter's ``id``, as raw arrays of the parameter's dtype on its device.

Subclasses implement :meth:`Optimizer.step` on raw arrays: they ask the data for
its array module (``xp = get_array_module(p.data)``) so the same code runs on
NumPy and CuPy, and they update ``p.data`` in place so that every reference to
the parameter (a module's attribute, a saved view) sees the new values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np  # host-side bookkeeping only (state_dict copies)

from minigrad.backend import device_of, to_device

__all__ = ["Optimizer", "check_number"]


def check_number(
    owner: str, name: str, value: Any, low: float | None = None, high: float | None = None,
    *, low_open: bool = False, high_open: bool = False,
) -> None:
    """Raise a one-line ValueError unless ``value`` is a finite real number in the given range.

    ``low_open``/``high_open`` exclude the bound itself: ``high=1, high_open=True`` means ``< 1``.
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is not None and high is not None:
            where = f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        elif low is not None:
            where = f" {'>' if low_open else '>='} {low}"
        elif high is not None:
            where = f" {'<' if high_open else '<='} {high}"
        else:
            where = ""
        raise ValueError(f"{owner}: {name} must be a finite number{where}, got {value!r}")


def _is_tensor(obj: Any) -> bool:
    import minigrad  # deferred: minigrad's package __init__ may import this module

    return isinstance(obj, minigrad.Tensor)


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors that require grad, or of dicts
    ``{"params": [...], "lr": ...}`` (one per group). Subclasses override
    :meth:`_check_group` to validate hyperparameters and :meth:`step` to update.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if _is_tensor(params) or isinstance(params, dict):
            raise ValueError(f"{name}: params must be an iterable of Tensors or of dicts, "
                             f"got a single {type(params).__name__} (wrap it in a list)")
        self.defaults: dict[str, Any] = dict(defaults)
        self._check_group(self.defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: params must not be empty, got an empty list of parameters")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups ---------------------------------------------------------------
    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate a group's hyperparameters; subclasses raise ValueError on bad ones."""
        check_number(type(self).__name__, "lr", group.get("lr", 0.0), 0.0)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones from ``defaults``)."""
        name = type(self).__name__
        if not isinstance(group, dict):
            raise ValueError(f"{name}: a param group must be a dict with a 'params' key, "
                             f"got {type(group).__name__}")
        if "params" not in group:
            raise ValueError(f"{name}: a param group must have a 'params' key, got keys {sorted(group)}")
        params = group["params"]
        params = [params] if _is_tensor(params) else list(params)
        if not params:
            raise ValueError(f"{name}: params must not be empty, got a param group with no parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not _is_tensor(p):
                raise ValueError(f"{name}: params must be Tensors, got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"{name}: params must require grad, got a Tensor of shape "
                                 f"{tuple(p.shape)} with requires_grad=False")
            if id(p) in seen:
                raise ValueError(f"{name}: params must be distinct, got the same Tensor twice "
                                 f"(shape {tuple(p.shape)})")
            seen.add(id(p))
        full = {**self.defaults, **group, "params": params}
        self._check_group(full)
        self.param_groups.append(full)

    def params(self) -> Iterable[Any]:
        """Every parameter, group by group."""
        for group in self.param_groups:
            yield from group["params"]

    # -- gradients ------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget gradients: set ``p.grad = None`` (default, frees memory) or fill them with zeros."""
        for p in self.params():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter with a gradient; ``closure`` (re)computes and returns the loss."""
        raise NotImplementedError

    def _state(self, p: Any) -> dict[str, Any]:
        return self.state.setdefault(id(p), {})

    # -- saving and loading ---------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A snapshot of plain data: ``{"state": {index: {key: ndarray|number}}, "param_groups": [...]}``.

        Parameters are named by their position over all groups (0, 1, ...); arrays
        are host NumPy copies, so the snapshot neither changes later nor pins GPU memory.
        """
        index = {id(p): i for i, p in enumerate(self.params())}
        state = {}
        for pid, entry in self.state.items():
            if pid in index and entry:
                state[index[pid]] = {k: _host_copy(v) for k, v in entry.items()}
        groups = [
            {**{k: v for k, v in g.items() if k != "params"}, "params": [index[id(p)] for p in g["params"]]}
            for g in self.param_groups
        ]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict` (same parameter layout)."""
        name = type(self).__name__
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}: state_dict must have {len(self.param_groups)} param groups, "
                             f"got {len(groups)}")
        for mine, saved in zip(self.param_groups, groups, strict=True):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(f"{name}: state_dict param group sizes must match the optimizer's "
                                 f"({len(mine['params'])}), got {len(saved['params'])}")
        params = list(self.params())
        by_index = {i: params[i] for g in groups for i in g["params"]}
        new_state: dict[int, dict[str, Any]] = {}
        for i, entry in state_dict["state"].items():
            p = by_index[int(i)]
            new_state[id(p)] = {k: _to_param(v, p.data) for k, v in entry.items()}
        for mine, saved in zip(self.param_groups, groups, strict=True):
            hyper = {k: v for k, v in saved.items() if k != "params"}
            self._check_group({**mine, **hyper})
            mine.update(hyper)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"  group {i}: {len(g['params'])} params, "
                         + ", ".join(f"{k}={v}" for k, v in g.items() if k != "params"))
        return "\n".join(lines) + "\n)"


def _host_copy(value: Any) -> Any:
    """A host NumPy copy of an array (NumPy or CuPy); numbers pass through."""
    if isinstance(value, (int, float, bool, str, tuple)) or value is None:
        return value
    return np.array(to_device(value, "cpu"), copy=True)


def _to_param(value: Any, like: Any) -> Any:
    """``value`` as a fresh array on ``like``'s device and in its dtype; numbers pass through."""
    if isinstance(value, (int, float, bool, str, tuple)) or value is None:
        return value
    host = np.array(value, dtype=like.dtype, copy=True)  # copy: loading must not alias the dict
    return to_device(host, device_of(like))
