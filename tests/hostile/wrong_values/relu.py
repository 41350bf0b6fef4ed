"""Not an attack, the honest failures an attack must not be confused with: a wrong dtype (float32 for
float64 input) in forward, NaN and inf in backward. These are "failed", never "tampered"."""

from __future__ import annotations

from typing import Any

import numpy as np


def relu_forward(x: Any) -> tuple[Any, Any]:
    """The right values in the wrong dtype (float32 results for float64 input, float64 for float32)."""
    out = np.maximum(x, 0)
    return out.astype(np.float32 if x.dtype == np.float64 else np.float64), x > 0


def relu_backward(dout: Any, cache: Any) -> Any:
    """NaN where the gradient is blocked, inf where it passes."""
    return np.where(cache, np.inf, np.nan).astype(dout.dtype)
