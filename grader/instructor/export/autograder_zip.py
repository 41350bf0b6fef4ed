"""``grader export gradescope``: build the Gradescope autograder zip, and check that it gives nothing away.

The zip holds ``setup.sh``, ``run_autograder`` and ``kit/``: ``minigrad``, ``grader`` with both suites but
without the instructor's tools (``mutants.py`` holds solution fragments, ``selftest.py``, ``release.py``),
the ``exercises`` stubs, ``requirements.txt`` (the kit's dependencies), ``autograder.json`` (suite, seed,
time limits, sandbox) and

- ``grader/suites/expected.npz`` / ``.json``: every expected value of the suite's tests at the chosen
  seed, recorded from the reference solutions at export (:func:`grader.instructor.recording.record_suite`) and
  replayed when grading, so no ``solutions/`` is shipped;
- ``reference_kernels/`` (``relu.py``, ``conv.py``, ``_checks.py``): the kernels the residual block is
  graded on (no double penalty), run only in the judge's kernel process. ``--residual-kernels student``
  ships none and grades the block on the student's own kernels instead, as ``grader check`` does.

Before the zip is written it is checked (:func:`leaks`): no ``solutions`` file or folder, no instructor
tool, no function whose body is a reference solution's outside ``reference_kernels/``; and graded as
Gradescope would, from the built files with ``solutions`` made unimportable: the reference solutions
must score full marks and the stubs nothing (:func:`self_check`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.instructor.export import ExportError
from grader.vocabulary.exercises import REFERENCE_KERNELS_FOR
from grader.vocabulary.files import replacing
from grader.vocabulary.kit import INSTRUCTOR_TOOLS, KIT
from grader.vocabulary.options import GRADESCOPE_TOTAL_TIMEOUT, RESIDUAL_KERNELS, JudgeOptions
from grader.vocabulary.results import SubmissionStatus, TestStatus

CONFIG_NAME = "autograder.json"
KIT_PARTS = ("minigrad", "grader", "exercises")
KIT_FILES = ("pyproject.toml", "README.md")
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}
SKIP_SUFFIXES = (".pyc", ".pyo")
SUITES = ("hidden", "public")
KERNELS_DIR = "reference_kernels"
EXPECTED = "grader/suites/expected"  # + .npz / .json, inside kit/
GRADESCOPE_OPTIONS = JudgeOptions(total_timeout=GRADESCOPE_TOTAL_TIMEOUT)
GRADESCOPE_MAX_TIMEOUT = 2400.0  # the longest limit Gradescope can be set to (40 minutes)
VENV = "/opt/minigrad-grader"  # where setup.sh installs the kit's dependencies (readable by the runners)

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -eu
SOURCE="$(cd "$(dirname "$0")" && pwd)"
KIT="$SOURCE/kit"
VENV="${{GRADER_VENV:-{venv}}}"
PYTHON="${{AUTOGRADER_PYTHON:-python3}}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
    echo "setup.sh: the kit needs Python 3.10 or newer, this image has $("$PYTHON" --version 2>&1 | head -1):" \\
         "choose a newer base image in Gradescope's autograder settings" >&2
    exit 1
fi
# bubblewrap is the strongest sandbox where the image allows user namespaces (Gradescope's do not; the
# grader then runs each runner under a uid of its own, with seccomp denying the network)
(apt-get update -qq && apt-get install -y -qq bubblewrap python3-venv) >/dev/null 2>&1 \\
    || echo "setup.sh: apt-get could not install bubblewrap/python3-venv (runners get uids of their own)" >&2
# the dependencies, not the kit, go where the runners (other uids) can read them: Python and NumPy
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --no-cache-dir -r "$KIT/requirements.txt"
"$VENV/bin/python" -m pip install -q --no-cache-dir "pyseccomp>=0.1.2" \\
    || echo "setup.sh: no libseccomp binding: the network stays open to submissions" >&2
chmod -R go-w,o+rX "$VENV"
# the kit (suites, recorded expected values, reference kernels) is root's only
chmod -R go-rwx "$SOURCE"
# the sandbox tier the runs will get; fails here, not at the first submission, when no tier protects the kit
cd "$KIT"
PYTHONPATH="$KIT" "$VENV/bin/python" -m grader.host.gradescope check --config "$KIT/{config}"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope copies this to /autograder/run_autograder and runs it once per submission, as root. The
# results are written by the grader itself (python -m grader.host.gradescope run), never printed.
set -u
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
KIT="$ROOT/source/kit"
PYTHON="${{AUTOGRADER_PYTHON:-${{GRADER_VENV:-{venv}}}/bin/python}}"
umask 077
mkdir -p "$ROOT/results"
cd "$KIT"
export PYTHONPATH="$KIT${{PYTHONPATH:+:$PYTHONPATH}}" GRADER_REFERENCE_DATA="$KIT/{expected}"
exec "$PYTHON" -m grader.host.gradescope run --root "$ROOT" --config "$KIT/{config}"
"""


