"""``Network``: a Sequential whose layers have names (``conv1``, ``pool1``, ``fc6``) instead of 0, 1, 2."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..nn import Module

__all__ = ["Network"]


class Network(Module):
    """Apply named layers in order: ``Network([("conv1", Conv2d(1, 6, 5)), ("relu1", ReLU()), ...])``.

    Works like :class:`minigrad.nn.Sequential` (index it, iterate, ``len``), and
    ``net["conv1"]`` or ``net.conv1`` fetch a layer by name, so ``summary`` and
    ``state_dict`` show the names used in the lecture tables. ``name`` (e.g.
    "VGG16") titles its repr and summary.
    """

    def __init__(self, layers: Iterable[tuple[str, Module]], name: str = "") -> None:
        super().__init__()
        self.name = name
        for name, module in layers:
            if not isinstance(module, Module):
                raise TypeError(f"Network: layer {name!r} is a {type(module).__name__}, expected a Module")
            if name in self._modules:
                raise ValueError(f"Network: duplicate layer name {name!r}")
            setattr(self, name, module)

    def __getitem__(self, key: int | str) -> Module:
        if isinstance(key, str):
            return self._modules[key]
        return list(self.children())[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self.children()))

    def names(self) -> list[str]:
        """The layer names, in order."""
        return [name for name, _ in self.named_children()]

    def extra_repr(self) -> str:
        return repr(self.name) if self.name else ""

    def forward(self, x: Any) -> Any:
        for module in self.children():
            x = module(x)
        return x
