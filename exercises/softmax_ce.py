"""Exercise 5 — softmax and the cross-entropy loss of a classifier's logits.

    softmax(x)_k = e^(x_k) / Σ_j e^(x_j)      (the class probabilities of the last layer)

Computed as is, e^(x_k) overflows for logits of a few hundred (float32: about 88). Subtract the row
maximum m first — softmax(x) = softmax(x - m) exactly — so every exponent is <= 0:

    log softmax(x)_k = (x_k - m) - log Σ_j e^(x_j - m)

Loss of a batch of N rows with integer labels y_i, and its gradient:

    L = -(1/N) Σ_i log softmax(x_i)_{y_i}
    dL/dx_i = (softmax(x_i) - onehot(y_i)) / N
"""

from __future__ import annotations

from typing import Any

from minigrad.backend import get_array_module


def log_softmax(x: Any, axis: int = -1) -> Any:
    """log softmax along ``axis``: (x - m) - log Σ e^(x - m), with m the max along ``axis`` (keepdims)."""
    xp = get_array_module(x)  # noqa: F841  (NumPy or CuPy: call xp.<function>, never np.<function>)
    raise NotImplementedError("exercise log_softmax: implement the max-shifted log-sum-exp "
                              "in exercises/softmax_ce.py")


def softmax(x: Any, axis: int = -1) -> Any:
    """Softmax along ``axis``; each slice sums to 1. Hint: shift by the max before ``xp.exp``."""
    xp = get_array_module(x)  # noqa: F841
    raise NotImplementedError("exercise softmax: implement the max-shifted softmax "
                              "in exercises/softmax_ce.py")


def softmax_cross_entropy_forward(logits: Any, labels: Any) -> tuple[Any, Any]:
    """logits (N, K) float, labels (N,) ints in [0, K). Returns (mean loss as a 0-d array, cache).

    Raise a one-line ValueError for labels outside [0, K) and a TypeError for non-integer labels.
    Hint: pick each row's label entry with ``log_p[xp.arange(N), labels]``. Return the loss in
    logits' dtype (``xp.asarray(loss, dtype=logits.dtype)``).
    """
    xp = get_array_module(logits)  # noqa: F841
    raise NotImplementedError("exercise softmax_cross_entropy_forward: return (mean -log p[label], cache) "
                              "in exercises/softmax_ce.py")


def softmax_cross_entropy_backward(dloss: Any, cache: Any) -> Any:
    """dloss: the scalar upstream gradient. Returns dlogits (N, K) = dloss · (softmax - onehot) / N."""
    xp = get_array_module(dloss)  # noqa: F841
    raise NotImplementedError("exercise softmax_cross_entropy_backward: return dloss·(softmax - onehot)/N "
                              "in exercises/softmax_ce.py")
