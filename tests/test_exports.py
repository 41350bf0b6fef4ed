"""``grader export``'s command line, GitHub Classroom's files and the Canvas CSV that ``grader grade`` writes beside
grades.csv. The Gradescope autograder is in test_gradescope.py (and test_gradescope_container.py)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from kit_copies import reference_submission, run_cli, stub_copy

from grader.host.gradebook import Gradebook
from grader.instructor.export.github_classroom import public_points
from grader.reports.canvas import CANVAS_IDENTITY, TOTAL_COLUMN, canvas_columns
from grader.reports.publish import publish
from grader.vocabulary.exercises import EXERCISES, TITLES, WEIGHTS
from grader.vocabulary.results import GradeRecord, TestResult

KIT = Path(__file__).resolve().parent.parent


def test_export_misuse_exits_2_with_one_line(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    cases = [(["export"], "choose a target: gradescope or github-classroom"),
             (["export", "gradescope", "--out", tmp_path], "is a directory; name the zip file"),
             (["export", "gradescope", "--suite", "secret"], "invalid choice: 'secret'"),
             (["export", "github-classroom", "--out", tmp_path / "file.txt"], "is a file"),
             (["export", "moodle"], "invalid choice: 'moodle'")]
    for argv, expected in cases:
        code, out, err = run_cli(argv, capsys)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and expected in err, (argv, err)


# ----- GitHub Classroom -----

YAML_LINE = re.compile(r"^(?P<indent>(  )*)(- )?(?:[A-Za-z_][\w\-]*:(?: .+)?|[\w\-]+)$")


def yaml_structure_lines(text: str) -> list[str]:
    """The lines of a simple YAML file outside block scalars (``key: |``) and comments."""
    lines, block = [], None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if block is not None and indent > block:
            continue
        block = indent if line.rstrip().endswith(": |") else None
        lines.append(line)
    return lines


def test_github_classroom_files(tmp_path, capsys):
    code, out, err = run_cli(["export", "github-classroom", "--out", tmp_path], capsys)
    assert code == 0, err
    workflow = (tmp_path / ".github" / "workflows" / "classroom.yml").read_text()
    data = json.loads((tmp_path / ".github" / "classroom" / "autograding.json").read_text())
    # YAML: spaces only, two-space indents, key lines where expected (no YAML parser needed)
    lines = yaml_structure_lines(workflow)
    assert "\t" not in workflow and [line for line in lines if not YAML_LINE.match(line)] == []
    top = [line for line in lines if not line.startswith(" ")]
    assert [line.split(":")[0] for line in top] == ["name", "on", "permissions", "jobs"]
    for key_line in ("  checks: write", "    runs-on: ubuntu-latest", "      - uses: actions/checkout@v4",
                     "      - uses: education/autograding@v1", "        run: |"):
        assert key_line in lines, key_line
    assert "          python -m pip install -e .\n" in workflow
    # autograding.json: one command test per exercise, worth its public points
    tests = data["tests"]
    assert list(data) == ["tests"] and len(tests) == len(EXERCISES)
    for test, name in zip(tests, EXERCISES):
        assert set(test) == {"name", "setup", "run", "input", "output", "comparison", "timeout", "points"}
        assert test["run"] == f"grader check {name}" and TITLES[name] in test["name"]
        assert test["comparison"] == "included" and 0 < test["timeout"] <= 360
        assert 0 < test["points"] < WEIGHTS[name]
    assert sum(t["points"] for t in tests) == 20  # the public suite's total (docs/grader.md, test_suites.py)
    assert {EXERCISES[i]: t["points"] for i, t in enumerate(tests)} == public_points()
    assert "20 points" in out


# ----- Canvas CSV -----

def result(exercise, points, max_points, name="t"):
    return TestResult(nodeid=f"public/test_{exercise}.py::{name}", name=name, exercise=exercise, points=points,
                      max_points=max_points, status="passed" if points == max_points else "failed", output="",
                      visibility="visible", seed=0, duration=0.01)


def grade_record(student, results, status="graded"):
    return GradeRecord(student=student, content_hash="c", suite_hash="s", grader_version="v", status=status,
                       score=sum(r.points for r in results), max_score=sum(r.max_points for r in results) or 100.0,
                       started="2025-01-01T00:00:00+00:00", finished="2025-01-01T00:00:01+00:00", duration=1.0)


def read_canvas(out: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((out / "grades_canvas.csv").read_text())))


def test_the_canvas_csv_from_the_gradebook(tmp_path):
    full = [result(name, WEIGHTS[name], WEIGHTS[name]) for name in EXERCISES]
    partial = [result("relu", 2.5, 10), result("conv", 0, 35), result("pooling", 20, 20),
               result("softmax_ce", 0, 15), result("residual", 0, 20)]
    with Gradebook(tmp_path / "out") as book:
        book.record(grade_record("bob", partial), partial)
        book.record(grade_record("alice", full), full)
        book.record(grade_record("carol", [], status="bad_archive"), [])
        paths = publish(book.out, book.stored())
    assert tmp_path / "out" / "grades_canvas.csv" in paths
    rows = read_canvas(tmp_path / "out")
    assert rows[0] == [*CANVAS_IDENTITY, *canvas_columns()]
    assert rows[0][:6] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", TOTAL_COLUMN]
    assert len(rows[0]) == 6 + len(EXERCISES) and rows[0][6] == "CNN exercises: ReLU"
    assert rows[1] == ["Points Possible", "", "", "", "", "100", "10", "35", "20", "15", "20"]
    assert rows[2:] == [["alice", "", "alice", "alice", "", "100", "10", "35", "20", "15", "20"],
                        ["bob", "", "bob", "bob", "", "22.5", "2.5", "0", "20", "0", "0"],
                        ["carol", "", "carol", "carol", "", "0", "0", "0", "0", "0", "0"]]
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_grade_writes_the_canvas_csv_beside_grades_csv(tmp_path, capsys):
    reference_submission(tmp_path / "in" / "alice")
    stub_copy(tmp_path / "in" / "bob")
    code, out, err = run_cli(["grade", tmp_path / "in" / "alice", tmp_path / "in" / "bob", "--out", tmp_path / "out",
                              "--suite", "public", "--jobs", "2"], capsys)
    assert code == 0, out + err
    assert str(tmp_path / "out" / "grades_canvas.csv") in out
    grades = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "out" / "grades.csv").read_text()))}
    rows = read_canvas(tmp_path / "out")
    assert rows[1][:6] == ["Points Possible", "", "", "", "", "20"]  # the public suite's maxima
    # the maxima of the tests the judge ran are the points the classroom export collects from the markers
    assert [float(v) for v in rows[1][6:]] == list(public_points().values())
    for row in rows[2:]:
        assert row[5] == grades[row[0]]["total"]
        assert row[6:] == [grades[row[0]][name] for name in EXERCISES]
    assert [(row[0], row[5]) for row in rows[2:]] == [("alice", "20"), ("bob", "0")]
