"""The ``grader`` command line: misuse exits 2 with one line, ``pack``, and ``check``/``grade`` on the real judge."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from kit_copies import reference_submission, run_cli, stub_copy

from grader.host.intake import load_submission
from grader.vocabulary.exercises import EXERCISE_FILES, EXERCISES

KIT = Path(__file__).resolve().parent.parent






def misuse_cases(tmp: Path) -> list[tuple[list, str]]:
    (tmp / "a-file.txt").write_text("x")
    (tmp / "empty").mkdir()
    sub = stub_copy(tmp / "alice")
    (tmp / "b").mkdir()
    (tmp / "b" / "alice.zip").write_bytes(b"PK")
    (tmp / "notes.zip").mkdir()  # a folder named like a zip: a folder submission "notes"
    return [
        ([], "choose a command"),
        (["check", "nope"], "unknown exercise 'nope'; valid: relu, conv, pooling, softmax_ce, residual"),
        (["check", "--dir", tmp / "missing"], "no exercises folder"),
        (["check", "--dir", tmp / "empty"], "holds none of"),
        (["check", "--test-timeout", "-1"], "must be positive"),
        (["grade", sub], "--out"),
        (["grade", tmp / "missing", "--out", tmp / "o"], "no such file or directory"),
        (["grade", tmp / "a-file.txt", "--out", tmp / "o"], "neither a directory nor a .zip"),
        (["grade", sub, "--out", tmp / "o", "--jobs", "0"], "must be positive"),
        (["grade", sub, "--out", tmp / "o", "--jobs", "two"], "is not an integer"),
        (["grade", sub, "--out", tmp / "a-file.txt"], "is a file, not a directory"),
        (["grade", sub, "--out", tmp / "o", "--suite", "secret"], "suite 'secret'"),
        (["grade", sub, "--out", tmp / "o", "--only", "bob"], "--only bob: not among"),
        (["grade", sub, sub, "--out", tmp / "o"], "two submissions for student 'alice'"),
        (["pack", "--dir", tmp / "empty"], "holds none of"),
        (["pack", "--dir", sub, "--out", tmp / "empty"], "is a directory"),
        (["frobnicate"], "invalid choice"),
        (["check", "--dir", tmp / "a-file.txt"], "--dir " + str(tmp / "a-file.txt") + " is a file"),
        (["check", "relu", "nope", "conv"], "unknown exercise 'nope'"),
        (["check", "--test-timeout", "soon"], "'soon' is not a number"),
        (["grade", sub, tmp / "b" / "alice.zip", "--out", tmp / "o"], "two submissions for student 'alice': "),
        (["grade", sub, "--out", tmp / "a-file.txt" / "sub"], "cannot write a gradebook in --out"),
        (["grade", sub, "--out", tmp / "o", "--suite", tmp / "a-file.txt"], "a suite file must be named test_*.py"),
        (["grade", sub, "--out", tmp / "o", "--suite", tmp / "empty"], "has no test files"),
        (["grade", sub, "--out", tmp / "o", "--total-timeout", "0"], "must be positive"),
        (["grade", sub, "--out", tmp / "o", "--seed", "x"], "invalid int value"),
        (["grade", "--out", tmp / "o"], "the following arguments are required: SUBMISSION"),
        (["grade", sub, tmp / "notes.zip", "--out", tmp / "o", "--only", "notes.zip"], "--only notes.zip: not among"),
        (["pack", "--dir", sub, "--out", tmp / "a-file.txt" / "s.zip"], "cannot write --out"),
        (["pack", "--dir", tmp / "a-file.txt"], "is a file"),
    ]


def test_misuse_exits_2_with_one_line(tmp_path, capsys):
    for argv, expected in misuse_cases(tmp_path):
        code, out, err = run_cli(argv, capsys)
        assert code == 2, (argv, out, err)
        assert len(err.strip().splitlines()) == 1 and expected in err, (argv, err)
        assert "Traceback" not in err + out
    assert not (tmp_path / "o").exists()  # refused before anything was written


def test_an_unreadable_submission_or_exercises_folder(tmp_path, capsys, monkeypatch):
    sub = stub_copy(tmp_path / "alice")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != sub and real_access(path, mode))
    for argv in (["grade", sub, "--out", tmp_path / "o"], ["check", "--dir", sub]):
        code, out, err = run_cli(argv, capsys)
        assert (code, out, err) == (2, "", f"grader {argv[0]}: cannot read {sub}\n")


def test_a_second_grader_on_the_same_out_is_refused(tmp_path, capsys):
    from grader.host.gradebook import Gradebook

    sub = stub_copy(tmp_path / "alice")
    with Gradebook(tmp_path / "o"):
        code, out, err = run_cli(["grade", sub, "--out", tmp_path / "o"], capsys)
    assert code == 2 and out == ""
    assert err == f"grader grade: another grader is writing to {tmp_path / 'o'}; wait for it or choose another --out\n"


def test_misuse_through_the_real_entry_point(tmp_path):
    done = subprocess.run([sys.executable, "-m", "grader", "check", "convolution"], cwd=KIT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == ("grader check: unknown exercise 'convolution'; "
                                   "valid: relu, conv, pooling, softmax_ce, residual")


def test_pack_round_trip(tmp_path, capsys):
    folder = reference_submission(tmp_path / "exercises")
    (folder / "_utils.py").write_text("x = 1\n")
    code, out, _ = run_cli(["pack", "--dir", folder, "--out", tmp_path / "submission.zip"], capsys)
    assert code == 0 and out.startswith(f"wrote {tmp_path / 'submission.zip'}: conv.py, pooling.py, relu.py")
    with zipfile.ZipFile(tmp_path / "submission.zip") as archive:
        assert sorted(archive.namelist()) == sorted([*EXERCISE_FILES, "MANIFEST.json"])
    packed, original = load_submission(tmp_path / "submission.zip"), load_submission(folder)
    assert packed.status == "ok" and packed.message == ""
    assert packed.files == original.files and packed.content_hash == original.content_hash


def test_pack_notes_stubs_that_are_not_done(tmp_path, capsys):
    code, out, _ = run_cli(["pack", "--dir", stub_copy(tmp_path / "ex"), "--out", tmp_path / "s.zip"], capsys)
    assert code == 0 and "still raise NotImplementedError" in out


def test_check_on_the_stubs_prints_zeros_and_not_implemented(capsys):
    code, out, err = run_cli(["check"], capsys)
    assert code == 1, err
    assert "Traceback" not in out + err
    for exercise in EXERCISES:
        assert re.search(rf"\({exercise}\): 0/\d+ tests passed, 0/[\d.]+ points\s+\[not implemented yet\]", out), out
    assert out.count("hint: write it: replace the `raise NotImplementedError`") == len(EXERCISES)
    assert re.search(r"^public 0/([\d.]+) points; ([\d.]+) more points in hidden tests, graded later$", out, re.M)


def test_check_json_for_one_exercise(capsys):
    code, out, _ = run_cli(["check", "relu", "--json"], capsys)
    data = json.loads(out)  # the JSON only
    assert code == 1 and data["passed"] is False and list(data["exercises"]) == ["relu"]
    relu = data["exercises"]["relu"]
    assert relu["not_implemented"] and relu["tests"] and all(t["not_implemented"] for t in relu["tests"])
    assert data["hidden_points"] == 10 - data["max_score"]


def test_check_on_a_copy_of_the_solutions_passes(tmp_path, capsys):
    code, out, err = run_cli(["check", "--dir", reference_submission(tmp_path / "exercises")], capsys)
    assert code == 0, out + err
    summary = re.search(r"^public ([\d.]+)/([\d.]+) points; (\S+) more points in hidden tests", out, re.M)
    assert summary and summary[1] == summary[2] and float(summary[2]) + float(summary[3]) == 100
    assert "first failure" not in out


@pytest.mark.slow
def test_grading_the_same_three_submissions_twice_grades_none_the_second_time(tmp_path, capsys):
    solved = reference_submission(tmp_path / "in" / "alice")
    stub_copy(tmp_path / "in" / "bob")
    assert run_cli(["pack", "--dir", solved, "--out", tmp_path / "in" / "carol.zip"], capsys)[0] == 0
    argv = ["grade", tmp_path / "in" / "alice", tmp_path / "in" / "bob", tmp_path / "in" / "carol.zip",
            "--out", tmp_path / "out", "--jobs", "2"]
    code, out, err = run_cli(argv, capsys)
    assert code == 0 and "graded 3 submissions" in out, out + err
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "out" / "grades.csv").read_text()))}
    assert (rows["alice"]["total"], rows["bob"]["total"], rows["carol"]["total"]) == ("100", "0", "100")
    assert all(rows[s]["status"] == "graded" for s in rows)
    code, out, _ = run_cli(argv, capsys)
    assert code == 0 and "graded 0 submissions" in out and "skipped 3 unchanged" in out
    feedback = (tmp_path / "out" / "feedback" / "bob.md").read_text()
    assert "hidden tests: 0 of" in feedback and "hidden/" not in feedback
    schema = json.loads((KIT / "grader" / "schema" / "gradescope_results.schema.json").read_text())
    for student in ("alice", "bob", "carol"):
        results = json.loads((tmp_path / "out" / "results" / f"{student}.json").read_text())
        jsonschema.Draft202012Validator(schema).validate(results)
        assert results["score"] == float(rows[student]["total"])


def test_the_check_table_names_the_first_failure_with_a_hint():
    from grader.reports.text import check_table
    from grader.vocabulary.results import TestResult

    def r(name, status, points, output=""):
        return TestResult(f"public/test_conv.py::{name}", name, "conv", points, 1.0, status, output, "visible", 0, 0.1)

    table = check_table("conv", [r("sizes", "passed", 1.0), r("forward", "failed", 0.0, "out differs\nat (0, 1)"),
                                 r("slow", "timeout", 0.0, "timed out")])
    lines = table.splitlines()
    assert lines[0] == "Convolution (conv): 1/3 tests passed, 1/3 points"
    assert [line.split()[0] for line in lines[1:4]] == ["PASS", "FAIL", "TIME"]
    assert lines[4] == "  first failure: out differs"
    assert lines[5].startswith("  hint: wrong result")


def test_tampered_and_out_of_memory_in_the_check_table():
    from grader.reports.text import check_table
    from grader.vocabulary.results import TestResult

    def r(name, status, output=""):
        return TestResult(f"public/test_conv.py::{name}", name, "conv", 0.0, 1.0, status, output, "visible", 0, 0.1)

    lines = check_table("conv", [r("liar", "tampered", "returned an object pretending to be an array"),
                                 r("hog", "out_of_memory")]).splitlines()
    assert [line.split()[0] for line in lines[1:3]] == ["TAMPER", "MEMORY"]
    assert lines[3] == "  first failure: tampered: returned an object pretending to be an array"
    assert lines[4].startswith("  hint: return plain numpy arrays")
    lines = check_table("conv", [r("hog", "out_of_memory")]).splitlines()
    assert lines[2:] == ["  first failure: out of memory",
                         "  hint: your code ran out of memory: look for a huge intermediate array, or one made per "
                         "pixel or per call"]


def test_check_says_nothing_about_the_sandbox_of_the_students_own_code(tmp_path, capsys, monkeypatch):
    """A student checking their own code needs no warning about it reading their files (issue: Mac, Colab)."""
    folder = reference_submission(tmp_path / "exercises")
    monkeypatch.setenv("GRADER_NO_SANDBOX", "1")
    code, out, err = run_cli(["check", "relu", "--dir", folder], capsys)
    assert code == 0 and "[all passed]" in out
    assert "sandbox" not in err.lower() and "WARNING" not in err
    monkeypatch.delenv("GRADER_NO_SANDBOX")
    code, out, err = run_cli(["check", "relu", "--dir", folder, "--json"], capsys)
    assert code == 0 and json.loads(out)["passed"] and "sandbox" not in err.lower()


def test_a_syntax_error_fails_that_module_with_a_clear_message_and_the_rest_passes(tmp_path, capsys):
    folder = reference_submission(tmp_path / "exercises")
    source = (folder / "conv.py").read_text().splitlines(keepends=True)
    line = next(i for i, text in enumerate(source) if text.startswith("def ")) + 1
    source.insert(line - 1, "def broken(:\n")
    (folder / "conv.py").write_text("".join(source))
    code, out, err = run_cli(["check", "relu", "conv", "--dir", folder], capsys)
    assert code == 1 and "Traceback" not in out + err
    relu, conv = out.split("\n\n")[1:3]
    assert re.match(r"ReLU \(relu\): (\d+)/\1 tests passed", relu) and "[all passed]" in relu
    assert re.match(r"Convolution \(conv\): 0/\d+ tests passed", conv), conv
    assert re.search(rf"first failure: .*SyntaxError: invalid syntax \(conv\.py, line {line}\)", conv), conv
