"""``grader release``: the student handout has no solutions and no hidden tests, and its public tests work.

The public suites get expected values through ``grader.judge.reference``: from ``solutions`` in the kit, from
values recorded by ``grader release`` in a handout. The slow test installs a handout in a fresh virtual
environment (no ``solutions`` anywhere) and runs ``grader check`` on the stubs and on the reference.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.instructor import recording
from grader.instructor.release import check_handout, handout_files, hidden_test_names, main
from grader.judge import reference
from tests.kit_copies import reference_submission, staged_kernels

KIT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "handout"
    assert main(["--out", str(out)]) == 0
    return out


def test_the_handout_holds_the_student_files_and_no_solutions_or_hidden_tests(handout):
    files = handout_files(handout)
    for needed in ("README.md", "pyproject.toml", "docs/grader.md", "minigrad/__init__.py", "exercises/conv.py",
                   "exercises/_utils.py", "exercises/test_my_conv.py", "grader/cli.py", "grader/judge/reference.py",
                   "grader/suites/_support.py", "grader/suites/public/test_conv.py",
                   "grader/suites/public/expected.npz", "grader/suites/public/expected.json"):
        assert needed in files
    assert not [f for f in files if "solutions" in f.split("/") or Path(f).stem == "solutions"]
    assert not [f for f in files if f.startswith("grader/suites/hidden")]
    for left_out in ("grader/instructor/mutants.py", "grader/instructor/selftest.py", "grader/instructor/release.py"):
        assert left_out not in files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert not [f for f in files if f.startswith(("tests/", "bench/", "scripts/"))]
    lines = (handout / "README.md").read_text().splitlines()
    commands = [line for line in lines[:8] if line.startswith("python -m pip install")]
    assert commands[0] == "python -m pip install -e . && grader check"
    assert "exercises/test_my_conv.py" in commands[1] and '".[test]"' in commands[1]
    pyproject = (handout / "pyproject.toml").read_text()
    assert "solutions" not in pyproject and 'include = ["minigrad*", "exercises*", "grader*"]' in pyproject
    exercises = (handout / "grader/vocabulary/exercises.py").read_text()
    assert "REFERENCE_KERNELS_STAGED = False" in exercises and staged_kernels(exercises) == {}
    assert check_handout(handout) == []
    assert main(["--check", str(handout)]) == 0


def test_the_public_suites_no_longer_import_solutions():
    for path in (KIT / "grader/suites/public").glob("test_*.py"):
        imported = {node.module for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.ImportFrom) and node.module}
        imported |= {alias.name for node in ast.walk(ast.parse(path.read_text()))
                     if isinstance(node, ast.Import) for alias in node.names}
        assert not [m for m in imported if m.split(".")[0] == "solutions"], path.name


def _solution_source(module: str, function: str, new_name: str) -> str:
    text = (KIT / "solutions" / f"{module}.py").read_text()
    node = next(n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.FunctionDef) and n.name == function)
    source = ast.get_source_segment(text, node)
    return source.replace(f"def {function}(", f"def {new_name}(", 1)


def test_the_check_catches_a_planted_solution_body(handout, tmp_path, capsys):
    copy = tmp_path / "handout"
    shutil.copytree(handout, copy)
    planted = _solution_source("conv", "conv2d_backward", "my_helper")  # renamed: the body gives it away
    with open(copy / "exercises" / "conv.py", "a") as f:
        f.write("\n\n" + planted + "\n")
    findings = check_handout(copy)
    assert findings == ["exercises/conv.py: my_helper has the body of solutions/conv.py:conv2d_backward"]
    assert main(["--check", str(copy)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "solutions/conv.py:conv2d_backward" in err


def test_the_check_catches_a_planted_hidden_test_name_and_a_solutions_file(handout, tmp_path):
    copy = tmp_path / "handout"
    shutil.copytree(handout, copy)
    name = sorted(hidden_test_names())[0]
    (copy / "docs" / "notes.md").write_text(f"see {name} for the tricky case\n")
    (copy / "grader" / "solutions.py").write_text("x = 1\n")
    findings = check_handout(copy)
    assert f"docs/notes.md names the hidden test {name}" in findings
    assert "grader/solutions.py is named solutions" in findings
    assert len(findings) == 2


def test_release_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path)])
    assert exit_info.value.code == 2 and (tmp_path / "keep.txt").exists()
    assert "--force" in capsys.readouterr().err


def test_reference_calls_record_and_replay_caches_included(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 3, 2, 2))
    monkeypatch.setenv(reference.RECORD_ENV, str(tmp_path / "records"))
    pooling = reference.reference("pooling")
    out, cache = pooling.maxpool2d_forward(x, 2, 2)
    dx = pooling.maxpool2d_backward(dout, cache)
    assert recording.merge_records(tmp_path / "records", tmp_path / "expected") == 2
    monkeypatch.delenv(reference.RECORD_ENV)
    monkeypatch.setenv(reference.DATA_ENV, str(tmp_path / "expected"))
    assert reference.mode() == "replay"
    pooling = reference.reference("pooling")
    replayed_out, replayed_cache = pooling.maxpool2d_forward(x.copy(), 2, 2)
    assert isinstance(replayed_cache, reference.Opaque)
    np.testing.assert_array_equal(replayed_out, out)
    np.testing.assert_array_equal(pooling.maxpool2d_backward(dout, replayed_cache), dx)
    with pytest.raises(reference.MissingReference, match="rebuild the handout"):
        pooling.maxpool2d_forward(x + 1, 2, 2)
    with pytest.raises(reference.MissingReference, match="rebuild the handout"):
        pooling.maxpool2d_forward(x, 2, stride=2)  # the same values, passed differently: another call


def test_the_kit_uses_the_solutions_directly():
    import solutions.relu

    assert reference.mode() == "direct"
    assert reference.reference("relu") is solutions.relu


def _clean_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PYTEST_", "MINIGRAD_", "GRADER_", "VIRTUAL_ENV", "PIP_REQUIRE"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def _offline_venv(venv: Path) -> str:
    """A fresh venv that borrows this interpreter's installed packages instead of downloading them.

    Tests never touch the network, so pip, setuptools, NumPy and pytest come from the site-packages
    folders this test runs with, listed in a .pth file. A .pth line only puts its folder on sys.path:
    the .pth files inside it (such as the kit's own editable install) are not run, so ``solutions``
    stays out of reach, which the test checks.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_dir = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                              capture_output=True, text=True, check=True).stdout.strip()
    borrowed = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    Path(site_dir, "borrowed_test_packages.pth").write_text("".join(f"{p}\n" for p in borrowed))
    return str(python)


