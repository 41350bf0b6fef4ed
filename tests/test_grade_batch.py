"""`grader grade` over many submissions, with a fake judge: reruns, bad archives, hostile uploads, the
sandbox mode each grade records, and the optional integrity reports."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
import types
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_results import result
from kit_copies import run_cli

from grader import cli
from grader.host import batch
from grader.vocabulary.exercises import EXERCISE_FILES
from grader.vocabulary.options import JudgeOptions, Limits
from grader.vocabulary.results import TestResult


@dataclass
class FakeRun:
    results: list[TestResult]
    duration: float = 0.1
    suite_hash: str = "suite-1"
    status: str = "completed"
    message: str = ""


@pytest.fixture
def fake_judge(monkeypatch):
    """Replace the judge: every submission scores 1 point per exercise file it has; records who was graded."""
    import grader.host.launch as run

    graded: list[str] = []
    state = {"suite": "suite-1"}

    def fake_run_suite(exercises_dir, suite="hidden", exercises=None, **kwargs):
        files = sorted(Path(exercises_dir).glob("*.py"))
        graded.append((Path(exercises_dir) / "relu.py").read_text().split()[1])  # "# <student> ..."
        return FakeRun([result(p.stem, "t", 1, 1) for p in files], suite_hash=state["suite"])

    monkeypatch.setattr(run, "run_suite", fake_run_suite)
    monkeypatch.setattr(run, "suite_hash", lambda suite="hidden": state["suite"])
    return graded, state


def make_submissions(root: Path, count: int = 3) -> list[Path]:
    paths = []
    for i in range(count):
        folder = root / f"s{i}"
        folder.mkdir(parents=True)
        for name in EXERCISE_FILES[: i + 1]:
            (folder / name).write_text(f"# s{i}\n")
        paths.append(folder)
    return paths


def grade(paths, out, *extra):
    return cli.main(["grade", *map(str, paths), "--out", str(out), *extra])


def test_a_rerun_skips_unchanged_and_regrades_changed(tmp_path, fake_judge, capsys):
    graded, state = fake_judge
    paths, out = make_submissions(tmp_path / "in"), tmp_path / "out"
    assert grade(paths, out, "--jobs", "2") == 0
    assert sorted(graded) == ["s0", "s1", "s2"]
    assert "graded 3 submissions" in capsys.readouterr().out
    assert grade(paths, out) == 0 and len(graded) == 3
    second = capsys.readouterr().out
    assert "graded 0 submissions" in second and "skipped 3 unchanged" in second
    (paths[1] / "relu.py").write_text("# s1 changed\n")
    assert grade(paths, out) == 0 and graded[3:] == ["s1"]
    assert grade(paths, out, "--only", "s2") == 0 and graded[4:] == ["s2"]
    assert grade(paths, out, "--force") == 0 and len(graded) == 8
    state["suite"] = "suite-2"  # a changed suite regrades everyone
    assert grade(paths, out) == 0 and len(graded) == 11
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert [(r["student"], r["total"]) for r in rows] == [("s0", "1"), ("s1", "2"), ("s2", "3")]
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT DISTINCT suite_hash FROM submissions").fetchall() == [("suite-2",)]


def test_grade_hands_the_judge_its_flags_as_one_options_object(tmp_path, fake_judge, monkeypatch):
    import grader.host.launch as launch

    fake, seen = launch.run_suite, []
    monkeypatch.setattr(launch, "run_suite", lambda *a, options, **k: seen.append(options) or fake(*a, **k))
    assert grade(make_submissions(tmp_path / "in", 1), tmp_path / "out", "--memory-mb", "512", "--cpu-seconds", "9",
                 "--test-timeout", "2", "--seed", "5", "--sandbox", "rlimits-only") == 0
    assert seen == [JudgeOptions(test_timeout=2.0, base_seed=5, sandbox="rlimits-only",
                                 limits=Limits(memory_mb=512, cpu_seconds=9))]


def test_a_bad_archive_is_recorded_and_the_batch_goes_on(tmp_path, fake_judge, capsys):
    graded, _ = fake_judge
    (tmp_path / "mallory.zip").write_bytes(b"not a zip at all")
    paths = [*make_submissions(tmp_path / "in", 1), tmp_path / "mallory.zip"]
    assert grade(paths, tmp_path / "out") == 0
    assert graded == ["s0"]
    assert "mallory: bad_archive: mallory.zip: unreadable zip" in capsys.readouterr().out
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "out" / "grades.csv").read_text()))}
    assert (rows["mallory"]["status"], rows["mallory"]["total"], rows["s0"]["status"]) == ("bad_archive", "0", "graded")


def test_hostile_and_broken_submissions_each_get_a_status_and_the_batch_goes_on(tmp_path, fake_judge, capsys):
    graded, _ = fake_judge
    make_submissions(tmp_path / "in", 1)
    root = tmp_path / "in"
    with zipfile.ZipFile(root / "slip.zip", "w") as archive:
        archive.writestr("relu.py", "# slip\n")
        archive.writestr("../../etc/cron.d/x", "boom")
    with zipfile.ZipFile(root / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("relu.py", "# bomb\n")
        archive.writestr("zeros.bin", bytes(8 << 20))
    (root / "latin").mkdir()
    (root / "latin" / "relu.py").write_bytes(b"# latin caf\xe9\n")
    (root / "empty").mkdir()
    (root / "empty" / "relu.py").write_text("# empty\n")
    (root / "empty" / "conv.py").write_text("")
    (root / "nothing").mkdir()
    (root / "nothing" / "notes.txt").write_text("sorry")
    (root / "junk.zip").write_bytes(b"PK\x03\x04 not really")
    paths = sorted(root.iterdir())
    assert grade(paths, tmp_path / "out") == 0
    assert sorted(graded) == ["empty", "s0"]
    out = capsys.readouterr().out
    expected = {
        "bomb": ("bad_archive", "member 'zeros.bin' expands"),
        "empty": ("graded", "missing pooling.py, softmax_ce.py, residual.py; empty conv.py"),
        "junk": ("bad_archive", "junk.zip: unreadable zip"),
        "latin": ("bad_source", "relu.py is not UTF-8 text (line 1: byte 0xe9)"),
        "nothing": ("no_files", "no exercise files found"),
        "slip": ("bad_archive", "member '../../etc/cron.d/x' climbs out of the archive"),
    }
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "out" / "grades.csv").read_text()))}
    for student, (status, message) in expected.items():
        assert rows[student]["status"] == status
        assert f"  {student}: {status}: {message}" in out, (student, out)
        feedback = (tmp_path / "out" / "feedback" / f"{student}.md").read_text()
        assert message in feedback
    assert rows["s0"]["status"] == "graded" and rows["s0"]["total"] == "1"
    assert not (tmp_path / "etc").exists()


@pytest.fixture
def no_sandbox(monkeypatch):
    """Runners with rlimits only, asked for as ``GRADER_NO_SANDBOX=1`` asks (what ``--sandbox rlimits-only`` does)."""
    monkeypatch.setenv("GRADER_NO_SANDBOX", "1")
    yield
    monkeypatch.delenv("GRADER_NO_SANDBOX", raising=False)


def sandbox_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("sandbox: ")]


def test_grade_says_once_that_runners_have_rlimits_only_and_records_the_tier(tmp_path, fake_judge, no_sandbox,
                                                                            capsys):
    paths = make_submissions(tmp_path / "in", 2)
    (tmp_path / "in" / "bad.zip").write_bytes(b"junk")
    assert grade([*paths, tmp_path / "in" / "bad.zip"], tmp_path / "out", "--jobs", "2") == 0
    lines = sandbox_lines(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith("sandbox: rlimits-only: runners run as you") \
        and lines[0].endswith("(asked for)")
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        modes = dict(db.execute("SELECT student, sandbox FROM submissions"))
    assert modes == {"s0": "rlimits-only", "s1": "rlimits-only", "bad": ""}
    data = json.loads((tmp_path / "out" / "results" / "s0.json").read_text())
    assert data["extra_data"]["sandbox"] == "rlimits-only"


def test_grade_in_bubblewrap_is_quiet_and_redoes_grades_made_in_a_weaker_tier(tmp_path, fake_judge, no_sandbox,
                                                                               capsys, monkeypatch):
    from grader.jail import bwrap

    graded, _ = fake_judge
    paths = make_submissions(tmp_path / "in", 2)
    assert grade(paths, tmp_path / "out") == 0 and len(graded) == 2
    monkeypatch.delenv("GRADER_NO_SANDBOX")
    if bwrap.available() is None:
        pytest.skip("bubblewrap cannot start a sandbox here")
    capsys.readouterr()
    assert grade(paths, tmp_path / "out") == 0
    assert len(graded) == 4  # both regraded, now sandboxed
    assert sandbox_lines(capsys.readouterr().err) == []
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        assert db.execute("SELECT DISTINCT sandbox FROM submissions").fetchall() == [("bwrap",)]
    assert grade(paths, tmp_path / "out") == 0 and len(graded) == 4  # and now current


def test_grade_as_root_refuses_runners_without_confinement_unless_asked(tmp_path, fake_judge, capsys, monkeypatch):
    from grader.jail import identity, sandbox

    paths = make_submissions(tmp_path / "in", 1)
    monkeypatch.setattr(identity, "is_root", lambda: True)
    monkeypatch.setattr(sandbox, "decide", lambda choice="auto", **kw: sandbox.Decision(
        "rlimits-only", ("bubblewrap is not installed", "a runner's uid cannot start /opt/py")))
    code, _, err = run_cli(["grade", *paths, "--out", tmp_path / "out"], capsys)
    err = err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "submissions would run as root with rlimits only (bubblewrap is not installed" in err[0]
    assert "--sandbox rlimits-only" in err[0] and not (tmp_path / "out").exists()
    assert grade(paths, tmp_path / "out", "--sandbox", "rlimits-only") == 0


def test_grade_refuses_a_uid_tier_under_which_runners_could_read_the_judges_files(tmp_path, fake_judge, capsys,
                                                                                  monkeypatch):
    from grader.jail import sandbox

    paths = make_submissions(tmp_path / "in", 1)
    readable = (str(paths[0] / "conv.py"),)
    monkeypatch.setattr(sandbox, "decide", lambda choice="auto", **kw: sandbox.Decision("uid+seccomp", (), readable))
    code, _, err = run_cli(["grade", *paths, "--out", tmp_path / "out"], capsys)
    err = err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"the runners' uids could read {readable[0]}: make it unreadable" in err[0]


def test_the_integrity_reports_see_every_submission_and_are_optional(tmp_path, fake_judge, capsys, monkeypatch):
    paths = make_submissions(tmp_path / "in", 2)
    (paths[1] / "conv.py").write_bytes(b"# s1 caf\xe9\n")  # bad_source: still handed over, as bytes
    seen = {}

    def write_reports(out, submissions):
        seen.update(out=out, submissions=submissions)
        return {"summary": "stub"}

    stub = types.ModuleType("grader.instructor.integrity.report")
    stub.__dict__.update(write_reports=write_reports, summary_line=lambda payload: "integrity: stub")
    monkeypatch.setitem(sys.modules, "grader.instructor.integrity.report", stub)
    assert grade(paths, tmp_path / "out") == 0
    assert "integrity: stub" in capsys.readouterr().out
    assert seen["out"] == tmp_path / "out"
    assert seen["submissions"] == {"s0": {"relu.py": "# s0\n"},
                                   "s1": {"relu.py": "# s1\n", "conv.py": b"# s1 caf\xe9\n"}}
    # the package absent: no line, no error
    monkeypatch.setitem(sys.modules, "grader.instructor.integrity.report", None)
    assert batch.integrity_reports(tmp_path / "out", []) == ""
