"""docs/grader.md's "Adding an exercise", applied to a copy of the kit: its four files and one record are
all the grader needs, the solution scores the weight and the stub scores 0, in ``grader check`` and in both
suites of ``grader grade``'s judge."""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parent.parent
EXAMPLE = re.compile(r"<!-- example: (?P<path>\S+)(?P<table> TABLE)? -->\n+(?P<indent> *)```python\n(?P<body>.*?)\n"
                     r"(?P=indent)```", re.DOTALL)
NAME = "leaky_relu"


def examples() -> dict[str, str]:
    """path -> code of every example block in docs/grader.md's walk-through (the record under "TABLE")."""
    found = {}
    for match in EXAMPLE.finditer((KIT / "docs" / "grader.md").read_text()):
        body = textwrap.dedent(match["body"]) + "\n"
        found["TABLE" if match["table"] else match["path"]] = body
    return found


@pytest.fixture(scope="module")
def kit_with_the_example(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("kit")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "expected.npz", "expected.json")
    for part in ("minigrad", "grader", "exercises", "solutions"):
        shutil.copytree(KIT / part, copy / part, ignore=ignore)
    blocks = examples()
    for path, code in blocks.items():
        if path != "TABLE":
            (copy / path).write_text(code)
    table = copy / "grader" / "vocabulary" / "exercises.py"
    text = table.read_text()
    head, tail = text.split("TABLE: tuple[Exercise, ...] = (\n", 1)
    rows, rest = tail.split("\n)\n", 1)
    table.write_text(f"{head}TABLE: tuple[Exercise, ...] = (\n{rows}\n    {blocks['TABLE'].strip()}\n)\n{rest}")
    return copy


def in_copy(copy: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("MINIGRAD_KERNELS", None)
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=600)


GRADE = """
import json, sys
from grader.host.launch import run_suite
points = {}
for suite in ("public", "hidden"):
    run = run_suite(sys.argv[1], suite, ["leaky_relu"])
    assert run.status == "completed", run.message
    points[suite] = [(r.points, r.max_points, r.status, r.not_implemented) for r in run.results]
print("@@" + json.dumps(points))
"""


def grade(copy: Path, source: Path, folder: Path) -> dict:
    folder.mkdir()
    shutil.copyfile(source, folder / f"{NAME}.py")
    done = in_copy(copy, "-c", GRADE, str(folder))
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(next(line for line in done.stdout.splitlines() if line.startswith("@@"))[2:])


def test_the_walk_through_has_four_files_and_a_record():
    assert set(examples()) == {f"solutions/{NAME}.py", f"exercises/{NAME}.py", f"grader/suites/public/test_{NAME}.py",
                               f"grader/suites/hidden/test_{NAME}.py", "TABLE"}


def test_the_stub_mirrors_the_solution(kit_with_the_example):
    def public(path: Path) -> dict:
        namespace: dict = {}
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        return {k: str(inspect.signature(v)) for k, v in namespace.items() if inspect.isfunction(v)
                and not k.startswith("_") and v.__module__ is None}

    solution, stub = (public(kit_with_the_example / part / f"{NAME}.py") for part in ("solutions", "exercises"))
    assert solution == stub and set(solution) == {"leaky_relu_forward", "leaky_relu_backward"}


def test_the_solution_scores_the_weight_and_the_stub_nothing(kit_with_the_example, tmp_path):
    weight = in_copy(kit_with_the_example, "-c", "from grader.vocabulary.exercises import WEIGHTS; "
                     "print(WEIGHTS['leaky_relu'])")
    assert weight.returncode == 0, weight.stderr
    solved = grade(kit_with_the_example, kit_with_the_example / "solutions" / f"{NAME}.py", tmp_path / "solved")
    stub = grade(kit_with_the_example, kit_with_the_example / "exercises" / f"{NAME}.py", tmp_path / "stub")
    for suite in ("public", "hidden"):
        assert solved[suite] and all(status == "passed" for _, _, status, _ in solved[suite]), solved
        assert all(points == 0 and status == "error" and missing for points, _, status, missing in stub[suite]), stub
    public, everything = (sum(points for points, _, _, _ in solved[suite]) for suite in ("public", "hidden"))
    assert everything == float(weight.stdout) == 5.0 and public == 1.0  # "hidden" grades public + hidden tests


def test_grader_check_runs_the_new_exercise(kit_with_the_example):
    stub = in_copy(kit_with_the_example, "-m", "grader", "check", NAME)
    assert stub.returncode == 1 and "Leaky ReLU" in stub.stdout and "not implemented" in stub.stdout, stub.stdout
