"""The student commands on a system without ``fcntl``, libc's ``prctl`` or bubblewrap (Windows, macOS).

Every process runs on an interpreter built by ``tests/posix_less_python.py`` whose standard library has
no ``fcntl`` or ``resource``, whose ``ctypes`` finds no ``prctl`` and whose ``os`` has no ``killpg``, ``wait4``,
``pread`` or symbolic links (as on Windows); ``PATH`` holds nothing but that interpreter, so
there is no ``bwrap`` either. The judge and the runner are started from its ``sys.executable``: the
reference submission used here refuses to import if its runner can reach ``fcntl`` or ``prctl``, which
proves the blocking reached the runner too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import posix_less_python
import pytest
from kit_copies import reference_submission, stub_copy

from grader.vocabulary.exercises import EXERCISE_FILES
from minigrad.data import write_idx

KIT = Path(__file__).resolve().parent.parent
PROBE = '''
import ctypes as _ctypes
import importlib.util as _util
import os as _os

if _util.find_spec("fcntl") is not None or hasattr(_ctypes.CDLL(None), "prctl") or hasattr(_os, "killpg") \\
        or _util.find_spec("resource") is not None:
    raise ImportError("this runner can reach fcntl, prctl, killpg or resource: the portability test missed it")
'''

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="builds a Linux interpreter without fcntl/prctl")


@pytest.fixture(scope="module")
def python(tmp_path_factory):
    python = posix_less_python.build(tmp_path_factory.mktemp("posix-less"))
    problem = posix_less_python.probe(python)
    assert not problem, problem
    return python


def _run(python: Path, args: list, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GRADER_", "MINIGRAD_", "PYTHON"))}
    env.update({"PATH": str(python.parent), "PYTHONPATH": str(KIT), "MINIGRAD_DATA": str(cwd / "data")})
    return subprocess.run([str(python), *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_grader_check_runs_end_to_end_and_says_nothing_alarming(python, tmp_path):
    submission = reference_submission(tmp_path / "exercises")
    relu = submission / "relu.py"
    relu.write_text(relu.read_text() + PROBE)  # runs at import, in the runner
    done = _run(python, ["-m", "grader", "check", "--dir", submission], tmp_path)
    text = done.stdout + done.stderr
    assert done.returncode == 0, text
    assert "public 20/20 points; 80 more points in hidden tests" in done.stdout, text
    assert "Traceback" not in text and "WARNING" not in text and "bubblewrap" not in text, text

    stubs = _run(python, ["-m", "grader", "check", "relu", "--dir", stub_copy(tmp_path / "stubs")], tmp_path)
    assert stubs.returncode == 1 and "[not implemented yet]" in stubs.stdout, stubs.stdout + stubs.stderr
    assert "Traceback" not in stubs.stdout + stubs.stderr


def test_grader_pack_and_training(python, tmp_path):
    submission = reference_submission(tmp_path / "exercises")
    done = _run(python, ["-m", "grader", "pack", "--dir", submission, "--out", tmp_path / "submission.zip"], tmp_path)
    assert done.returncode == 0 and "wrote" in done.stdout, done.stdout + done.stderr
    with zipfile.ZipFile(tmp_path / "submission.zip") as archive:
        assert sorted(archive.namelist()) == sorted([*EXERCISE_FILES, "MANIFEST.json"])

    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "fashion-mnist"
    folder.mkdir(parents=True)
    for prefix, n in (("train", 128), ("t10k", 64)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 255, (n, 28, 28)).astype(np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n).astype(np.uint8))
    done = _run(python, ["-m", "minigrad.examples.train", "--model", "lenet5", "--epochs", "1", "--no-progress",
                         "--out", tmp_path / "run"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "run" / "weights.npz").is_file() and "test accuracy" in done.stdout
