"""``grader export`` (a Gradescope autograder zip run as Gradescope runs it; GitHub Classroom's files) and the
Canvas CSV that ``grader grade`` writes beside grades.csv."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from kit_copies import reference_submission, run_cli, stub_copy

from grader import cli
from grader.exercises import EXERCISE_FILES, EXERCISES, TITLES, WEIGHTS
from grader.export.github_classroom import public_points
from grader.gradebook import Gradebook, GradeRecord
from grader.lms import CANVAS_IDENTITY, TOTAL_COLUMN, canvas_columns
from grader.results import TestResult

KIT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((KIT / "grader" / "schema" / "gradescope_results.schema.json").read_text())






# ----- Gradescope -----

@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    assert cli.main(["export", "gradescope", "--out", str(out)]) == 0
    return out


def test_the_autograder_zip_holds_the_scripts_and_the_kit(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        config = json.loads(archive.read("kit/autograder.json"))
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[script].external_attr >> 16) & 0o111, script
    assert "pip install" in setup and "apt-get install -y -qq bubblewrap" in setup and "|| echo" in setup
    needed = ["kit/pyproject.toml", "kit/grader/judge/judge.ini", "kit/grader/schema/gradescope_results.schema.json",
              "kit/exercises/_utils.py", "kit/solutions/conv.py", "kit/minigrad/__init__.py",
              *(f"kit/grader/suites/{suite}/test_{name}.py" for suite in ("public", "hidden") for name in EXERCISES),
              *(f"kit/exercises/{name}" for name in EXERCISE_FILES)]
    assert not [name for name in needed if name not in infos]
    assert not [n for n in infos if "__pycache__" in n or n.endswith(".pyc") or n.startswith("kit/tests")]
    assert config == {"suite": "hidden", "test_timeout": 30.0, "total_timeout": 900.0}
    with zipfile.ZipFile(autograder_zip) as archive:
        stubs = archive.read("kit/exercises/conv.py")
    assert stubs == (KIT / "exercises" / "conv.py").read_bytes()  # the handout's stubs, not someone's answers


def autograde(zip_path: Path, tmp: Path, submit) -> tuple[dict, subprocess.CompletedProcess]:
    """Gradescope's layout in ``tmp/autograder``: the zip in source/, ``submit(folder)`` fills submission/;
    run_autograder (setup.sh skipped: the kit's dependencies are installed); the results.json it wrote."""
    root = tmp / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    (root / "submission").mkdir(parents=True)
    submit(root / "submission")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update({"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable})
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=280)
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(results)
    assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]  # no temp file left
    assert "{" not in done.stdout  # the JSON is written to the file by the grader, never printed
    return results, done


def test_the_autograder_gives_the_reference_100_from_an_exercises_folder(autograder_zip, tmp_path):
    results, done = autograde(autograder_zip, tmp_path,
                              lambda folder: reference_submission(folder / "exercises"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert results["score"] == pytest.approx(100) and results["extra_data"]["status"] == "graded"
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(100)
    assert all(t["status"] == "passed" for t in results["tests"])
    assert {t["visibility"] for t in results["tests"]} >= {"visible", "hidden"}
    assert str(tmp_path / "autograder" / "source" / "kit") in done.stderr or "autograder: score 100" in done.stderr


def test_the_autograder_gives_the_stubs_0_from_a_packed_zip(autograder_zip, tmp_path, capsys):
    stubs = stub_copy(tmp_path / "stubs")
    assert run_cli(["pack", "--dir", stubs, "--out", tmp_path / "submission.zip"], capsys)[0] == 0

    def submit(folder):
        (folder / "submission.zip").write_bytes((tmp_path / "submission.zip").read_bytes())

    results, done = autograde(autograder_zip, tmp_path, submit)
    assert done.returncode == 0, done.stderr[-3000:]
    assert results["score"] == 0 and results["tests"] and results["extra_data"]["status"] == "graded"
    assert all(t["status"] == "failed" and t["output"].startswith("[not implemented yet]") for t in results["tests"])


def test_the_autograder_scores_a_bad_zip_0_and_says_why(autograder_zip, tmp_path):
    results, done = autograde(autograder_zip, tmp_path,
                              lambda folder: (folder / "submission.zip").write_bytes(b"PK\x03\x04 not a zip"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert results["score"] == 0 and results["tests"] == [] and results["extra_data"]["status"] == "bad_archive"
    assert results["output"].startswith("Your submission could not be graded (bad_archive): submission.zip: "
                                        "unreadable zip"), results["output"]
    assert "grader pack" in results["output"]


def test_the_autograder_with_nothing_submitted_and_the_grader_failing(tmp_path, monkeypatch):
    from grader.export import gradescope

    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "notes.txt").write_text("sorry")
    assert gradescope.run(tmp_path, None) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(results)
    assert results["score"] == 0 and "(no_files): no exercise files found" in results["output"]

    def broken(root, config):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(gradescope, "results_for", broken)
    assert gradescope.run(tmp_path, None) == 1
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(results)
    assert results["score"] == 0 and results["output"].endswith("RuntimeError: disk on fire")


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


def test_a_public_autograder(tmp_path, capsys):
    code, out, _ = run_cli(["export", "gradescope", "--out", tmp_path / "a.zip", "--suite", "public"], capsys)
    assert code == 0 and "--suite public" in out
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        config = json.loads(archive.read("kit/autograder.json"))
    assert config["suite"] == "public"


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
        path = book.write_canvas_csv()
    assert path == tmp_path / "out" / "grades_canvas.csv"
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
