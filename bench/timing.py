"""Timing helpers shared by the benchmarks: medians of repeated runs, after a warm-up."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def seconds_of(fn: Callable[[], Any]) -> float:
    """Wall time of one ``fn()`` call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_seconds(fn: Callable[[], Any], repeats: int = 7, warmup: int = 1, budget: float = 20.0) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs (fewer if ``budget`` seconds run out)."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    deadline = time.perf_counter() + budget
    for _ in range(repeats):
        times.append(seconds_of(fn))
        if time.perf_counter() > deadline:
            break
    return statistics.median(times)


def paired_median_seconds(ours: Callable[[], Any], theirs: Callable[[], Any] | None, repeats: int = 9,
                          rounds: int = 3, budget: float = 30.0, settle: float = 0.3) -> tuple[float, float | None]:
    """Medians of ``ours()`` and ``theirs()``, timed in alternating blocks of ``repeats // rounds`` runs.

    Alternating blocks put a slower spell of a shared machine on both sides of a ratio. Each block waits
    ``settle`` seconds and then makes one untimed run: after its last call, either library's worker
    threads (OpenBLAS's, PyTorch's OpenMP pool) spin on the cores for a while before they sleep, and on
    2 cores they would slow the other library down. ``theirs`` None: only ours is timed.
    """
    if theirs is None:
        return median_seconds(ours, repeats), None
    per_round = max(1, repeats // rounds)
    times: tuple[list[float], list[float]] = ([], [])
    deadline = time.perf_counter() + budget
    for _ in range(rounds):
        for fn, bucket in zip((ours, theirs), times):
            time.sleep(settle)
            fn()
            bucket.extend(seconds_of(fn) for _ in range(per_round))
        if time.perf_counter() > deadline:
            break
    return statistics.median(times[0]), statistics.median(times[1])


def torch_or_none() -> Any:
    """PyTorch when installed (an optional comparison, never a dependency)."""
    try:
        import torch
    except ImportError:
        return None
    return torch
