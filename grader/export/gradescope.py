"""``grader export gradescope``: a Gradescope autograder zip that grades with this kit's judge.

The zip holds ``setup.sh`` (installs the kit and, best effort, bubblewrap), ``run_autograder`` and
``kit/`` (the kit's sources: ``minigrad``, ``grader`` with its suites, ``solutions``, the ``exercises``
stubs, ``pyproject.toml``) plus ``kit/autograder.json`` (the suite and time limits chosen at export).

Gradescope unzips it into ``/autograder/source``, runs ``setup.sh`` once, then ``run_autograder`` per
submission: ``python -m grader.export.gradescope run`` reads ``/autograder/submission`` (the exercise
files at its root or under ``exercises/``, or a single .zip of them, read by ``load_submission``), runs
``run_suite`` like ``grader grade`` and writes ``/autograder/results/results.json`` with the same builder.
Only this trusted process writes that file; its logs go to stderr.
``AUTOGRADER_ROOT`` replaces ``/autograder`` (for tests).
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import time
import traceback
import zipfile
from collections.abc import Sequence
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent.parent
ROOT_VARIABLE = "AUTOGRADER_ROOT"
CONFIG_NAME = "autograder.json"
KIT_PARTS = ("minigrad", "grader", "solutions", "exercises")
KIT_FILES = ("pyproject.toml", "README.md")
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}
SKIP_SUFFIXES = (".pyc", ".pyo")
SUITES = ("hidden", "public")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -eu
SOURCE="$(cd "$(dirname "$0")" && pwd)"
# bubblewrap sandboxes every runner; without it the grader runs them under rlimits only (best effort)
(apt-get update -qq && apt-get install -y -qq bubblewrap) || echo "setup.sh: bubblewrap not installed" >&2
python3 -m pip install --no-cache-dir "$SOURCE/kit"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this once per submission. The results are written by the grader itself
# (python -m grader.export.gradescope run), never printed: stdout here is only logs.
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${AUTOGRADER_PYTHON:-python3}"
mkdir -p "$ROOT/results"
cd "$SOURCE/kit"
export PYTHONPATH="$SOURCE/kit${PYTHONPATH:+:$PYTHONPATH}"
exec "$PYTHON" -m grader.export.gradescope run --root "$ROOT" --config "$SOURCE/kit/autograder.json"
"""


def _kit_members(kit: Path = KIT) -> list[tuple[Path, str]]:
    """(file, name in the zip) for every kit file the autograder needs."""
    members = []
    for part in KIT_PARTS:
        for path in sorted((kit / part).rglob("*")):
            rel = path.relative_to(kit)
            if (path.is_file() and not path.is_symlink() and not SKIP_DIRS.intersection(rel.parts)
                    and not path.name.endswith(SKIP_SUFFIXES)):
                members.append((path, "kit/" + rel.as_posix()))
    members += [(kit / name, f"kit/{name}") for name in KIT_FILES if (kit / name).is_file()]
    return members


def _write_member(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    archive.writestr(info, data)


def build(out: Path, suite: str = "hidden", *, test_timeout: float = 30.0, total_timeout: float = 900.0) -> list[str]:
    """Write the autograder zip to ``out`` (atomically); returns its member names."""
    if suite not in SUITES:
        raise ValueError(f"--suite {suite}: choose hidden or public")
    config = {"suite": suite, "test_timeout": test_timeout, "total_timeout": total_timeout}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    names = []
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
                _write_member(archive, name, text.encode(), executable=True)
                names.append(name)
            for path, name in _kit_members():
                _write_member(archive, name, path.read_bytes())
                names.append(name)
            _write_member(archive, f"kit/{CONFIG_NAME}", (json.dumps(config, indent=2) + "\n").encode())
            names.append(f"kit/{CONFIG_NAME}")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return names


def find_submission(folder: Path):  # noqa: ANN201  (a grader.submission.Submission)
    """The submission in ``folder``: its exercise files, or else the single .zip it holds."""
    from grader.submission import load_submission

    sub = load_submission(folder)
    if sub.status == "no_files":
        zips = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".zip") \
            if folder.is_dir() else []
        if len(zips) == 1:
            sub = load_submission(zips[0])
        elif len(zips) > 1:
            sub.message = f"{sub.message}; found {len(zips)} .zip files, submit one (grader pack)"
    sub.student = "submission"
    return sub


