"""``grader export github-classroom``: GitHub Classroom autograding for the kit's handout repository.

Writes ``.github/workflows/classroom.yml`` (installs the kit, then ``education/autograding@v1``) and
``.github/classroom/autograding.json``: one test per exercise, ``grader check EXERCISE`` as its command
(exit 0 when every public test of it passes), worth that exercise's public points, read from the
suite's ``points`` markers (default 1 per test) as the judge's pytest collects them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from grader.exercises import EXERCISES, TITLES

KIT = Path(__file__).resolve().parent.parent.parent
WORKFLOW = Path(".github/workflows/classroom.yml")
AUTOGRADING = Path(".github/classroom/autograding.json")
TIMEOUT_MINUTES = 10

COLLECT = """
import json, sys
import pytest
from grader.judge.run import JUDGE_INI, suite_files

class Collector:
    items = []
    def pytest_collection_modifyitems(self, items):
        for item in items:
            exercise, points = item.get_closest_marker("exercise"), item.get_closest_marker("points")
            self.items.append([exercise.args[0] if exercise else None, points.args[0] if points else 1])

root, files = suite_files(sys.argv[1])
collector = Collector()
code = pytest.main(["-q", "--collect-only", "-p", "grader.judge.plugin", "-c", str(JUDGE_INI), "--rootdir",
                    str(root), "--import-mode=importlib", "-p", "no:cacheprovider", *map(str, files)],
                   plugins=[collector])
print("@@" + json.dumps({"code": int(code), "items": collector.items}))
"""

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


class ExportError(RuntimeError):
    """The suite's points could not be read."""


def public_points(suite: str = "public") -> dict[str, float]:
    """Points per exercise of ``suite`` (course order), collected by a judge-configured pytest."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPATH": os.pathsep.join(p for p in (str(KIT), env.get("PYTHONPATH", "")) if p)})
    done = subprocess.run([sys.executable, "-c", COLLECT, suite], cwd=KIT, env=env, capture_output=True, text=True,
                          timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("@@")]
    if not lines:
        raise ExportError(f"could not collect the {suite} suite: " + (done.stderr or done.stdout).strip()[-500:])
    payload = json.loads(lines[-1][2:])
    if payload["code"] != 0:
        raise ExportError(f"collecting the {suite} suite failed (pytest exit {payload['code']})")
    totals = {name: 0.0 for name in EXERCISES}
    for exercise, points in payload["items"]:
        if exercise not in totals:
            raise ExportError(f"a {suite} test has no known exercise marker ({exercise!r})")
        totals[exercise] += float(points)
    return {name: round(value, 6) for name, value in totals.items()}


def _points(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def autograding(points: dict[str, float]) -> dict:
    """GitHub Classroom's autograding.json: one test per exercise with public points."""
    return {"tests": [{"name": f"{TITLES[name]} ({name}): public tests", "setup": "",
                       "run": f"grader check {name}", "input": "", "output": "", "comparison": "included",
                       "timeout": TIMEOUT_MINUTES, "points": _points(value)}
                      for name, value in points.items() if value > 0]}


def export(out: Path) -> tuple[list[Path], dict[str, float]]:
    """Write the workflow and autograding.json under ``out``; returns (files, points per exercise)."""
    from grader.gradebook import atomic_write_text

    points = public_points()
    files = []
    for rel, text in ((WORKFLOW, WORKFLOW_TEXT), (AUTOGRADING, json.dumps(autograding(points), indent=2) + "\n")):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
        files.append(path)
    return files, points
