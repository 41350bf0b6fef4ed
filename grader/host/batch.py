"""``grader grade``: a batch of submissions into a gradebook, ``--jobs`` judges at once.

Crash-safe: every submission is recorded as it finishes (``grader.host.gradebook``), and a rerun of the same
command grades whatever was not recorded; the files for people are written from the gradebook at the end
(``grader.reports.publish``), on Ctrl-C too. Interruptible: on Ctrl-C (SIGINT) or SIGTERM nothing more is
recorded, every judge still running is killed with its runners, and the command exits 130 (143).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from grader import __version__
from grader.host.gradebook import Gradebook, GradebookBusy, check_student_id, read
from grader.host.intake import Submission, load_submission, student_id
from grader.jail.processes import all_pids, parent_of
from grader.vocabulary.commands import Interrupted, Misuse
from grader.vocabulary.exercises import total_weight
from grader.vocabulary.kit import GRADE_DECIDING, KIT
from grader.vocabulary.options import JudgeOptions
from grader.vocabulary.results import GradeRecord, RunStatus, SubmissionStatus, TestResult

if TYPE_CHECKING:
    from grader.jail.sandbox import Decision

JUDGE_MARK = "grader.judge.plugin"  # in every judge's command line (``python -m pytest -p grader.judge.plugin``)


def checking_sandbox() -> str:
    """The tier for ``grader check``: bubblewrap where it works, else rlimits only, without a word (the
    code is the student's own; the warnings are for grading other people's)."""
    from grader.jail import sandbox

    return sandbox.decide("auto", grading=False).tier


def grading_sandbox(choice: str = "auto", paths: Sequence[Path] = ()) -> Decision:
    """The tier submissions are graded in (:mod:`grader.jail.sandbox`).

    Misuse when it cannot be had: an explicit choice this machine cannot meet; ``rlimits-only`` as root
    without asking for it (runners would run as root: ``--sandbox rlimits-only`` accepts that); a uid
    tier under which a runner could read one of ``paths`` (submissions, the gradebook) or the kit's secrets.
    ``grader grade`` and Gradescope's ``run`` and ``check`` (:mod:`grader.host.gradescope`) all decide here.
    """
    from grader.jail import identity, sandbox

    try:
        decision = sandbox.decide(choice, paths=paths)
    except sandbox.SandboxUnavailable as err:
        raise Misuse(str(err)) from None
    if decision.tier == "rlimits-only" and identity.is_root() and sandbox.requested(choice) == "auto":
        raise Misuse("as root, with neither bubblewrap nor runner uids available here, submissions would run as "
                     f"root with rlimits only ({'; '.join(decision.reasons)}); fix that, or pass "
                     "--sandbox rlimits-only to accept it")
    if decision.exposure():
        raise Misuse(decision.exposure())
    return decision


def grader_version() -> str:
    """``__version__`` plus a hash of every file that decides a grade (``vocabulary.kit.GRADE_DECIDING``)."""
    digest = hashlib.sha256()
    for part in GRADE_DECIDING:
        root = KIT / part
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".ini", ".json", ".npz") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(KIT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{__version__}+{digest.hexdigest()[:12]}"


def submission_paths(paths: Sequence[Path]) -> dict[str, Path]:
    """Student id -> path, each checked: an existing readable folder or .zip, ids unique and file-safe."""
    found: dict[str, Path] = {}
    for path in paths:
        if not path.exists():
            raise Misuse(f"no such file or directory: {path}")
        if not (path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip")):
            raise Misuse(f"{path} is neither a directory nor a .zip file")
        if not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
            raise Misuse(f"cannot read {path}")
        try:
            student = check_student_id(student_id(path))
        except ValueError as err:
            raise Misuse(f"{path}: {err}") from None
        if student in found:
            raise Misuse(f"two submissions for student {student!r}: {found[student]} and {path}")
        found[student] = path
    return found


def _suite_digest(suite: str) -> str:
    from grader.host.launch import SUITE_NAMES, SuiteError, suite_hash

    path = Path(suite)
    if suite not in SUITE_NAMES and path.is_file() and not (path.name.startswith("test_") and path.suffix == ".py"):
        raise Misuse(f"--suite {suite}: a suite file must be named test_*.py")
    try:
        return suite_hash(suite)
    except SuiteError as err:
        raise Misuse(str(err)) from None
    except OSError as err:
        raise Misuse(f"--suite {suite}: cannot read {err.filename or ''}: {err.strerror or err}") from None


def open_gradebook(out: Path) -> Gradebook:
    """The gradebook in ``--out``, or Misuse naming why it cannot be one."""
    if out.exists() and not out.is_dir():
        raise Misuse(f"--out {out} is a file, not a directory")
    try:
        return Gradebook(out)
    except GradebookBusy as err:
        raise Misuse(str(err)) from None
    except (OSError, sqlite3.Error) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise Misuse(f"cannot write a gradebook in --out {out}: {reason}") from None


def grade(args: argparse.Namespace, options: JudgeOptions) -> int:
    """Grade a batch into ``--out`` with ``options``: skip unchanged submissions, run the rest ``--jobs`` at a time."""
    paths = submission_paths(args.submissions)
    unknown = [s for s in args.only if s not in paths]
    if unknown:
        raise Misuse(f"--only {unknown[0]}: not among the submissions given")
    digest = _suite_digest(args.suite)
    suite_path = [] if args.suite in ("hidden", "public") else [Path(args.suite)]
    decision = grading_sandbox(options.sandbox, [*paths.values(), args.out, *suite_path])
    if decision.uses_uid:
        os.umask(0o077)  # everything written from here on is private to the grader
    with open_gradebook(args.out) as book:
        if decision.tier != "bwrap":  # the normal case goes without a word
            print(decision.line(), file=sys.stderr)
        mode = decision.tier
        version, start = grader_version(), time.monotonic()
        subs = {student: load_submission(path) for student, path in sorted(paths.items())}
        chosen = [sub for student, sub in subs.items() if not args.only or student in args.only]
        todo = [sub for sub in chosen
                if args.force or args.only or not book.is_current(sub.student, sub.content_hash, digest, version, mode)]
        skipped = len(chosen) - len(todo)
        from grader.reports.publish import publish

        try:
            problems = _grade_batch(book, todo, args, replace(options, sandbox=mode), digest, version)
        except Interrupted:
            publish(book.out, book.stored())  # what was recorded so far; a killed run's files: the next run
            raise
        csv_path, canvas_path = publish(book.out, book.stored())
        try:
            integrity = integrity_reports(args.out, subs.values())
        except Exception as err:  # an optional report: its failure is told, the grades stand
            integrity = ""
            print(f"grader grade: the integrity reports failed: {type(err).__name__}: {err}", file=sys.stderr)
    left_out = f", {len(paths) - len(chosen)} not in --only" if args.only else ""
    print(f"graded {len(todo)} submission{'' if len(todo) == 1 else 's'} in {time.monotonic() - start:.1f} s; "
          f"skipped {skipped} unchanged{' (--force regrades them)' if skipped else ''}{left_out}")
    for line in sorted(problems):
        print(line)
    if integrity:
        print(integrity)
    print(f"wrote {csv_path}, {canvas_path}, {args.out / 'results'}/, {args.out / 'feedback'}/ and "
          f"{args.out / 'gradebook.sqlite'}")
    try:
        from grader.reports.html import write_report

        print(f"wrote {write_report(args.out, read(args.out))}")
    except (OSError, sqlite3.Error, ValueError) as err:  # a convenience view: the grades stand without it
        print(f"grader grade: the HTML report failed: {err}", file=sys.stderr)
    return 0


def integrity_reports(out: Path, subs: Iterable[Submission]) -> str:
    """``grader.instructor.integrity``'s flags and similarity over every submission's files, written into ``out``;
    the line to print ("" while that package is absent)."""
    try:
        from grader.instructor.integrity.report import summary_line, write_reports
    except ModuleNotFoundError as err:  # the integrity reports are optional: a kit without them grades alike
        if err.name in ("grader.instructor.integrity", "grader.instructor.integrity.report"):
            return ""
        raise
    sources: dict[str, dict[str, str | bytes]] = {
        sub.student: {name: _text_or_bytes(data) for name, data in sub.files.items()} for sub in subs if sub.files}
    return summary_line(write_reports(out, sources))


def _text_or_bytes(data: bytes) -> str | bytes:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # a bad_source file: the integrity checks flag it as unparsable
        return data


def _grade_batch(book: Gradebook, todo: list[Submission], args: argparse.Namespace, options: JudgeOptions,
                 digest: str, version: str) -> list[str]:
    """Grade ``todo`` on ``args.jobs`` threads, recording each as it finishes; returns lines worth reading."""
    problems: list[str] = []
    recorded = 0
    pool = ThreadPoolExecutor(max_workers=args.jobs, thread_name_prefix="grader-job")
    futures = [pool.submit(_grade_one, sub, args.suite, options, digest, version) for sub in todo]
    try:
        with tqdm(total=len(todo), desc="grading", unit="submission", file=sys.stderr, disable=None) as bar:
            for future in as_completed(futures):
                record, results = future.result()
                book.record(record, results)
                recorded += 1
                if record.status is not SubmissionStatus.GRADED or record.message:
                    problems.append(f"  {record.student}: {record.status}"
                                    + (f": {record.message}" if record.message else ""))
                bar.set_postfix_str(record.student)
                bar.update()
    except BaseException as err:  # Ctrl-C, SIGTERM, or the gradebook failing: record nothing more, stop judges
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)
        pool.shutdown(wait=False, cancel_futures=True)
        stop_judges(futures)
        if isinstance(err, KeyboardInterrupt):
            raise Interrupted(getattr(err, "signum", signal.SIGINT),
                              f"{recorded} of {len(todo)} submissions recorded; the same command grades the rest"
                              ) from None
        raise
    pool.shutdown(wait=True)
    return problems


def stop_judges(futures: Sequence[Future], limit: float = 10.0) -> None:
    """Kill this process's judges and everything under them until no job is left running."""
    end = time.monotonic() + limit
    while True:
        for pid in judge_processes():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        running = [f for f in futures if not f.done()]  # done() counts cancelled ones, wait() does not
        if not running or time.monotonic() > end:
            return
        wait(running, timeout=0.05)


