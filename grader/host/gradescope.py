"""What runs inside Gradescope: ``python -m grader.host.gradescope run`` (per submission) and ``check`` (setup).

Gradescope unzips the autograder (:mod:`grader.instructor.export.autograder_zip`) into ``/autograder/source``, runs
``setup.sh`` once as root, then copies ``run_autograder`` to ``/autograder/run_autograder`` and runs it for
each submission in a fresh container. ``run`` reads ``/autograder/submission`` (the exercise files at its
root or under ``exercises/``, or a single .zip of them, read by ``load_submission``), grades it like
``grader grade`` with the same judge (the expected values replayed from the recording in the zip), and
writes ``/autograder/results/results.json`` with the same builder. Only this trusted process writes that
file; its logs go to stderr. The judge is stopped at the configured total time, below Gradescope's own
limit, so a submission that loops forever still gets its per-test results (the unfinished tests say so).

Gradescope's containers run as root and forbid user namespaces, so bubblewrap cannot start: the runners
get the uid tier (:mod:`grader.jail.sandbox`). ``check`` (the last line of ``setup.sh``) says which tier
the runs will get and fails the setup when none keeps the kit from the runners.
``AUTOGRADER_ROOT`` replaces ``/autograder`` (for tests).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from grader.vocabulary.commands import Misuse
from grader.vocabulary.results import SubmissionStatus

ROOT_VARIABLE = "AUTOGRADER_ROOT"


class Unsandboxable(Exception):
    """No sandbox tier can keep the kit from the runners here (one line)."""


def find_submission(folder: Path):  # noqa: ANN201  (a grader.host.intake.Submission)
    """The submission in ``folder``: its exercise files, or else the single .zip it holds."""
    from grader.host.intake import load_submission

    sub = load_submission(folder)
    if sub.status is SubmissionStatus.NO_FILES:
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
    return {"users": [u.get("email", "") for u in users if isinstance(u, dict)]} if isinstance(users, list) else {}


def sandbox_tier(config: dict, root: Path) -> str:
    """The tier this container's runners get; Unsandboxable when runners would run as root or could read
    the kit (setup.sh's ``check`` says so when the autograder is built)."""
    from grader.host.batch import grading_sandbox

    try:
        decision = grading_sandbox(str(config.get("sandbox", "auto")), [root / "results"])
    except Misuse as err:
        raise Unsandboxable(str(err)) from None
    print(f"autograder: {decision.line()}", file=sys.stderr)
    return decision.tier


def results_for(root: Path, config: dict) -> dict:
    """Grade ``root/submission`` and return Gradescope's results.json (score 0 and a clear output if bad)."""
    from grader.host.batch import _grade_one, _suite_digest, grader_version
    from grader.reports.gradescope import submission_results
    from grader.vocabulary.options import GRADESCOPE_TOTAL_TIMEOUT, JudgeOptions

    suite = config.get("suite", "hidden")
    sub = find_submission(root / "submission")
    print(f"autograder: submission status {sub.status}" + (f": {sub.message}" if sub.message else ""),
          file=sys.stderr)
    tier = sandbox_tier(config, root) if sub.gradable else "auto"  # the judge never runs for the latter
    options = JudgeOptions(float(config.get("test_timeout", JudgeOptions.test_timeout)),
                           float(config.get("total_timeout", GRADESCOPE_TOTAL_TIMEOUT)),
                           int(config.get("seed", JudgeOptions.base_seed)), tier)
    record, results = _grade_one(sub, suite, options, _suite_digest(suite), grader_version())
    preface = "" if sub.gradable else (
        f"Your submission could not be graded ({record.status}): {record.message}\n"
        "Submit your exercise files (relu.py, conv.py, ...) or the submission.zip made by `grader pack`.\n")
    return submission_results(record, results, {"suite": suite, **_metadata(root)}, preface)


def _config(path: Path | None) -> dict:
    return json.loads(path.read_text("utf-8")) if path and path.is_file() else {}


def run(root: Path, config_path: Path | None = None) -> int:
    """``run_autograder``'s work: grade, write ``root/results/results.json``; 0 unless the grader itself failed."""
    from grader.reports.gradescope import failure_results
    from grader.vocabulary.files import atomic_write_text

    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    start, code = time.monotonic(), 0
    try:
        payload = results_for(root, _config(config_path))
    except Unsandboxable as err:
        print(f"autograder: {err}", file=sys.stderr)
        payload, code = failure_results(f"it cannot run submissions safely here: {err}"), 1
    except Exception as err:  # the grader's own trouble: still a results.json Gradescope can show
        traceback.print_exc(file=sys.stderr)
        payload, code = failure_results(f"{type(err).__name__}: {err}"), 1
    atomic_write_text(results_dir / "results.json", json.dumps(payload, indent=2) + "\n")
    print(f"autograder: score {payload['score']:g} in {time.monotonic() - start:.1f} s; "
          f"wrote {results_dir / 'results.json'}", file=sys.stderr)
    return code


def check(root: Path, config_path: Path | None = None) -> int:
    """``setup.sh``'s last step: print the tier the runs will get; 1 with one line when none protects the kit."""
    try:
        sandbox_tier(_config(config_path), root)
    except Unsandboxable as err:
        print(f"setup.sh: submissions cannot be graded safely in this image: {err}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m grader.host.gradescope run|check [--root DIR] [--config FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m grader.host.gradescope")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("run", "grade AUTOGRADER_ROOT/submission into results/results.json"),
                       ("check", "say which sandbox tier submissions will get here (setup.sh)")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_VARIABLE) or "/autograder"))
        command.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    sys.stdout = sys.stderr  # whatever prints, it never mixes with the results (written to a file)
    return run(args.root, args.config) if args.command == "run" else check(args.root, args.config)


if __name__ == "__main__":
    sys.exit(main())
