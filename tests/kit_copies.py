"""Submissions made from the kit itself, for grading tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

from grader.mutants import write_submission


def reference_submission(target: Path) -> Path:
    """The reference solutions as a submission of the five modules, ``solutions/_checks.py`` inlined.

    A submission is the five exercise modules only (helpers a student adds are not graded), so the
    copy carries its helpers inside each module instead of importing ``._checks``.
    """
    return write_submission(Path(target))
