"""Attack: os._exit() in every call."""

from __future__ import annotations

import os
from typing import Any


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Leaves."""
    os._exit(0)


def relu_backward(dout: Any, cache: Any) -> Any:
    """Leaves."""
    os._exit(0)