@pytest.mark.slow
def test_a_handout_installed_in_a_fresh_venv_checks_stubs_and_solutions_without_solutions(tmp_path):
    out = tmp_path / "handout"
    assert main(["--out", str(out)]) == 0
    venv = tmp_path / "venv"
    python = _offline_venv(venv)
    env = _clean_env(venv)
    install = subprocess.run([python, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-build-isolation",
                              "-e", str(out)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    probe = subprocess.run([python, "-c", "import importlib.util, grader.judge.reference as r; "
                            "print(importlib.util.find_spec('solutions'), r.mode(), r.__file__)"],
                           env=env, cwd=out, capture_output=True, text=True, check=True)
    assert probe.stdout.split()[:2] == ["None", "replay"] and str(out) in probe.stdout

    grader_cmd = str(venv / "bin" / "grader")
    stubs = subprocess.run([grader_cmd, "check"], env=env, cwd=out, capture_output=True, text=True, timeout=300)
    text = stubs.stdout + stubs.stderr
    assert stubs.returncode == 1, text
    assert "Traceback" not in text and "not implemented yet" in text, text
    assert "public 0/20 points" in text, text

    reference_submission(tmp_path / "reference")
    for path in (tmp_path / "reference").glob("*.py"):
        shutil.copyfile(path, out / "exercises" / path.name)
    solved = subprocess.run([grader_cmd, "check"], env=env, cwd=out, capture_output=True, text=True, timeout=300)
    text = solved.stdout + solved.stderr
    assert solved.returncode == 0, text
    assert "Traceback" not in text and "public 20/20 points" in text, text
