"""``grader export gradescope``: the autograder zip, what it holds and leaves out, and its scripts run as
Gradescope runs them (on this machine; tests/test_gradescope_container.py runs them in a real container)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from kit_copies import reference_submission, run_cli, staged_kernels, stub_copy

from grader import cli
from grader.instructor.export import autograder_zip
from grader.vocabulary.exercises import EXERCISE_FILES, EXERCISES

KIT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((KIT / "grader" / "schema" / "gradescope_results.schema.json").read_text())


@pytest.fixture(scope="module")
def autograder_zip_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    assert cli.main(["export", "gradescope", "--out", str(out)]) == 0
    return out


def members(path: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: info for info in archive.infolist()}


def test_the_zip_holds_the_scripts_the_kit_and_the_recorded_values_but_no_solutions(autograder_zip_path):
    infos = members(autograder_zip_path)
    with zipfile.ZipFile(autograder_zip_path) as archive:
        setup = archive.read("setup.sh").decode()
        config = json.loads(archive.read("kit/autograder.json"))
        expected = json.loads(archive.read("kit/grader/suites/expected.json"))
        requirements = archive.read("kit/requirements.txt").decode().split()
        stubs = archive.read("kit/exercises/conv.py")
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[script].external_attr >> 16) & 0o111, script
    needed = ["kit/pyproject.toml", "kit/grader/judge/judge.ini", "kit/grader/schema/gradescope_results.schema.json",
              "kit/exercises/_utils.py", "kit/minigrad/__init__.py", "kit/grader/suites/expected.npz",
              "kit/reference_kernels/conv.py", "kit/reference_kernels/relu.py", "kit/reference_kernels/_checks.py",
              *(f"kit/grader/suites/{suite}/test_{name}.py" for suite in ("public", "hidden") for name in EXERCISES),
              *(f"kit/exercises/{name}" for name in EXERCISE_FILES)]
    assert not [name for name in needed if name not in infos]
    assert not [n for n in infos if "solutions" in n or n.startswith(("kit/tests", "kit/grader/mutants",
                                                                      "kit/grader/selftest", "kit/grader/release"))]
    assert not [n for n in infos if n.startswith("kit/reference_kernels/") and not n.endswith(
        ("__init__.py", "conv.py", "relu.py", "_checks.py"))]
    assert not [n for n in infos if "__pycache__" in n or n.endswith(".pyc")]
    assert config == {"suite": "hidden", "test_timeout": 30.0, "total_timeout": 480.0, "seed": 0, "sandbox": "auto",
                      "residual_kernels": "reference"}
    assert "base seed 0" in expected["about"] and len(expected["calls"]) > 100
    assert "numpy>=2.0" in requirements and "pytest>=7.4" in requirements
    assert stubs == (KIT / "exercises" / "conv.py").read_bytes()  # the handout's stubs, not someone's answers
    assert "sys.version_info < (3, 10)" in setup and "chmod -R go-rwx" in setup and "gradescope check" in setup


def test_the_leak_check_finds_reference_code_outside_the_kernels_it_may_ship(tmp_path):
    kit = tmp_path / "kit"
    (kit / "reference_kernels").mkdir(parents=True)
    (kit / "grader").mkdir()
    (kit / "reference_kernels" / "conv.py").write_bytes((KIT / "solutions" / "conv.py").read_bytes())
    assert autograder_zip.leaks(kit) == []  # the kernels the judge runs for the residual block
    (kit / "grader" / "helpers.py").write_bytes((KIT / "solutions" / "pooling.py").read_bytes())
    (kit / "reference_kernels" / "softmax_ce.py").write_bytes((KIT / "solutions" / "softmax_ce.py").read_bytes())
    (kit / "grader" / "instructor").mkdir()
    (kit / "grader" / "instructor" / "selftest.py").write_text("")
    (kit / "solutions").mkdir()
    found = autograder_zip.leaks(kit)
    assert "solutions is named solutions" in found and "grader/instructor/selftest.py is an instructor's tool" in found
    assert any(f.startswith("grader/helpers.py: ") and "solutions/pooling.py" in f for f in found)
    assert any(f.startswith("reference_kernels/softmax_ce.py: ") for f in found)  # not a kernel the block needs


def test_a_zip_without_reference_kernels_grades_the_block_on_the_students_own(tmp_path):
    out = tmp_path / "student-kernels.zip"
    built = autograder_zip.build(out, "public", residual_kernels="student")
    infos = members(out)
    assert not [n for n in infos if n.startswith("kit/reference_kernels")] and built.calls > 10
    with zipfile.ZipFile(out) as archive:
        exercises = archive.read("kit/grader/vocabulary/exercises.py").decode()
        assert "REFERENCE_KERNELS_STAGED = False" in exercises and staged_kernels(exercises) == {}
        assert json.loads(archive.read("kit/autograder.json"))["residual_kernels"] == "student"


@pytest.mark.parametrize(("seconds", "words"), [("600", "raise the assignment's autograder timeout"),
                                                ("3000", "above Gradescope's longest limit")])
def test_a_total_time_past_gradescopes_limits_is_warned_about(tmp_path, capsys, seconds, words, monkeypatch):
    monkeypatch.setattr(autograder_zip, "self_check", lambda root, suite: None)
    code, _, err = run_cli(["export", "gradescope", "--out", tmp_path / "a.zip", "--suite", "public",
                            "--total-timeout", seconds], capsys)
    assert code == 0 and words in err and err.startswith("grader export: warning: ")
    assert len(err.strip().splitlines()) == 1


def test_a_public_autograder(tmp_path, capsys):
    code, out, _ = run_cli(["export", "gradescope", "--out", tmp_path / "a.zip", "--suite", "public"], capsys)
    assert code == 0 and "--suite public" in out and "checked: the reference scores full marks" in out
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        config = json.loads(archive.read("kit/autograder.json"))
    assert config["suite"] == "public"


# ----- the scripts, as Gradescope runs them -----

def autograde(zip_path: Path, tmp: Path, submit) -> tuple[dict, subprocess.CompletedProcess]:
    """Gradescope's layout in ``tmp/autograder``: the zip in source/, ``submit(folder)`` fills submission/;
    run_autograder copied to the root, as Gradescope does, and run (setup.sh skipped: the kit's dependencies
    are installed here); the results.json it wrote."""
    root = tmp / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir(parents=True)
    submit(root / "submission")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update({"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable})
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(root / "run_autograder")], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=280)
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(results)
    assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]  # no temp file left
    assert "{" not in done.stdout  # the JSON is written to the file by the grader, never printed
    return results, done


def test_the_autograder_gives_the_reference_100_from_an_exercises_folder(autograder_zip_path, tmp_path):
    results, done = autograde(autograder_zip_path, tmp_path,
                              lambda folder: reference_submission(folder / "exercises"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert results["score"] == pytest.approx(100) and results["extra_data"]["status"] == "graded"
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(100)
    assert all(t["status"] == "passed" for t in results["tests"])
    assert {t["visibility"] for t in results["tests"]} >= {"visible", "hidden"}
    assert results["extra_data"]["sandbox"] == "bwrap" or not results["extra_data"]["sandbox"].startswith("rlimits")
    assert "autograder: sandbox: " in done.stderr and "autograder: score 100" in done.stderr


def test_the_autograder_gives_the_stubs_0_from_a_packed_zip(autograder_zip_path, tmp_path, capsys):
    stubs = stub_copy(tmp_path / "stubs")
    assert run_cli(["pack", "--dir", stubs, "--out", tmp_path / "submission.zip"], capsys)[0] == 0

    def submit(folder):
        (folder / "submission.zip").write_bytes((tmp_path / "submission.zip").read_bytes())

    results, done = autograde(autograder_zip_path, tmp_path, submit)
    assert done.returncode == 0, done.stderr[-3000:]
    assert results["score"] == 0 and results["tests"] and results["extra_data"]["status"] == "graded"
    assert all(t["status"] == "failed" and t["output"].startswith("[not implemented yet]") for t in results["tests"])


def test_the_autograder_scores_a_bad_zip_0_and_says_why(autograder_zip_path, tmp_path):
    results, done = autograde(autograder_zip_path, tmp_path,
                              lambda folder: (folder / "submission.zip").write_bytes(b"PK\x03\x04 not a zip"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert results["score"] == 0 and results["tests"] == [] and results["extra_data"]["status"] == "bad_archive"
    assert results["output"].startswith("Your submission could not be graded (bad_archive): submission.zip: "
                                        "unreadable zip"), results["output"]
    assert "grader pack" in results["output"]


def test_the_autograder_with_nothing_submitted_and_the_grader_failing(tmp_path, monkeypatch):
    from grader.host import gradescope

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


def test_runners_that_would_run_as_root_unconfined_score_0_and_say_why(tmp_path, monkeypatch):
    from grader.host import gradescope
    from grader.jail import identity, sandbox

    reference_submission(tmp_path / "submission")
    monkeypatch.setattr(sandbox, "decide", lambda *a, **k: sandbox.Decision("rlimits-only", ("no bwrap",)))
    monkeypatch.setattr(identity, "is_root", lambda: True)
    assert gradescope.run(tmp_path, None) == 1
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and "cannot run submissions safely here" in results["output"]
    assert gradescope.check(tmp_path, None) == 1


def test_setup_stops_on_an_old_python_with_one_line(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Python 3.8.10'; exit 0; fi\nexit 1\n")
    fake.chmod(0o755)
    setup = tmp_path / "setup.sh"
    setup.write_text(autograder_zip.SETUP_SH.format(venv=tmp_path / "venv", config="autograder.json"))
    done = subprocess.run(["bash", str(setup)], env={**os.environ, "AUTOGRADER_PYTHON": str(fake)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and not (tmp_path / "venv").exists()
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs Python 3.10 or newer, this image has Python 3.8.10" in lines[0]
