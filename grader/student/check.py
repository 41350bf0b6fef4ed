"""The student's public check, once: ``grader check`` and ``from grader import check`` both run this.

    from grader import check
    check("conv")            # in Jupyter: a table; in a terminal or a script: the text ``grader check`` prints

Each exercise's public suite runs in its own judge process (:func:`grader.host.launch.run_suite`); the
student's code runs in a runner under it, never here, so a notebook that checks code which crashes,
hangs or prints a flood keeps working. :class:`CheckReport` holds the results and renders them as text
(the CLI's table), JSON (``grader check --json``) and HTML (:mod:`grader.student.check_html`, for notebooks).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.reports.text import check_summary, check_table
from grader.vocabulary.commands import Misuse
from grader.vocabulary.exercises import EXERCISE_FILES, select, total_weight
from grader.vocabulary.kit import installed_exercises
from grader.vocabulary.options import JudgeOptions
from grader.vocabulary.results import ExerciseTotal, RunStatus, TestResult, by_exercise

__all__ = ["CheckError", "CheckReport", "find_exercises", "run_check"]


class CheckError(ValueError):
    """Bad input to a check (an unknown exercise, no exercises folder): one line."""


def find_exercises(given: str | Path | None, option: str = "--dir") -> Path:
    """``given``, else the kit's exercises folder (else ./exercises), checked to hold at least one exercise file.

    ``option`` is how the caller spells the argument in messages (``--dir`` on the command line, ``dir=``
    in Python). Raises :class:`CheckError` with one line.
    """
    folder = Path(given) if given is not None else (installed_exercises() or Path("exercises"))
    if folder.is_file():
        raise CheckError(f"{option} {folder} is a file: give the folder holding {', '.join(EXERCISE_FILES)}")
    if not folder.is_dir():
        raise CheckError(f"no exercises folder at {folder} (use {option})")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise CheckError(f"cannot read {folder}")
    if not any((folder / name).is_file() for name in EXERCISE_FILES):
        raise CheckError(f"{folder} holds none of {', '.join(EXERCISE_FILES)}")
    return folder


@dataclass
class CheckReport:
    """The public tests of some exercises on one exercises folder: per exercise, its results and a problem
    (why its suite could not run, else "")."""

    folder: Path
    exercises: tuple[str, ...]
    runs: dict[str, tuple[list[TestResult], str]] = field(default_factory=dict)

    @property
    def results(self) -> list[TestResult]:
        return [r for name in self.exercises for r in self.runs[name][0]]

    @property
    def totals(self) -> dict[str, ExerciseTotal]:
        return by_exercise(self.results, self.exercises)

    @property
    def passed(self) -> bool:
        """Every public test passed (and there was at least one)."""
        results = self.results
        return bool(results) and all(r.passed for r in results) and not any(p for _, p in self.runs.values())

    @property
    def points(self) -> float:
        return sum(t.points for t in self.totals.values())

    @property
    def max_points(self) -> float:
        return sum(t.max_points for t in self.totals.values())

    @property
    def hidden_points(self) -> float:
        """The points of these exercises that only the hidden tests (graded later) hold."""
        return max(0.0, total_weight(self.exercises) - self.max_points)

    def to_json(self) -> dict[str, Any]:
        """What ``grader check --json`` prints."""
        totals = self.totals
        return {"suite": "public", "exercises_dir": str(self.folder.resolve()), "passed": self.passed,
                "score": round(self.points, 6), "max_score": round(self.max_points, 6),
                "hidden_points": self.hidden_points,
                "exercises": {name: {**vars(totals[name]), "problem": self.runs[name][1],
                                     "tests": [r.to_dict() for r in self.runs[name][0]]}
                              for name in self.exercises}}

    def text(self) -> str:
        """The table ``grader check`` prints: a block per exercise, then the public/hidden summary."""
        blocks = [f"grader check: public tests on {self.folder}\n"]
        blocks += [check_table(name, *self.runs[name]) + "\n" for name in self.exercises]
        blocks.append(check_summary(self.points, self.max_points, self.hidden_points))
        return "\n".join(blocks)

    def __repr__(self) -> str:  # what a Python prompt shows for ``check("conv")``, and ``str()`` too
        return self.text()

    def _repr_html_(self) -> str:  # what Jupyter shows
        from grader.student.check_html import check_html

        return check_html(self)


def run_check(exercises: Iterable[str] | None = None, folder: str | Path | None = None, *,
              test_timeout: float = JudgeOptions.test_timeout, progress: bool = False, option: str = "--dir"
              ) -> CheckReport:
    """Run the public suite of each exercise (all for None) on ``folder`` (default: the kit's exercises/).

    ``progress`` shows a bar on stderr. Raises :class:`CheckError` for an unknown exercise or a folder
    without exercise files; anything the student's code does is a test result, never an exception here.
    """
    try:
        names, options = select(exercises), JudgeOptions(test_timeout=test_timeout)
    except ValueError as err:
        raise CheckError(str(err)) from None
    found = find_exercises(folder, option)
    from grader.host.batch import checking_sandbox  # the judge: only needed once tests run
    from grader.host.launch import SuiteError, run_suite

    tier = checking_sandbox()  # the student's own code: no warning about their own files
    report = CheckReport(found, names)
    for name in _progress(names, progress):
        try:
            run = run_suite(found, "public", [name], options, sandbox=tier)
        except SuiteError:  # no public tests for this exercise
            report.runs[name] = ([], "")
            continue
        report.runs[name] = (run.results, "" if run.status == RunStatus.COMPLETED else run.message or run.status)
    return report


def _progress(names: tuple[str, ...], show: bool) -> Iterable[str]:
    from tqdm import tqdm

    with tqdm(names, desc="public tests", unit="exercise", file=sys.stderr, leave=False,
              disable=None if show else True) as bar:
        for name in bar:
            bar.set_postfix_str(name)
            yield name


def check(*exercises: str, dir: str | Path | None = None, test_timeout: float = JudgeOptions.test_timeout
          ) -> CheckReport:
    """Run the public tests of ``exercises`` (all when none are named) and return the report.

    In Jupyter the report shows as a table (tests, points, the first failure with a hint, and how many
    points the hidden tests hold); elsewhere as ``grader check``'s text. ``dir``: the exercises folder
    (default: the kit's). ``report.passed`` tells whether every public test passed.
    """
    if len(exercises) == 1 and not isinstance(exercises[0], str):  # check(["conv", "relu"])
        exercises = tuple(exercises[0])
    return run_check(exercises, dir, test_timeout=test_timeout, option="dir=")


def command(args: argparse.Namespace) -> int:
    """Run the public suite, one judge run per exercise, and print the table (or JSON).

    The work is :func:`run_check`, which ``from grader import check`` runs in a notebook.
    """
    try:
        report = run_check(args.exercises, args.dir, test_timeout=args.test_timeout, progress=not args.json)
    except CheckError as err:
        raise Misuse(str(err)) from None
    print(json.dumps(report.to_json(), indent=2) if args.json else report.text())
    return 0 if report.passed else 1