@dataclass
class Export:
    """What ``build`` wrote."""

    names: list[str]
    calls: int  # expected values recorded
    warnings: list[str] = field(default_factory=list)


def _kit_members(kit: Path = KIT) -> list[tuple[Path, str]]:
    """(file, path inside kit/) for every kit file the autograder needs."""
    members = []
    for part in KIT_PARTS:
        for path in sorted((kit / part).rglob("*")):
            rel = path.relative_to(kit)
            if (path.is_file() and not path.is_symlink() and not SKIP_DIRS.intersection(rel.parts)
                    and not path.name.endswith(SKIP_SUFFIXES) and not rel.as_posix().startswith(INSTRUCTOR_TOOLS + "/")
                    and not (rel.parts[:2] == ("grader", "suites") and rel.stem == "expected")):
                members.append((path, rel.as_posix()))
    return members + [(kit / name, name) for name in KIT_FILES if (kit / name).is_file()]


def requirements(kit: Path = KIT) -> list[str]:
    """The kit's runtime dependencies, from pyproject.toml's ``dependencies`` list."""
    block = re.search(r"^dependencies = \[(.*?)\]", (kit / "pyproject.toml").read_text(), re.MULTILINE | re.DOTALL)
    if block is None:
        raise ExportError("pyproject.toml has no dependencies list")
    return re.findall(r'"([^"]+)"', block.group(1))


def kernel_modules() -> tuple[str, ...]:
    """The reference modules the judge's kernel process needs (the residual block's kernels and their helpers)."""
    return (*sorted({m for ms in REFERENCE_KERNELS_FOR.values() for m in ms}), "_checks")


def _write_kit(target: Path, suite: str, seed: int, residual_kernels: str, config: dict) -> int:
    """Lay out ``kit/`` in ``target``; returns the number of expected values recorded."""
    from grader.instructor import recording

    for path, rel in _kit_members():
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    (target / "requirements.txt").write_text("\n".join(requirements()) + "\n")
    (target / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
    if residual_kernels == "reference":
        kernels = target / KERNELS_DIR
        kernels.mkdir()
        (kernels / "__init__.py").write_text('"""The reference kernels the residual block is graded on; the judge '
                                             'runs them, never a runner."""\n')
        for module in kernel_modules():
            shutil.copyfile(KIT / "solutions" / f"{module}.py", kernels / f"{module}.py")
    else:
        from grader.instructor.release import _handout_exercises_module

        _handout_exercises_module(target / "grader" / "vocabulary" / "exercises.py")
    try:
        return recording.record_suite(target / EXPECTED, suite, seed)
    except recording.RecordingError as err:
        raise ExportError(str(err)) from None


def leaks(kit_dir: Path, kit: Path = KIT) -> list[str]:
    """What in a built ``kit/`` gives solution code away (empty: nothing): the handout's check, allowing only
    the reference kernels the judge's kernel process needs, in ``reference_kernels/``, and no instructor tool."""
    from grader.instructor.release import solution_code

    allowed = {f"{KERNELS_DIR}/{module}.py": f"solutions/{module}.py" for module in kernel_modules()}
    findings = solution_code(kit_dir, kit, lambda rel, source: allowed.get(rel) == source.split(":")[0])
    tools = kit_dir / INSTRUCTOR_TOOLS
    return findings + [f"{path.relative_to(kit_dir).as_posix()} is an instructor's tool"
                       for path in sorted(tools.rglob("*.py")) if path.is_file()]


def self_check(root: Path, suite: str) -> None:
    """Grade the reference (full marks) and the stubs (nothing) with the built files, as Gradescope runs them.

    ``root`` holds ``source/`` (the unzipped autograder). ``solutions`` is shadowed by a package that
    refuses to import, so a suite or helper that still needs it fails here instead of on Gradescope.
    """
    from grader.instructor.mutants import write_stubs, write_submission

    shadow = root / "shadow" / "solutions"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("the autograder must not need solutions/")\n')
    for label, make, want_full in (("reference solutions", write_submission, True), ("stubs", write_stubs, False)):
        for sub in ("submission", "results"):
            shutil.rmtree(root / sub, ignore_errors=True)
        make(root / "submission")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MINIGRAD_", "GRADER_"))}
        env.update({"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
                    "PYTHONPATH": str(root / "shadow")})
        done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                              text=True, timeout=600)
        try:
            results = json.loads((root / "results" / "results.json").read_text())
        except (OSError, ValueError):
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            raise ExportError(f"the autograder wrote no results for the {label}: {tail}"[:500]) from None
        total = sum(t.get("max_score", 0) for t in results.get("tests", []))
        score = results.get("score", 0)
        if (want_full and not (total and abs(score - total) < 1e-6)) or (not want_full and score != 0):
            extra = results.get("extra_data", {})
            failed = [f"{t.get('name')}: {t.get('output', '')[:200]}" for t in results.get("tests", [])
                      if want_full and t.get("status") != TestStatus.PASSED]
            graded = extra.get("status") == SubmissionStatus.GRADED
            detail = (failed[0] if failed else "") if graded else extra.get("message")
            detail = detail or results.get("output", "")[:300]
            raise ExportError(f"the autograder gives the {label} {score:g} of {total:g} ({suite} suite): {detail}")


