"""What must never reach a runner or a student: lines only the reference solutions and hidden suites hold."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent


def _lines(paths: Iterable[Path], shortest: int) -> set[str]:
    return {line.strip() for p in paths for line in p.read_text().splitlines() if len(line.strip()) >= shortest}


@functools.lru_cache(maxsize=4)
def secret_lines(shortest: int = 30) -> frozenset[str]:
    """Lines of solutions/ and grader/suites/hidden/ (``shortest`` characters or more, stripped) that no file
    a student is given holds: not the stubs, the engine, the runner's code or the public suites."""
    given = _lines([*KIT.glob("exercises/*.py"), *KIT.glob("minigrad/**/*.py"), *KIT.glob("grader/runner/*.py"),
                    *KIT.glob("grader/suites/public/*.py"), KIT / "grader" / "suites" / "_support.py"], shortest)
    return frozenset(_lines([*KIT.glob("solutions/*.py"), *KIT.glob("grader/suites/hidden/*.py")], shortest) - given)


def leaked(texts: Iterable[str], shortest: int = 30) -> list[str]:
    """The secret lines found as whole lines (stripped) in any of ``texts``, sorted."""
    found = {line.strip() for text in texts for line in text.splitlines()}
    return sorted(found & secret_lines(shortest))
