"""Attack: KeyboardInterrupt in every call."""

from __future__ import annotations

from typing import Any


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Leaves."""
    raise KeyboardInterrupt


def relu_backward(dout: Any, cache: Any) -> Any:
    """Leaves."""
    raise KeyboardInterrupt
