"""``grader export github-classroom``: GitHub Classroom autograding for the kit's handout repository.

Writes ``.github/workflows/classroom.yml`` (installs the kit, then ``education/autograding@v1``) and
``.github/classroom/autograding.json``: one test per exercise, ``grader check EXERCISE`` as its command
(exit 0 when every public test of it passes), worth that exercise's public points, read from the
suite's ``points`` markers (default 1 per test) as the judge's pytest collects them.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.instructor.export import ExportError
from grader.vocabulary.exercises import EXERCISES, TITLES

WORKFLOW = Path(".github/workflows/classroom.yml")
AUTOGRADING = Path(".github/classroom/autograding.json")
TIMEOUT_MINUTES = 10

WORKFLOW_TEXT = """\
# Written by `grader export github-classroom`: GitHub Classroom runs the public tests on every push.
name: Autograding
on:
  - push
  - workflow_dispatch
  - repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  build:
    name: Autograding
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the kit
        run: |
          sudo apt-get install -y bubblewrap || echo "no bubblewrap: runners use rlimits only"
          python -m pip install -e .
      - uses: education/autograding@v1
"""


def public_points(suite: str = "public") -> dict[str, float]:
    """Points per exercise of ``suite`` (course order), collected by a judge-configured pytest."""
    from grader.host.launch import SuiteError, collect_tests

    try:
        items = collect_tests(suite)
    except SuiteError as err:
        raise ExportError(str(err)) from None
    totals = {name: 0.0 for name in EXERCISES}
    for item in items:
        exercise, points = item["exercise"], 1 if item["points"] is None else item["points"]
        if exercise not in totals:
            raise ExportError(f"a {suite} test has no known exercise marker ({exercise!r})")
        totals[exercise] += float(points)
    return {name: round(value, 6) for name, value in totals.items()}


def autograding(points: dict[str, float]) -> dict:
    """GitHub Classroom's autograding.json: one test per exercise with public points."""
    return {"tests": [{"name": f"{TITLES[name]} ({name}): public tests", "setup": "",
                       "run": f"grader check {name}", "input": "", "output": "", "comparison": "included",
                       "timeout": TIMEOUT_MINUTES, "points": int(value) if float(value).is_integer() else value}
                      for name, value in points.items() if value > 0]}


def export(out: Path) -> tuple[list[Path], dict[str, float]]:
    """Write the workflow and autograding.json under ``out``; returns (files, points per exercise)."""
    from grader.vocabulary.files import atomic_write_text

    points = public_points()
    files = []
    for rel, text in ((WORKFLOW, WORKFLOW_TEXT), (AUTOGRADING, json.dumps(autograding(points), indent=2) + "\n")):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
        files.append(path)
    return files, points
