"""A made-up test result for gradebook and batch tests: what the judge would report, without running it."""

from __future__ import annotations

from grader.vocabulary.results import TestResult


def result(exercise="relu", name="t1", points=1.0, max_points=1.0, status="passed", visibility="visible",
           output="", not_implemented=False):
    return TestResult(nodeid=f"{visibility}/test_{exercise}.py::{name}", name=f"{exercise} {name} checks",
                      exercise=exercise, points=points, max_points=max_points, status=status, output=output,
                      visibility=visibility, seed=7, duration=0.01, not_implemented=not_implemented)
