"""Attack: sys.exit() in every call."""

from __future__ import annotations

import sys
from typing import Any


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Leaves."""
    sys.exit(0)


def relu_backward(dout: Any, cache: Any) -> Any:
    """Leaves."""
    sys.exit(0)
