"""Bug: relu_forward zeroes the negative entries of x in place.

Otherwise the same as tests/grader_corpus/alternative_correct/relu.py.
"""

from __future__ import annotations

from typing import Any


def relu_forward(x: Any) -> tuple[Any, Any]:
    """max(0, x); the cache is the 0/1 mask of x > 0 in x's dtype."""
    mask = (x > 0).astype(x.dtype)
    x[x < 0] = 0  # BUG: modifies the caller's array
    return x, mask


def relu_backward(dout: Any, cache: Any) -> Any:
    """dout times the mask."""
    return dout * cache
