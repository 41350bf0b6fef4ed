"""Test results: one ``TestResult`` per test, per-exercise totals, and Gradescope's results.json format."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from grader.vocabulary.exercises import EXERCISES, TITLES

#: a test's status: passed; failed (a wrong value); error (the submission raised); timeout (the runner was
#: killed); crash (the runner died); tampered (the submission tried to fool the judge, e.g. an object
#: pretending to be an array); out_of_memory (the runner hit its memory limit)
STATUSES = ("passed", "failed", "error", "timeout", "crash", "tampered", "out_of_memory")
#: how people read a status (check table, feedback, Gradescope output)
STATUS_LABELS = {"passed": "passed", "failed": "failed", "error": "error", "timeout": "timeout", "crash": "crash",
                 "tampered": "tampered", "out_of_memory": "out of memory"}
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
FORMATS = ("text", "simple_format", "html", "md", "ansi")  # Gradescope's output/name formats
NOT_IMPLEMENTED = "not implemented yet"


@dataclass
class TestResult:
    """What the judge decided about one test of one submission."""

    __test__ = False  # not a pytest test class, whatever its name

    nodeid: str
    name: str
    exercise: str
    points: float
    max_points: float
    status: str
    output: str
    visibility: str
    seed: int
    duration: float
    not_implemented: bool = False

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestResult:
        """Build from a dict (unknown keys ignored); ValueError with one line on a missing or bad field."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a test result must be a JSON object, got {type(data).__name__}")
        label = data.get("nodeid", "?")
        required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
        missing = [key for key in required if key not in data]
        if missing:
            raise ValueError(f"test result {label!r} lacks {', '.join(missing)}")
        try:
            result = cls(
                nodeid=str(data["nodeid"]), name=str(data["name"]), exercise=str(data["exercise"]),
                points=float(data["points"]), max_points=float(data["max_points"]),
                status=str(data["status"]), output=str(data["output"] or ""),
                visibility=str(data["visibility"]), seed=int(data["seed"]), duration=float(data["duration"]),
                not_implemented=bool(data.get("not_implemented", False)),
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"test result {label!r} has a bad value: {err}") from None
        if result.status not in STATUSES:
            raise ValueError(f"test result {label!r}: status {result.status!r} is not one of {', '.join(STATUSES)}")
        if result.visibility not in VISIBILITIES:
            raise ValueError(f"test result {label!r}: visibility {result.visibility!r} is not one of "
                             f"{', '.join(VISIBILITIES)}")
        if not (math.isfinite(result.points) and math.isfinite(result.max_points)
                and -1e-6 <= result.points <= result.max_points + 1e-6):
            raise ValueError(f"test result {label!r}: points {result.points} not within 0..{result.max_points}")
        return result


def status_label(result: TestResult) -> str:
    """A test's status in words: "not implemented yet", "out of memory", "tampered", "failed", ..."""
    if result.not_implemented:
        return NOT_IMPLEMENTED
    return STATUS_LABELS.get(result.status, result.status.replace("_", " "))


class SuiteRunLike(Protocol):
    """The part of ``grader.host.launch.SuiteRun`` the CLI and gradebook read."""

    results: list[TestResult]
    duration: float
    suite_hash: str
    status: str
    message: str


@dataclass(frozen=True)
class ExerciseTotal:
    """One exercise's tests summed up."""

    exercise: str
    points: float
    max_points: float
    passed: int
    total: int
    not_implemented: bool  # every failing test of it is a "not implemented yet"

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.passed == self.total


def by_exercise(results: Iterable[TestResult], exercises: Sequence[str] = EXERCISES) -> dict[str, ExerciseTotal]:
    """Totals for every name in ``exercises`` (zeros where it has no results), in that order."""
    groups: dict[str, list[TestResult]] = {name: [] for name in exercises}
    for result in results:
        groups.setdefault(result.exercise, []).append(result)
    totals = {}
    for name, group in groups.items():
        failing = [r for r in group if not r.passed]
        totals[name] = ExerciseTotal(
            exercise=name, points=round(sum(r.points for r in group), 6),
            max_points=round(sum(r.max_points for r in group), 6),
            passed=len(group) - len(failing), total=len(group),
            not_implemented=bool(failing) and all(r.not_implemented for r in failing),
        )
    return totals


def order_results(results: Iterable[TestResult]) -> list[TestResult]:
    """Results in course order of their exercise, suite order within one (a stable sort)."""
    rank = {name: i for i, name in enumerate(EXERCISES)}
    return sorted(results, key=lambda r: rank.get(r.exercise, len(rank)))


def gradescope_results(results: Sequence[TestResult], *, output: str = "", execution_time: float = 0.0,
                       extra_data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Gradescope's results.json for one submission (validates against schema/gradescope_results.schema.json).

    A test's ``status`` is "passed" or "failed" (Gradescope's two values); the judge's own status
    (error, timeout, crash, tampered, out of memory, not implemented) opens the test's output, in words,
    and is kept in its ``extra_data``.
    """
    tests = []
    counters: dict[str, int] = {}
    for result in order_results(results):
        counters[result.exercise] = counters.get(result.exercise, 0) + 1
        major = EXERCISES.index(result.exercise) + 1 if result.exercise in EXERCISES else len(EXERCISES) + 1
        status_line = status_label(result)
        body = result.output.strip()
        tests.append({
            "name": f"{TITLES.get(result.exercise, result.exercise)}: {result.name}",
            "name_format": "text",
            "number": f"{major}.{counters[result.exercise]}",
            "score": round(result.points, 6),
            "max_score": round(result.max_points, 6),
            "status": "passed" if result.passed else "failed",
            "output": "" if result.passed else f"[{status_line}]\n{body}" if body else f"[{status_line}]",
            "output_format": "text",
            "tags": [result.exercise],
            "visibility": result.visibility,
            "extra_data": {"nodeid": result.nodeid, "status": result.status, "seed": result.seed,
                           "duration": round(result.duration, 3), "not_implemented": result.not_implemented},
        })
    return {
        "score": round(sum(r.points for r in results), 6),
        "execution_time": math.ceil(max(execution_time, 0.0)),
        "output": output,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": dict(extra_data or {}),
        "tests": tests,
    }
