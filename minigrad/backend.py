"""Devices and array modules.

minigrad never hard-codes NumPy inside an op: every op asks the data it holds
for its array module (``xp = get_array_module(array)``) and calls ``xp.exp``,
``xp.matmul`` ... on it. NumPy serves the device ``"cpu"``; CuPy, when it is
installed and finds a GPU, serves ``"cuda"``. Tests plug a stand-in module in
as ``"cuda"`` with :func:`register_device` to run the GPU code path on a CPU.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "DeviceError",
    "array_module",
    "device_of",
    "get_array_module",
    "get_default_device",
    "normalize_device",
    "register_device",
    "set_default_device",
    "to_device",
    "unregister_device",
]

_CUDA_HINT = "pip install 'minigrad-kit[cuda12]' (or [cuda13] for CUDA 13)"


class DeviceError(RuntimeError):
    """A device was asked for that cannot be used here, or devices were mixed."""


_modules: dict[str, Any] = {"cpu": np}
_default_device = "cpu"


def normalize_device(device: str | None) -> str:
    """Return the canonical device name ("cpu" or "cuda") for ``device``."""
    if device is None:
        return _default_device
    if not isinstance(device, str):
        raise DeviceError(f"device must be 'cpu' or 'cuda', got {device!r}")
    name = device.strip().lower()
    if name in ("cuda:0", "gpu"):
        name = "cuda"
    if name not in ("cpu", "cuda"):
        raise DeviceError(f"device must be 'cpu' or 'cuda', got {device!r}")
    return name


def _load_cupy() -> ModuleType:
    try:
        import cupy  # type: ignore[import-not-found]
    except ImportError:
        raise DeviceError(f"device 'cuda' needs CuPy, which is not installed: {_CUDA_HINT}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # CuPy raises its own CUDARuntimeError without a driver
        count = 0
    if count == 0:
        raise DeviceError("device 'cuda' needs an NVIDIA GPU, and CuPy found none; use device='cpu'")
    return cupy


def array_module(device: str | None = None) -> Any:
    """The array module (``numpy`` or ``cupy``) that serves ``device``."""
    name = normalize_device(device)
    if name not in _modules:
        _modules[name] = _load_cupy()
    return _modules[name]


def register_device(device: str, module: Any) -> None:
    """Serve ``device`` with ``module`` (used by tests to plug in a CuPy stand-in)."""
    name = normalize_device(device)
    if name == "cpu":
        raise DeviceError("the 'cpu' device is always NumPy and cannot be replaced")
    _modules[name] = module


def unregister_device(device: str) -> None:
    """Forget the module serving ``device``; the next use loads CuPy again."""
    global _default_device
    name = normalize_device(device)
    if name != "cpu":
        _modules.pop(name, None)
        if _default_device == name:
            _default_device = "cpu"


def set_default_device(device: str) -> None:
    """Make new tensors land on ``device`` unless a call names another."""
    global _default_device
    name = normalize_device(device)
    array_module(name)  # fail now, with the install hint, rather than at the first tensor
    _default_device = name


def get_default_device() -> str:
    """The device new tensors land on."""
    return _default_device


def get_array_module(array: Any) -> Any:
    """The array module an array belongs to: NumPy for host data, else its GPU module."""
    if isinstance(array, (np.ndarray, np.generic)):
        return np
    for name, module in _modules.items():
        if name != "cpu" and isinstance(array, module.ndarray):
            return module
    return np


def device_of(array: Any) -> str:
    """The device an array lives on."""
    if isinstance(array, (np.ndarray, np.generic)):
        return "cpu"
    for name, module in _modules.items():
        if name != "cpu" and isinstance(array, module.ndarray):
            return name
    return "cpu"


def to_device(array: Any, device: str) -> Any:
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    target = normalize_device(device)
    source = device_of(array)
    if source == target:
        return array
    if target == "cpu":
        return get_array_module(array).asnumpy(array)
    return array_module(target).asarray(array)
