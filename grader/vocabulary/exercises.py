"""The graded exercises: module names, point weights (they sum to 100) and display titles."""

from __future__ import annotations

from collections.abc import Iterable

EXERCISES: tuple[str, ...] = ("relu", "conv", "pooling", "softmax_ce", "residual")

WEIGHTS: dict[str, float] = {"conv": 35, "pooling": 20, "relu": 10, "softmax_ce": 15, "residual": 20}

TITLES: dict[str, str] = {
    "relu": "ReLU",
    "conv": "Convolution",
    "pooling": "Pooling",
    "softmax_ce": "Softmax + cross-entropy",
    "residual": "Residual block",
}

#: Exercises whose tests run the reference kernels for everything else (no double penalty: a residual
#: block is not failed for the student's convolution, whose own tests score that).
REFERENCE_KERNELS_FOR: dict[str, tuple[str, ...]] = {"residual": ("relu", "conv")}

#: The file names a submission may contain (everything else is ignored and reported).
EXERCISE_FILES: tuple[str, ...] = tuple(f"{name}.py" for name in EXERCISES)


def select(names: Iterable[str] | None) -> tuple[str, ...]:
    """``names`` checked and put in course order (all exercises for None or empty); ValueError names a bad one."""
    chosen = list(names or ())
    if not chosen:
        return EXERCISES
    unknown = [name for name in chosen if name not in EXERCISES]
    if unknown:
        raise ValueError(f"unknown exercise {unknown[0]!r}; valid: {', '.join(EXERCISES)}")
    return tuple(name for name in EXERCISES if name in chosen)


def total_weight(names: Iterable[str] = EXERCISES) -> float:
    """The points of ``names`` together (100 for all of them)."""
    return float(sum(WEIGHTS[name] for name in names))
