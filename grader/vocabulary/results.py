"""The words of grading, each written once: test, submission and judge-run statuses, visibilities; one
``TestResult`` per test (the judge builds it, every format is rendered from it) and per-exercise totals."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from grader.vocabulary.exercises import EXERCISES


class Word(str, Enum):
    """A str-valued enum (StrEnum before Python 3.11): equal to, printed, and stored (JSON, SQLite) as its value."""

    def __str__(self) -> str:  # format() and f-strings use it too (Enum.__format__ formats str(self))
        return self.value

    @property
    def label(self) -> str:
        """For people: "out of memory", "after due date", "bad archive"."""
        return self.value.replace("_", " ")


class TestStatus(Word):
    """What the judge decided about one test."""

    __test__ = False  # not a pytest test class, whatever its name
    PASSED = "passed"
    FAILED = "failed"  # a wrong value
    ERROR = "error"  # the submission raised
    TIMEOUT = "timeout"  # no answer before the deadline, or the runner's CPU time used up
    CRASH = "crash"  # the runner died
    TAMPERED = "tampered"  # the submission tried to fool the judge (an object pretending to be an array, ...)
    OUT_OF_MEMORY = "out_of_memory"  # the runner hit its memory limit


class Visibility(Word):
    """Who sees a test's result when (Gradescope's four levels)."""

    VISIBLE = "visible"
    HIDDEN = "hidden"  # only as a name-less total per exercise
    AFTER_DUE_DATE = "after_due_date"
    AFTER_PUBLISHED = "after_published"


class SubmissionStatus(Word):
    """How a submission's grading ended (the gradebook's ``status``)."""

    GRADED = "graded"
    TIMEOUT = "timeout"  # the judge ran out of total time: the unfinished tests count as failed
    ERROR = "error"  # the grader's own trouble: graded again on a rerun
    BAD_ARCHIVE = "bad_archive"
    BAD_SOURCE = "bad_source"
    NO_FILES = "no_files"

    @property
    def final(self) -> bool:
        """Worth keeping on a rerun (everything but the grader's own error)."""
        return self is not SubmissionStatus.ERROR


class RunStatus(Word):
    """How one judge run ended (``grader.host.launch.SuiteRun.status``)."""

    COMPLETED = "completed"
    TIMEOUT = "timeout"
    ERROR = "error"


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
    status: TestStatus
    output: str
    visibility: Visibility
    seed: int
    duration: float
    not_implemented: bool = False

    def __post_init__(self) -> None:
        self.status, self.visibility = TestStatus(self.status), Visibility(self.visibility)

    @property
    def passed(self) -> bool:
        return self.status is TestStatus.PASSED

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: the statuses as their strings."""
        return {**dataclasses.asdict(self), "status": self.status.value, "visibility": self.visibility.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestResult:
        """Build from a dict (unknown keys ignored); ValueError with one line on a missing or bad field."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a test result must be a JSON object, got {type(data).__name__}")
        label = data.get("nodeid", "?")
        missing = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.name not in data]
        if missing:
            raise ValueError(f"test result {label!r} lacks {', '.join(missing)}")
        for key, words in (("status", TestStatus), ("visibility", Visibility)):
            if str(data[key]) not in {w.value for w in words}:
                raise ValueError(f"test result {label!r}: {key} {str(data[key])!r} is not one of "
                                 f"{', '.join(w.value for w in words)}")
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
        if not (math.isfinite(result.points) and math.isfinite(result.max_points)
                and -1e-6 <= result.points <= result.max_points + 1e-6):
            raise ValueError(f"test result {label!r}: points {result.points} not within 0..{result.max_points}")
        return result


def status_label(result: TestResult) -> str:
    """A test's status in words: "not implemented yet", "out of memory", "tampered", "failed", ..."""
    return NOT_IMPLEMENTED if result.not_implemented else result.status.label


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


@dataclass
class GradeRecord:
    """One row of ``submissions``: how a student's submission was graded."""

    student: str
    content_hash: str
    suite_hash: str
    grader_version: str
    status: SubmissionStatus
    score: float
    max_score: float
    started: str
    finished: str
    duration: float
    message: str = ""
    sandbox: str = ""  # the tier its code ran in ("bwrap", "uid+seccomp", "uid", "rlimits-only"), "" if it never ran

    def __post_init__(self) -> None:
        self.status = SubmissionStatus(self.status)


@dataclass
class Stored:
    """Everything in a gradebook, for reports: the records by student, the tests in the order stored."""

    records: list[GradeRecord]
    tests: list[tuple[str, TestResult]]  # (student, result)

    def tests_of(self, student: str) -> list[TestResult]:
        return [result for who, result in self.tests if who == student]
