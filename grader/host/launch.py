"""Run a suite against one submission in a judge process: ``run_suite(exercises_dir, "hidden")``.

The judge is a separate pytest process (``python -m pytest -p grader.judge.plugin``) in its own
process group, so a submission that hangs everything is killed as a whole when the total time runs
out, and the caller only ever reads the judge's results file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.jail import identity
from grader.jail import sandbox as sandboxing
from grader.jail.processes import in_own_group, kill_group
from grader.vocabulary.kit import JUDGE_INI, KIT, SUITES_DIR
from grader.vocabulary.options import JudgeOptions
from grader.vocabulary.results import RunStatus, TestResult

SUITE_NAMES = ("public", "hidden")


class SuiteError(ValueError):
    """A suite that cannot be found or read."""


@dataclass
class SuiteRun:
    """What one judge run produced."""

    results: list[TestResult]
    duration: float
    status: RunStatus = RunStatus.COMPLETED
    message: str = ""
    sandbox: str = ""  # "bwrap" or "rlimits-only": how the judge ran the runners
    runner_uids: list[int] = field(default_factory=list)  # the uids runners switched to (root judge + bwrap)
    runner_notes: dict[str, list[str]] = field(default_factory=dict)  # per exercise: suspicious acts, untrusted


def suite_files(suite: str | Path, exercises: Sequence[str] | None = None) -> tuple[Path, list[Path]]:
    """(rootdir, test files) of a suite: "public", "hidden" (= public + hidden tests), or a path."""
    if str(suite) in SUITE_NAMES:
        root = SUITES_DIR
        folders = [SUITES_DIR / "public"] + ([SUITES_DIR / "hidden"] if str(suite) == "hidden" else [])
    else:
        path = Path(suite)
        if not path.exists():
            raise SuiteError(f"suite {str(suite)!r} is neither 'public', 'hidden' nor an existing path")
        root = path if path.is_dir() else path.parent
        folders = [path]
    files: list[Path] = []
    for folder in folders:
        found = [folder] if folder.is_file() else sorted(folder.rglob("test_*.py"))
        files += [f for f in found if exercises is None or f.stem.removeprefix("test_") in exercises]
    if not files:
        raise SuiteError(f"suite {str(suite)!r} has no test files" + (f" for {', '.join(exercises)}" if exercises
                                                                     else ""))
    return root, files


_COLLECT = """
import json, sys
import pytest
from grader.host.launch import JUDGE_INI, suite_files

class Collector:
    items = []
    def pytest_collection_modifyitems(self, items):
        for item in items:
            marks = {name: item.get_closest_marker(name) for name in ("exercise", "points", "visibility")}
            self.items.append({
                "nodeid": item.nodeid, "file": str(item.path), "doc": (item.function.__doc__ or "").strip(),
                "fixtures": sorted(item.fixturenames),
                **{name: mark.args[0] if mark else None for name, mark in marks.items()}})

root, files = suite_files(sys.argv[1])
collector = Collector()
code = pytest.main(["-q", "--collect-only", "-p", "grader.judge.plugin", "-c", str(JUDGE_INI), "--rootdir",
                    str(root), "--import-mode=importlib", "-p", "no:cacheprovider", *map(str, files)],
                   plugins=[collector])
