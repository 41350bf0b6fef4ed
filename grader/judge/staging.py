"""Build the directory a runner imports from: the submission, the engine, and nothing of the judge's.

    <root>/runtime/           once per judge: a read-only copy of minigrad, links to NumPy
    <root>/stage-<exercise>/  per runner: exercises/ (the submission, by allowlist), minigrad -> runtime,
                              _grader_worker.py, _grader_wire.py, _grader_harness.py and, for the
                              residual block only, reference_kernels/ (the reference conv, pooling,
                              ReLU and loss kernels, so a block is not failed for its student kernels)
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
from pathlib import Path

import numpy

import grader.runner
import minigrad
from grader.exercises import EXERCISES, REFERENCE_KERNELS_FOR

RUNNER_FILES = {"worker.py": "_grader_worker.py", "wire.py": "_grader_wire.py", "harness.py": "_grader_harness.py",
                "audit.py": "_grader_audit.py"}


def _read_only(path: Path) -> None:
    for root, _dirs, files in os.walk(path):
        for name in files:
            p = os.path.join(root, name)
            os.chmod(p, os.stat(p).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def build_runtime(root: Path) -> Path:
    """A copy of minigrad and links to NumPy: what every runner may import besides the submission."""
    runtime = root / "runtime"
    if runtime.exists():
        return runtime
    runtime.mkdir(parents=True)
    shutil.copytree(Path(minigrad.__file__).parent, runtime / "minigrad",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    numpy_dir = Path(numpy.__file__).parent
    (runtime / "numpy").symlink_to(numpy_dir, target_is_directory=True)
    libs = numpy_dir.parent / "numpy.libs"
    if libs.is_dir():
        (runtime / "numpy.libs").symlink_to(libs, target_is_directory=True)
    _read_only(runtime / "minigrad")
    return runtime


def runtime_mounts(root: Path) -> tuple[Path, ...]:
    """What a sandboxed runner must see read-only besides its staging directory: the runtime, NumPy."""
    runtime = build_runtime(root)
    mounts = [runtime]
    for name in ("numpy", "numpy.libs"):
        if (runtime / name).is_symlink():
            mounts.append(Path(os.path.realpath(runtime / name)))
    return tuple(mounts)


def exercise_files(submission: Path) -> dict[str, Path]:
    """The submission's exercise modules present in ``submission`` (allowlist: the five module names)."""
    found = {}
    for name in EXERCISES:
        path = submission / f"{name}.py"
        if path.is_file() and not path.is_symlink():
            found[name] = path
    return found


def build_stage(root: Path, submission: Path, exercise: str, kit_exercises: Path | None = None) -> Path:
    """The staging directory for one exercise's runner."""
    stage = root / f"stage-{exercise}"
    if stage.exists():
        shutil.rmtree(stage)
    package = stage / "exercises"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""The submission under test."""\n')
    kit = kit_exercises or _kit_exercises()
    if kit is not None and (kit / "_utils.py").is_file():
        shutil.copyfile(kit / "_utils.py", package / "_utils.py")  # the handout's helpers, never the student's
    for name, path in exercise_files(submission).items():
        shutil.copyfile(path, package / f"{name}.py")
    runner_dir = Path(grader.runner.__file__).parent
    for source, target in RUNNER_FILES.items():
        shutil.copyfile(runner_dir / source, stage / target)
    os.symlink(build_runtime(root) / "minigrad", stage / "minigrad", target_is_directory=True)
    if exercise in REFERENCE_KERNELS_FOR:
        _copy_reference_kernels(stage / "reference_kernels", REFERENCE_KERNELS_FOR[exercise])
    return stage


def _kit_exercises() -> Path | None:
    spec = importlib.util.find_spec("exercises")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _copy_reference_kernels(target: Path, modules: tuple[str, ...]) -> None:
    spec = importlib.util.find_spec("solutions")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the residual-block tests need the reference kernels: the `solutions` package "
                           "is not installed with this grader")
    source = Path(next(iter(spec.submodule_search_locations)))
    target.mkdir()
    (target / "__init__.py").write_text('"""Reference kernels supplied for tests of other exercises."""\n')
    for name in (*modules, "_checks"):
        if (source / f"{name}.py").is_file():
            shutil.copyfile(source / f"{name}.py", target / f"{name}.py")
