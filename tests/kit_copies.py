"""Submissions made from the kit itself, for grading tests and benchmarks."""

from __future__ import annotations

import re
from pathlib import Path

from grader.exercises import EXERCISES

KIT = Path(__file__).resolve().parent.parent


def reference_submission(target: Path) -> Path:
    """The reference solutions as a submission of the five modules, ``solutions/_checks.py`` inlined.

    A submission is the five exercise modules only (helpers a student adds are not graded), so the
    copy carries its helpers inside each module instead of importing ``._checks``.
    """
    target.mkdir(parents=True, exist_ok=True)
    body = (KIT / "solutions" / "_checks.py").read_text().split("from __future__ import annotations\n", 1)[1]
    for name in EXERCISES:
        source = (KIT / "solutions" / f"{name}.py").read_text()
        source = re.sub(r"^from \._checks import .*$", lambda _: body, source, flags=re.M)
        assert "._checks" not in source
        (target / f"{name}.py").write_text(source)
    return target
