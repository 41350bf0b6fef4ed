"""Where minigrad's layers get their convolution, pooling, ReLU and loss kernels.

The layers Conv1d, Conv2d, MaxPool2d, AvgPool2d, ReLU and CrossEntropyLoss
never contain the math themselves: they call kernels (``conv2d_forward``,
``relu_backward`` ...) of the active *kernel source*, a package laid out like
``exercises/`` — one module per exercise, each kernel a
``*_forward(...) -> (out, cache)`` / ``*_backward(dout, cache) -> grads`` pair.
A backward kernel may also take ``needs_input_grad`` (one bool per gradient, as
``conv2d_backward`` does) and return None for a gradient nobody needs.

    minigrad.use_kernels("exercises")   # train on your own code
    minigrad.use_kernels("solutions")   # the reference implementations

The default is ``$MINIGRAD_KERNELS`` if set, else ``solutions`` when that
package is importable (the instructor's copy), else ``exercises`` (a student
handout has no solutions). Any importable package with the same layout works.

Layers reach a kernel through its module: ``kernels.conv.conv2d_forward`` is
``conv2d_forward`` in the active package's ``conv.py``. Each module is imported
at its first use (a broken exercise fails only where it is needed) and kept
until the source changes; its functions are looked up at each call, so a module
reloaded in a notebook takes effect at once.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["KERNELS", "KernelError", "active_kernels", "get_kernel", "override_kernels", "use_kernels"]

# kernel name -> module of the kernel source that defines it
KERNELS: dict[str, str] = {
    "relu_forward": "relu", "relu_backward": "relu",
    "conv2d_forward": "conv", "conv2d_backward": "conv",
    "conv1d_forward": "conv", "conv1d_backward": "conv",
    "maxpool2d_forward": "pooling", "maxpool2d_backward": "pooling",
    "avgpool2d_forward": "pooling", "avgpool2d_backward": "pooling",
    "softmax_cross_entropy_forward": "softmax_ce", "softmax_cross_entropy_backward": "softmax_ce",
    "softmax": "softmax_ce", "log_softmax": "softmax_ce",
    "ResidualBlock": "residual",
}

ENV_VAR = "MINIGRAD_KERNELS"
_source: str | None = None
_resolved: dict[str, KernelModule] = {}  # module name -> that module of the active source, once imported
_overrides: dict[str, Callable[..., Any]] = {}


class KernelError(RuntimeError):
    """The kernel source cannot be imported or lacks a kernel."""


def _default_source() -> str:
    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen:
        return chosen
    try:
        importlib.import_module("solutions")
    except ImportError:
        return "exercises"
    return "solutions"


def use_kernels(source: str) -> None:
    """Make ``source`` ("solutions", "exercises" or any package with that layout) the active kernels."""
    if not isinstance(source, str) or not source:
        raise KernelError(f"use_kernels: source must be a package name such as 'solutions' or "
                          f"'exercises', got {source!r}")
    try:
        importlib.import_module(source)
    except ImportError as err:
        raise KernelError(f"use_kernels: cannot import kernel package {source!r} ({err})") from None
    global _source
    _source = source
    _resolved.clear()


def active_kernels() -> str:
    """The name of the kernel package in use."""
    global _source
    if _source is None:
        _source = _default_source()
    return _source


class KernelModule:
    """One module of a kernel source (``solutions.conv`` ...): its kernels as attributes, overrides first."""

    def __init__(self, package: str, module: ModuleType) -> None:
        self.package, self.module = package, module

    def __getattr__(self, name: str) -> Any:  # a kernel: looked up at each call, so a reload is seen
        if name.startswith("__"):
            raise AttributeError(name)  # copy, pickle and hasattr() probing for special methods
        kernel = _overrides[name] if name in _overrides else getattr(self.module, name, None)
        if not callable(kernel):
            raise KernelError(f"kernel package {self.package!r} has no function {name} in {self.module.__name__}")
        return kernel


# The modules of the active source, as module attributes (__getattr__ below, PEP 562): kernels.conv ...
relu: KernelModule  # relu_forward, relu_backward
conv: KernelModule  # conv2d_forward/_backward, conv1d_forward/_backward
pooling: KernelModule  # maxpool2d_forward/_backward, avgpool2d_forward/_backward
softmax_ce: KernelModule  # softmax_cross_entropy_forward/_backward, softmax, log_softmax
residual: KernelModule  # ResidualBlock


def __getattr__(name: str) -> KernelModule:
    """``kernels.conv``: that module of the active kernel source, imported at its first use."""
    resolved = _resolved.get(name)
    if resolved is not None and resolved.package == active_kernels():
        return resolved
    if name not in KERNELS.values():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    package = active_kernels()
    try:
        resolved = _resolved[name] = KernelModule(package, importlib.import_module(f"{package}.{name}"))
    except ImportError as err:
        raise KernelError(f"kernel module {package}.{name}: cannot import it ({err})") from None
    return resolved


def get_kernel(name: str) -> Callable[..., Any]:
    """The active kernel ``name`` (e.g. ``"conv2d_forward"``), for notebooks and tests; layers name the module."""
    if name not in KERNELS:
        raise KernelError(f"unknown kernel {name!r}; known: {', '.join(sorted(KERNELS))}")
    return getattr(__getattr__(KERNELS[name]), name)


class override_kernels:
    """Use the given functions for some kernels inside a ``with`` block (tests spy on the layers with it).

        with override_kernels(relu_forward=my_fwd, relu_backward=my_bwd): ...
    """

    def __init__(self, **kernels: Callable[..., Any]) -> None:
        unknown = set(kernels) - set(KERNELS)
        if unknown:
            raise KernelError(f"override_kernels: unknown kernels {sorted(unknown)}")
        self.kernels = kernels
        self._saved: dict[str, Callable[..., Any]] = {}

    def __enter__(self) -> override_kernels:
        self._saved = dict(_overrides)
        _overrides.update(self.kernels)
        return self

    def __exit__(self, *exc: object) -> None:
        _overrides.clear()
        _overrides.update(self._saved)
