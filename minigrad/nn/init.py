"""Weight initialisation, with PyTorch's semantics.

Every function fills ``tensor.data`` in place (no graph is recorded) and returns
the tensor. Random numbers come from minigrad's global host generator
(``minigrad.manual_seed`` makes them reproducible), are drawn in float64, then
cast to the tensor's dtype and moved to its device.

Fans: a weight of shape ``(out, in, *kernel)`` — a linear ``(out, in)`` or a
conv ``(C_out, C_in/groups, KH, KW)`` — has ``fan_in = in * prod(kernel)`` and
``fan_out = out * prod(kernel)``.

Xavier/Glorot keeps the variance of activations and of gradients alike:
``std = gain * sqrt(2 / (fan_in + fan_out))``; uniform on ``[-a, a]`` with
``a = gain * sqrt(6 / (fan_in + fan_out))``. Kaiming/He keeps one of them
(``mode``): ``std = gain / sqrt(fan)``; uniform bound ``sqrt(3) * std``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np  # host-side random draws; the result is moved to the tensor's device

from minigrad.backend import device_of, to_device

__all__ = [
    "calculate_gain",
    "constant_",
    "fan_in_and_fan_out",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR_GAIN = ("linear", "identity", "conv1d", "conv2d", "conv3d",
                "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance through ``nonlinearity``.

    linear/conv/sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu with slope
    ``param`` (default 0.01): sqrt(2 / (1 + param**2)); selu: 3/4.
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: param must be a number (the negative slope), got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: nonlinearity must be one of {', '.join(_LINEAR_GAIN)}, tanh, relu, "
                     f"leaky_relu, selu; got {nonlinearity!r}")


def _array(tensor: Any) -> Any:
    """The raw array of a Tensor (or a raw NumPy/CuPy array itself)."""
    data = getattr(tensor, "data", None)
    if hasattr(data, "dtype") and hasattr(data, "shape"):
        return data
    if hasattr(tensor, "dtype") and hasattr(tensor, "shape"):
        return tensor
    raise ValueError(f"init: tensor must be a minigrad Tensor or an array, got {type(tensor).__name__}")


def fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``; needs at least 2 dims."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dims (out, in, ...), "
                         f"got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


_calculate_fan_in_and_fan_out = fan_in_and_fan_out  # PyTorch's private name


def _fan(tensor: Any, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Any, host: np.ndarray) -> Any:
    """Copy host values into the tensor's array in place, in its dtype and on its device."""
    arr = _array(tensor)
    arr[...] = to_device(np.asarray(host, dtype=arr.dtype), device_of(arr))
    return tensor


def _random(tensor: Any, who: str) -> tuple[Any, tuple[int, ...]]:
    import minigrad.random  # deferred: minigrad's package __init__ imports nn

    arr = _array(tensor)
    if np.dtype(arr.dtype).kind != "f":
        raise ValueError(f"{who}: tensor must have a floating dtype, got {arr.dtype}")
    return minigrad.random.get_generator(), tuple(arr.shape)


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0) -> Any:
    """Fill with draws from U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: a must be <= b, got a={a}, b={b}")
    gen, shape = _random(tensor, "uniform_")
    return _fill(tensor, gen.uniform(a, b, size=shape))


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    """Fill with draws from N(mean, std**2)."""
    if not std >= 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    gen, shape = _random(tensor, "normal_")
    return _fill(tensor, gen.normal(mean, std, size=shape))


def constant_(tensor: Any, val: float) -> Any:
    """Fill with ``val``."""
    _array(tensor)[...] = val
    return tensor


def zeros_(tensor: Any) -> Any:
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor: Any) -> Any:
    """Fill with 1."""
    return constant_(tensor, 1)


def xavier_uniform_(tensor: Any, gain: float = 1.0) -> Any:
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if fan_in + fan_out == 0:  # an empty weight has nothing to fill
        return tensor
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Any, gain: float = 1.0) -> Any:
    """Glorot normal: N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if fan_in + fan_out == 0:
        return tensor
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(
    tensor: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
) -> Any:
    """He uniform: U(-b, b), ``b = sqrt(3) * gain / sqrt(fan)``, ``gain = calculate_gain(nonlinearity, a)``.

    ``a`` is the negative slope of the leaky ReLU that follows (0: plain ReLU, gain sqrt(2));
    ``mode="fan_in"`` keeps the forward activations' variance, ``"fan_out"`` the gradients'.
    """
    fan = _fan(tensor, mode)
    if fan == 0:  # an empty weight has nothing to fill
        return tensor
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
) -> Any:
    """He normal: N(0, std**2) with ``std = gain / sqrt(fan)``, ``gain = calculate_gain(nonlinearity, a)``."""
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))
