"""Softmax and softmax cross-entropy, stable for logits of any size.

softmax(x)_k = e^(x_k - m) / Σ_j e^(x_j - m) with m = max_j x_j: subtracting
the max changes nothing mathematically and keeps every exponent ≤ 0, so
logits of ±1e4 never overflow in float32.

Loss over a batch of N rows with labels y_i:
    L = -(1/N) Σ_i log softmax(x_i)_{y_i}
    dL/dx_i = (softmax(x_i) - onehot(y_i)) / N
"""

from __future__ import annotations

from typing import Any

from ._checks import array_module, require_array


def log_softmax(x: Any, axis: int = -1) -> Any:
    """log softmax along ``axis``: (x - m) - log Σ e^(x - m)."""
    require_array(x, "x")
    xp = array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(x: Any, axis: int = -1) -> Any:
    """Softmax along ``axis``; each slice sums to 1."""
    require_array(x, "x")
    xp = array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_cross_entropy_forward(logits: Any, labels: Any) -> tuple[Any, Any]:
    """logits (N, K) float, labels (N,) ints in [0, K). Returns (mean loss as a 0-d array, cache)."""
    require_array(logits, "logits", ndim=2)
    require_array(labels, "labels", shape=(logits.shape[0],), floating=False)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class indices, got {labels.dtype}")
    xp = array_module(logits)
    n, k = logits.shape
    if n == 0:
        raise ValueError("logits must hold at least one row")
    if bool((labels < 0).any()) or bool((labels >= k).any()):
        raise ValueError(f"labels must lie in [0, {k}) for {k} classes, got values from "
                         f"{int(labels.min())} to {int(labels.max())}")
    log_p = log_softmax(logits, axis=1)
    rows = xp.arange(n)
    loss = -log_p[rows, labels].mean()
    return xp.asarray(loss, dtype=logits.dtype), (log_p, labels)


def softmax_cross_entropy_backward(dloss: Any, cache: Any) -> Any:
    """dloss: scalar upstream gradient. Returns dlogits (N, K) = dloss · (softmax - onehot) / N."""
    log_p, labels = cache
    xp = array_module(log_p)
    n = log_p.shape[0]
    dlogits = xp.exp(log_p)
    dlogits[xp.arange(n), labels] -= 1
    return dlogits * (dloss / n)
