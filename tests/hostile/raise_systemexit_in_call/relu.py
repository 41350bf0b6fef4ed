"""Attack: raise SystemExit in every call."""

from __future__ import annotations

from typing import Any


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Leaves."""
    raise SystemExit(3)


def relu_backward(dout: Any, cache: Any) -> Any:
    """Leaves."""
    raise SystemExit(3)