def judge_processes(root: int | None = None) -> list[int]:
    """Pids of ``root``'s child judges (default: this process's) and of all their descendants (runners)."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    for pid in all_pids():
        children.setdefault(parent_of(pid), []).append(pid)
    found, todo = [], []
    for pid in children.get(root, []):
        with contextlib.suppress(OSError):
            if JUDGE_MARK.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                todo.append(pid)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _grade_one(sub: Submission, suite: str, options: JudgeOptions, digest: str, version: str
               ) -> tuple[GradeRecord, list[TestResult]]:
    """Grade one submission in the tier ``options.sandbox`` (in a worker thread; the judge is its own process);
    never raises."""
    from grader.host.launch import run_suite

    started, clock = datetime.now(timezone.utc).isoformat(timespec="seconds"), time.monotonic()
    results: list[TestResult] = []
    status, message = sub.status, sub.message
    sandbox = options.sandbox if sub.gradable else ""  # "" when its code never ran
    if sub.gradable:
        try:
            with tempfile.TemporaryDirectory(prefix="grader-submission-") as tmp:
                run = run_suite(sub.materialize(Path(tmp) / "exercises"), suite, options=options)
            results = run.results
            sandbox = getattr(run, "sandbox", "") or options.sandbox  # as the judge reports it ran the runners
            status = SubmissionStatus.GRADED if run.status == RunStatus.COMPLETED else SubmissionStatus(run.status)
            message = "; ".join(m for m in (run.message, sub.message) if m)
        except Exception as err:  # the grader's own failure: record it, the batch goes on
            status, message = SubmissionStatus.ERROR, f"{type(err).__name__}: {err}"
    max_score = sum(r.max_points for r in results) if results else total_weight()
    return GradeRecord(student=sub.student, content_hash=sub.content_hash, suite_hash=digest,
                       grader_version=version, status=status, score=round(sum(r.points for r in results), 6),
                       max_score=round(max_score, 6), started=started,
                       finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                       duration=round(time.monotonic() - clock, 3), message=message, sandbox=sandbox), results