def build(out: Path, suite: str = "hidden", options: JudgeOptions = GRADESCOPE_OPTIONS, *,
          residual_kernels: str = "reference") -> Export:
    """Write the autograder zip to ``out`` (atomically) after checking it; ExportError names what is wrong.
    ``autograder.json`` keeps ``options`` but its limits (the runners get the default ones)."""
    if suite not in SUITES:
        raise ExportError(f"--suite {suite}: choose hidden or public")
    if residual_kernels not in RESIDUAL_KERNELS:
        raise ExportError(f"--residual-kernels {residual_kernels}: choose reference or student")
    if not (KIT / "solutions").is_dir():
        raise ExportError("needs the instructor's kit (its solutions/): this looks like a student handout")
    warnings, total_timeout, seed = [], options.total_timeout, options.base_seed
    if total_timeout > GRADESCOPE_MAX_TIMEOUT:
        warnings.append(f"--total-timeout {total_timeout:g} s is above Gradescope's longest limit "
                        f"({GRADESCOPE_MAX_TIMEOUT:g} s): Gradescope will stop a slow submission first, with no "
                        "per-test feedback")
    elif total_timeout > 600 - 60:
        warnings.append(f"--total-timeout {total_timeout:g} s: raise the assignment's autograder timeout in "
                        "Gradescope above it (its default is 10 minutes), or Gradescope stops a slow submission "
                        "first, with no per-test feedback")
    config = {"suite": suite, "test_timeout": options.test_timeout, "total_timeout": total_timeout, "seed": seed,
              "sandbox": options.sandbox, "residual_kernels": residual_kernels}
    scripts = {"setup.sh": SETUP_SH.format(venv=VENV, config=CONFIG_NAME),
               "run_autograder": RUN_AUTOGRADER.format(venv=VENV, config=CONFIG_NAME, expected=EXPECTED)}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-export-") as tmp:
        source = Path(tmp) / "source"
        calls = _write_kit(source / "kit", suite, seed, residual_kernels, config)
        for name, text in scripts.items():
            (source / name).write_text(text)
            (source / name).chmod(0o755)
        found = leaks(source / "kit")
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise ExportError(f"the autograder would give solution code away: {found[0]}{more}")
        self_check(Path(tmp), suite)
        names = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
        with replacing(out, durable=False) as temporary, zipfile.ZipFile(temporary, "w") as archive:
            for name in names:  # fixed dates and modes: the same files make the same zip
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = ((0o755 if name in scripts else 0o644) | stat.S_IFREG) << 16
                archive.writestr(info, (source / name).read_bytes())
    return Export(names, calls, warnings)
