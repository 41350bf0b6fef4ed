"""Window geometry of convolution and pooling: how many positions a window takes along one axis.

For input size W, window F, zero padding P on each side, stride S and dilation D
(a dilated window spans D·(F - 1) + 1 inputs):

    W' = ⌊(W + 2P - D·(F - 1) - 1) / S⌋ + 1,   i.e. (W - F + 2P)/S + 1 when D = 1

e.g. a 7×7 input and a 3×3 filter give 5 at stride 1 and 3 at stride 2. Padding
"valid" is P = 0; "same" pads just enough that W' = ⌈W / S⌉. The kernels work
the sizes out themselves (``conv_output_size`` in ``exercises/conv.py``); the
layers and :mod:`minigrad.summary` ask this module.
"""

from __future__ import annotations

from typing import Any


def spatial_tuple(value: Any, n: int, name: str, layer: str, allow_zero: bool = False) -> tuple[int, ...]:
    """``value`` as one int per spatial axis (an int is repeated), or a one-line error naming ``name``."""
    lowest = 0 if allow_zero else 1
    values = (value,) * n if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if len(values) != n or not all(isinstance(v, int) and not isinstance(v, bool) and v >= lowest for v in values):
        expected = "an int" if n == 1 else f"an int or {n} ints"
        raise ValueError(f"{layer}: {name} must be {expected} >= {lowest}, got {value!r}")
    return values


def output_size(size: int, kernel: int, stride: int = 1, padding: int | str = 0, dilation: int = 1) -> int:
    """W' along one axis (see the module docstring); ``padding`` is P, "valid" or "same"."""
    if padding == "same":
        return -(-size // stride)
    padding = 0 if padding == "valid" else padding
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
