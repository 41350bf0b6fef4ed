"""Submissions made from the kit itself, for grading tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

from grader import cli
from grader.instructor.mutants import write_stubs, write_submission

KIT = Path(__file__).resolve().parent.parent


def reference_submission(target: Path) -> Path:
    """The reference solutions as a submission of the five modules, ``solutions/_checks.py`` inlined.

    A submission is the five exercise modules only (helpers a student adds are not graded), so the
    copy carries its helpers inside each module instead of importing ``._checks``.
    """
    return write_submission(Path(target))


def stub_copy(dest: Path) -> Path:
    """The handout's stubs as a submission (every test: "not implemented yet")."""
    dest.mkdir(parents=True)
    return write_stubs(dest)


def run_cli(argv: list, capsys: object) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``grader argv`` run in this process."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def staged_kernels(exercises_source: str) -> dict:
    """``REFERENCE_KERNELS_FOR`` of an ``exercises.py`` given as text (a handout's or an autograder's copy)."""
    import sys
    import types

    module = types.ModuleType("_copied_exercises")
    sys.modules[module.__name__] = module  # dataclasses look their module up while the class is built
    try:
        exec(compile(exercises_source, "exercises.py", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.REFERENCE_KERNELS_FOR
