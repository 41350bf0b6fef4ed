"""Autograd overhead per small op: a chain of 1,000 ops on a 16-element tensor, forward and backward.

The arrays are so small that the arithmetic is negligible; what is measured is
the engine's bookkeeping per op (Function.apply, Tensor creation, graph
recording, the backward walk). Reported as microseconds per op, against plain
NumPy doing the same arithmetic (no graph) and PyTorch CPU when it is installed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg

CHAIN = 1000
SIZE = 16


def _best_of(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def time_chain(x: Any) -> tuple[float, float]:
    """Best seconds for the forward chain from leaf ``x`` and for its backward (minigrad and PyTorch alike)."""
    fwd = bwd = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        y = x
        for _ in range(CHAIN // 2):
            y = y * 1.0001
            y = y + 0.0001
        loss = y.sum()
        mid = time.perf_counter()
        loss.backward()
        end = time.perf_counter()
        fwd, bwd = min(fwd, mid - start), min(bwd, end - mid)
        x.grad = None
    return fwd, bwd


def numpy_chain() -> float:
    """The same arithmetic on a bare array: no graph, no tensors."""
    x = np.random.default_rng(0).standard_normal(SIZE).astype(np.float32)

    def chain() -> None:
        y = x
        for _ in range(CHAIN // 2):
            y = y * np.float32(1.0001)
            y = y + np.float32(0.0001)

    return _best_of(chain, 7)


def torch_chain() -> tuple[float, float] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return time_chain(torch.randn(SIZE, requires_grad=True))


def run() -> dict[str, Any]:
    fwd, bwd = time_chain(mg.randn(SIZE, requires_grad=True))
    per = 1e6 / CHAIN
    result: dict[str, Any] = {
        "ops": CHAIN, "elements": SIZE,
        "minigrad_forward_us_per_op": fwd * per,
        "minigrad_backward_us_per_op": bwd * per,
        "minigrad_total_us_per_op": (fwd + bwd) * per,
        "numpy_us_per_op": numpy_chain() * per,
    }
    torch_times = torch_chain()
    if torch_times is not None:
        result["torch_forward_us_per_op"] = torch_times[0] * per
        result["torch_backward_us_per_op"] = torch_times[1] * per
        result["torch_total_us_per_op"] = sum(torch_times) * per
        result["ratio_to_torch"] = result["minigrad_total_us_per_op"] / result["torch_total_us_per_op"]
    return result


def report(result: dict[str, Any]) -> str:
    lines = [f"autograd overhead, chain of {result['ops']} ops on {result['elements']} floats "
             "(best of 7, microseconds per op)",
             f"  minigrad  forward {result['minigrad_forward_us_per_op']:6.2f}  backward "
             f"{result['minigrad_backward_us_per_op']:6.2f}  total {result['minigrad_total_us_per_op']:6.2f}",
             f"  numpy     (no graph)        {result['numpy_us_per_op']:6.2f}"]
    if "torch_total_us_per_op" in result:
        lines.append(f"  pytorch   forward {result['torch_forward_us_per_op']:6.2f}  backward "
                     f"{result['torch_backward_us_per_op']:6.2f}  total {result['torch_total_us_per_op']:6.2f}"
                     f"   (minigrad / pytorch = {result['ratio_to_torch']:.2f})")
    return "\n".join(lines)