def _metadata(root: Path) -> dict:
    try:
        data = json.loads((root / "submission_metadata.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    users = data.get("users") if isinstance(data, dict) else None
    if isinstance(users, list):
        return {"users": [u.get("email", "") for u in users if isinstance(u, dict)]}
    return {}


def results_for(root: Path, config: dict) -> dict:
    """Grade ``root/submission`` and return Gradescope's results.json (score 0 and a clear output if bad)."""
    from grader.batch import _grade_one, _suite_digest, grader_version, sandbox_mode
    from grader.report_text import summary_text
    from grader.results import gradescope_results

    suite = config.get("suite", "hidden")
    args = argparse.Namespace(suite=suite, test_timeout=float(config.get("test_timeout", 30.0)),
                              total_timeout=float(config.get("total_timeout", 900.0)), seed=int(config.get("seed", 0)))
    sub = find_submission(root / "submission")
    print(f"autograder: submission status {sub.status}" + (f": {sub.message}" if sub.message else ""),
          file=sys.stderr)
    record, results = _grade_one(sub, args, _suite_digest(suite), grader_version(),
                                 sandbox_mode() if sub.gradable else "")
    extra = {"status": record.status, "content_hash": record.content_hash, "suite": suite,
             "suite_hash": record.suite_hash, "grader_version": record.grader_version, "message": record.message,
             "sandbox": record.sandbox, **_metadata(root)}
    output = summary_text(results, status=record.status, message=record.message, max_score=record.max_score)
    if not sub.gradable:
        output = (f"Your submission could not be graded ({record.status}): {record.message}\n"
                  "Submit your exercise files (relu.py, conv.py, ...) or the submission.zip made by `grader pack`.\n"
                  + output)
    payload = gradescope_results(results, execution_time=record.duration, extra_data=extra, output=output)
    payload["score"] = round(record.score, 6)
    return payload


def failure_results(message: str) -> dict:
    """results.json for the grader's own failure: score 0, the reason in the output."""
    return {"score": 0.0, "execution_time": 0, "output": f"The autograder could not grade this submission: {message}",
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
            "extra_data": {"status": "error", "message": message}, "tests": []}


def run(root: Path, config_path: Path | None = None) -> int:
    """``run_autograder``'s work: grade, write ``root/results/results.json``; 0 unless the grader itself failed."""
    from grader.gradebook import atomic_write_text

    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    start, code = time.monotonic(), 0
    try:
        config = json.loads(config_path.read_text("utf-8")) if config_path and config_path.is_file() else {}
        payload = results_for(root, config)
    except Exception as err:  # the grader's own trouble: still a results.json Gradescope can show
        traceback.print_exc(file=sys.stderr)
        payload, code = failure_results(f"{type(err).__name__}: {err}"), 1
    atomic_write_text(results_dir / "results.json", json.dumps(payload, indent=2) + "\n")
    print(f"autograder: score {payload['score']:g} in {time.monotonic() - start:.1f} s; "
          f"wrote {results_dir / 'results.json'}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m grader.export.gradescope run [--root DIR] [--config FILE]`` (what run_autograder calls)."""
    parser = argparse.ArgumentParser(prog="python -m grader.export.gradescope")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("run", help="grade AUTOGRADER_ROOT/submission into results/results.json")
    grade.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_VARIABLE) or "/autograder"))
    grade.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    sys.stdout = sys.stderr  # whatever prints, it never mixes with the results (written to a file)
    return run(args.root, args.config)


if __name__ == "__main__":
    sys.exit(main())
