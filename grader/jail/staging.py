"""Build the directory a runner imports from: the submission, the engine, and nothing of the judge's.

    <root>/runtime/           once per judge: a read-only copy of minigrad, links to NumPy
    <root>/stage-<exercise>/  per runner: exercises/ (the submission, by allowlist), minigrad -> runtime,
                              the worker's own files (_grader_worker.py, _grader_wire.py ...) and, for the
                              residual block only, judge_kernels/: one stand-in per reference kernel the
                              block may call, each a call to the judge (grader/runner/remote_kernels.py),
                              so a block is not failed for the student's kernels and no reference code
                              is ever staged
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import numpy

import grader.runner
import minigrad
from grader.jail.identity import share_runtime
from grader.jail.kernel_service import kernel_functions, kernel_package, takes_needs_input_grad
from grader.vocabulary.exercises import EXERCISES, REFERENCE_KERNELS_FOR
from grader.vocabulary.kit import installed_exercises

RUNNER_FILES = {"worker.py": "_grader_worker.py", "wire.py": "_grader_wire.py", "harness.py": "_grader_harness.py",
                "audit.py": "_grader_audit.py", "remote_kernels.py": "_grader_kernels.py"}
#: the package a runner's minigrad takes its kernels from, for exercises graded on the reference kernels
JUDGE_KERNELS = "judge_kernels"


def build_runtime(root: Path) -> Path:
    """A copy of minigrad and links to NumPy: what every runner may import besides the submission."""
    runtime = root / "runtime"
    if runtime.exists():
        return runtime
    runtime.mkdir(parents=True)
    shutil.copytree(Path(minigrad.__file__).parent, runtime / "minigrad",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    numpy_dir = Path(numpy.__file__).parent
    for source in (numpy_dir, numpy_dir.parent / "numpy.libs"):
        if source.is_dir():
            with contextlib.suppress(OSError):  # Windows without the right to make links: see runtime_path
                (runtime / source.name).symlink_to(source, target_is_directory=True)
    share_runtime(runtime)  # read-only, and readable by runners under uids of their own whatever the kit's modes
    return runtime


def runtime_path(root: Path) -> str:
    """What the runner adds to its ``sys.path`` (``$GRADER_RUNTIME_PATH``): the runtime, and NumPy's own
    folder where no link to it could be made (Windows without the right to make links)."""
    runtime = build_runtime(root)
    if (runtime / "numpy").is_symlink():
        return str(runtime)
    return os.pathsep.join((str(runtime), str(Path(numpy.__file__).parent.parent)))


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
    paths = {name: submission / f"{name}.py" for name in EXERCISES}
    return {name: path for name, path in paths.items() if path.is_file() and not path.is_symlink()}


def build_stage(root: Path, submission: Path, exercise: str, kit_exercises: Path | None = None) -> Path:
    """The staging directory for one exercise's runner."""
    stage = root / f"stage-{exercise}"
    if stage.exists():
        shutil.rmtree(stage)
    package = stage / "exercises"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""The submission under test."""\n')
    kit = kit_exercises or installed_exercises()
    if kit is not None and (kit / "_utils.py").is_file():
        shutil.copyfile(kit / "_utils.py", package / "_utils.py")  # the handout's helpers, never the student's
    for name, path in exercise_files(submission).items():
        shutil.copyfile(path, package / f"{name}.py")
    runner_dir = Path(grader.runner.__file__).parent
    for source, target in RUNNER_FILES.items():
        shutil.copyfile(runner_dir / source, stage / target)
    try:
        os.symlink(build_runtime(root) / "minigrad", stage / "minigrad", target_is_directory=True)
    except OSError:  # no right to make links (Windows): a copy does the same
        shutil.copytree(build_runtime(root) / "minigrad", stage / "minigrad")
    if exercise in REFERENCE_KERNELS_FOR:
        _write_judge_kernels(stage / JUDGE_KERNELS, REFERENCE_KERNELS_FOR[exercise])
    # modes that do not depend on the judge's umask: a root judge's runner reads it under a uid of its own
    # (inside bubblewrap, where only it is mounted; the uid tier narrows it to the runner's group)
    share_runtime(stage)
    return stage


def _write_judge_kernels(target: Path, modules: tuple[str, ...]) -> None:
    """A kernel source laid out like ``exercises/`` whose every kernel is computed by the judge."""
    package = kernel_package()
    if package is None:
        raise RuntimeError("the residual-block tests need the reference kernels: neither `solutions` nor "
                           "`reference_kernels` is installed with this grader")
    target.mkdir()
    (target / "__init__.py").write_text('"""Reference kernels the judge computes: no code of theirs is here."""\n')
    functions = kernel_functions(modules)
    for module in modules:
        lines = ['"""The reference kernels of this module, computed by the judge (see _grader_kernels)."""',
                 "from _grader_kernels import remote", ""]
        for name in sorted(n for n, m in functions.items() if m == module):
            flag = ", needs_input_grad=True" if takes_needs_input_grad(package, module, name) else ""
            lines.append(f"{name} = remote({name!r}{flag})")
        (target / f"{module}.py").write_text("\n".join(lines) + "\n")
