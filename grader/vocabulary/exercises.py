"""The graded exercises: one record each, in course order.

An exercise ``name`` is four files and one record: ``solutions/<name>.py`` (the reference),
``exercises/<name>.py`` (its stub), ``grader/suites/public/test_<name>.py`` and
``grader/suites/hidden/test_<name>.py``, plus an :class:`Exercise` line in :data:`TABLE`. docs/grader.md
("Adding an exercise") walks through one; ``tests/test_adding_an_exercise.py`` keeps that walk honest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: its module ``name``, a display ``title``, its ``weight`` in points (the course's
    weights sum to 100) and ``reference_kernels``: the other exercises whose *reference* kernels its tests
    run, so that a residual block is not failed for the student's own convolution (its tests score that)."""

    name: str
    title: str
    weight: float
    reference_kernels: tuple[str, ...] = ()


TABLE: tuple[Exercise, ...] = (
    Exercise("relu", "ReLU", 10),
    Exercise("conv", "Convolution", 35),
    Exercise("pooling", "Pooling", 20),
    Exercise("softmax_ce", "Softmax + cross-entropy", 15),
    Exercise("residual", "Residual block", 20, reference_kernels=("relu", "conv")),
)

#: False in a student's handout (``grader release`` rewrites this line): without the solutions there are
#: no reference kernels to stage, and the residual block runs on the student's own
REFERENCE_KERNELS_STAGED = True

EXERCISES: tuple[str, ...] = tuple(exercise.name for exercise in TABLE)
WEIGHTS: dict[str, float] = {exercise.name: exercise.weight for exercise in TABLE}
TITLES: dict[str, str] = {exercise.name: exercise.title for exercise in TABLE}
#: exercise -> the exercises whose reference kernels its tests run (empty in a handout)
REFERENCE_KERNELS_FOR: dict[str, tuple[str, ...]] = {
    exercise.name: exercise.reference_kernels for exercise in TABLE
    if exercise.reference_kernels and REFERENCE_KERNELS_STAGED}
#: the file names a submission may contain (everything else is ignored and reported)
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
