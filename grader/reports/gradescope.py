"""Gradescope's results.json (validated by ``grader/schema/gradescope_results.schema.json``), for the
gradebook folder (``publish``) and the autograder (``grader.host.gradescope``) alike."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from grader.reports.text import summary_text
from grader.vocabulary.exercises import EXERCISES, TITLES
from grader.vocabulary.results import SubmissionStatus, TestResult, TestStatus, Visibility, order_results, status_label

if TYPE_CHECKING:
    from grader.vocabulary.results import GradeRecord


def gradescope_results(results: Sequence[TestResult], *, output: str = "", execution_time: float = 0.0,
                       extra_data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Gradescope's results.json for one submission.

    A test's ``status`` is passed or failed (Gradescope's two values); the judge's own status (error,
    timeout, crash, tampered, out of memory, not implemented) opens the test's output, in words, and is
    kept in its ``extra_data``.
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
            "status": (TestStatus.PASSED if result.passed else TestStatus.FAILED).value,
            "output": "" if result.passed else f"[{status_line}]\n{body}" if body else f"[{status_line}]",
            "output_format": "text",
            "tags": [result.exercise],
            "visibility": result.visibility.value,
            "extra_data": {"nodeid": result.nodeid, "status": result.status.value, "seed": result.seed,
                           "duration": round(result.duration, 3), "not_implemented": result.not_implemented},
        })
    return {
        "score": round(sum(r.points for r in results), 6),
        "execution_time": math.ceil(max(execution_time, 0.0)),
        "output": output,
        "output_format": "text",
        "visibility": Visibility.VISIBLE.value,
        "stdout_visibility": Visibility.HIDDEN.value,
        "extra_data": dict(extra_data or {}),
        "tests": tests,
    }


def submission_results(record: GradeRecord, results: Sequence[TestResult], extra: Mapping[str, Any],
                       preface: str = "") -> dict[str, Any]:
    """results.json of one recorded submission: its tests, a summary (after ``preface``), the record's score;
    ``extra_data`` is how it was graded, then ``extra``."""
    output = preface + summary_text(results, status=record.status, message=record.message,
                                    max_score=record.max_score)
    how = {"status": record.status.value, "content_hash": record.content_hash, "suite_hash": record.suite_hash,
           "grader_version": record.grader_version, "message": record.message, "sandbox": record.sandbox}
    payload = gradescope_results(results, execution_time=record.duration, extra_data={**how, **extra}, output=output)
    return {**payload, "score": round(record.score, 6)}


def failure_results(message: str) -> dict[str, Any]:
    """results.json for the grader's own failure: score 0, the reason in the output."""
    payload = gradescope_results([], output=f"The autograder could not grade this submission: {message}",
                                 extra_data={"status": SubmissionStatus.ERROR.value, "message": message})
    return {**payload, "score": 0.0}
