"""Attack: an infinite loop in a call (relu_backward); relu_forward is correct."""

from __future__ import annotations

from typing import Any

import numpy as np


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Correct."""
    return np.where(x > 0, x, np.zeros((), dtype=x.dtype)), x > 0


def relu_backward(dout: Any, cache: Any) -> Any:
    """Never returns (and ignores the signals a polite judge might send)."""
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU):
        signal.signal(sig, signal.SIG_IGN)
    n = 0
    while True:
        n += 1