print("@@" + json.dumps({"code": int(code), "items": collector.items}))
"""


def collect_tests(suite: str | Path) -> list[dict]:
    """Every test of ``suite`` as the judge collects it (in a pytest of its own, without running anything):
    nodeid, file, doc, fixtures (all it uses, even indirectly), and its exercise, points and visibility
    markers (None where a test has none). SuiteError when the suite cannot be collected."""
    try:
        proc = subprocess.run([sys.executable, "-c", _COLLECT, str(suite)], cwd=KIT, env=_judge_environment(),
                              capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SuiteError(f"the suite {str(suite)!r} cannot be collected: {err}") from None
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")]
    payload = json.loads(lines[-1][2:]) if lines else {}
    if payload.get("code") != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
        raise SuiteError(f"the suite {str(suite)!r} cannot be collected: " + " | ".join(tail))
    return payload["items"]


def suite_hash(suite: str | Path = "hidden", exercises: Sequence[str] | None = None) -> str:
    """sha256 over the suite's test files and the helpers beside them: changes whenever a test could."""
    root, files = suite_files(suite, exercises)
    helpers = sorted(p for p in root.glob("*.py") if not p.name.startswith("test_") and p.name != "__init__.py")
    digest = hashlib.sha256()
    for f in sorted(set(files) | set(helpers)):
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def _judge_environment() -> dict[str, str]:
    """The judge's, and the collector's: none of the caller's pytest or minigrad settings, BLAS on one thread."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MINIGRAD_"))}
    env.update({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "MINIGRAD_KERNELS": "solutions",
                "PYTHONPATH": os.pathsep.join(p for p in (str(KIT), env.get("PYTHONPATH", "")) if p)})
    return env


def run_suite(exercises_dir: str | Path, suite: str | Path = "hidden", exercises: Sequence[str] | None = None,
              options: JudgeOptions | None = None, *, workdir: str | Path | None = None,
              **changes: Any) -> SuiteRun:
    """Grade the exercise files in ``exercises_dir`` with ``suite``; never raises for the submission's faults.

    ``options`` (default: :class:`JudgeOptions`'s; ``changes`` replace its fields, ``base_seed=1`` say) go to
    the judge; ``options.sandbox`` is a tier the caller decided (:data:`grader.jail.sandbox.TIERS`) or a choice
    for :func:`grader.jail.sandbox.decide`. ``workdir`` is where the judge's temporary directory goes (default:
    the system's).
    """
    root, files = suite_files(suite, exercises)
    start = time.monotonic()
    env = _judge_environment()
    options = replace(options or JudgeOptions(), **changes)
    tier = options.sandbox if options.sandbox in sandboxing.TIERS else sandboxing.decide(options.sandbox).tier
    env[sandboxing.ENV] = tier
    env.pop(sandboxing.LEGACY_ENV, None)
    with tempfile.TemporaryDirectory(prefix="grader-run-", dir=workdir, ignore_cleanup_errors=True) as tmp:
        if tier in ("uid+seccomp", "uid"):
            identity.open_to_runners(Path(tmp))  # the runners' folders are inside; results.json stays private
        results_path = Path(tmp) / "results.json"
        command = [sys.executable, "-m", "pytest", "-p", "grader.judge.plugin", "-c", str(JUDGE_INI),
                   "--rootdir", str(root), "--import-mode=importlib", "-q", "--no-header", "-rN",
                   "--submission", str(Path(exercises_dir).resolve()), "--results", str(results_path),
                   "--scratch", str(Path(tmp) / "scratch"),
                   "--grader-options", replace(options, sandbox=tier).to_json(), *map(str, files)]
        judge = subprocess.Popen(command, cwd=tmp, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, **in_own_group())
        status, message = RunStatus.COMPLETED, ""
        try:
            log, _ = judge.communicate(timeout=options.total_timeout)
        except subprocess.TimeoutExpired:
            kill_group(judge.pid)
            log, _ = judge.communicate()
            status, message = RunStatus.TIMEOUT, f"grading stopped after {options.total_timeout:g} s"
        except BaseException:  # Ctrl-C or a cancelled job: leave no judge (and so no runner) behind
            kill_group(judge.pid)
            judge.wait()
            raise
        finally:
            if tier in ("uid+seccomp", "uid") and judge.returncode is not None:
                identity.clean_up_after(identity.block(judge.pid))  # what its runners left, even if it was killed
        payload = _read_results(results_path)
        if payload is None:
            tail = log.decode("utf-8", "replace").strip().splitlines()[-5:]
            return SuiteRun([], time.monotonic() - start, RunStatus.ERROR,
                            "the judge wrote no results: " + " | ".join(tail))
        if status is RunStatus.COMPLETED and judge.returncode not in (0, 1):
            status, message = RunStatus.ERROR, f"the judge exited with status {judge.returncode}{_last_error(log)}"
    results = [TestResult.from_dict(r) for r in payload["results"]]
    runners = payload.get("runners") if isinstance(payload.get("runners"), dict) else {}
    uids = [u for u in runners.get("uids", []) if type(u) is int]
    notes = runners.get("notes") if isinstance(runners.get("notes"), dict) else {}
    notes = {str(k): [str(n) for n in v] for k, v in notes.items() if isinstance(v, list)}
    return SuiteRun(results, time.monotonic() - start, status, message, str(runners.get("sandbox", "")), uids, notes)


def _last_error(log: bytes) -> str:
    """": <the judge's last error line>" (a suite that cannot be collected, say), or ""."""
    lines = [line.strip() for line in log.decode("utf-8", "replace").splitlines()]
    errors = [line for line in lines if line.startswith(("E ", "INTERNALERROR>")) and "Error" in line]
    return f": {errors[-1].removeprefix('INTERNALERROR>').removeprefix('E ').strip()[:300]}" if errors else ""


def _read_results(path: Path) -> dict | None:
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return payload if isinstance(payload, dict) and isinstance(payload.get("results"), list) else None
