"""``grader``: ``check`` (students: the public tests), ``grade`` (instructors: a batch), ``pack`` (a submission zip).

Exit status: 0 done (``check``: every public test passed), 1 otherwise, 2 misuse (one line on stderr).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

from tqdm import tqdm

from grader import __version__
from grader.exercises import EXERCISE_FILES, EXERCISES, select, total_weight
from grader.gradebook import Gradebook, GradeRecord, check_student_id
from grader.report_text import check_summary, check_table
from grader.results import TestResult, by_exercise
from grader.submission import Submission, load_submission, student_id
from grader.submission import pack as pack_zip


class Misuse(Exception):
    """Bad command-line input: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive(kind: type) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value
    parse.__name__ = kind.__name__
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="grader", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{check,grade,pack}")

    check = commands.add_parser("check", help="run the public tests on your exercises/")
    check.add_argument("exercises", nargs="*", metavar="EXERCISE", help=f"some of: {', '.join(EXERCISES)}")
    check.add_argument("--dir", type=Path, help="the exercises folder (default: the kit's exercises/)")
    check.add_argument("--json", action="store_true", help="print JSON only (for tools)")
    check.add_argument("--test-timeout", type=_positive(float), default=30.0, metavar="S")

    grade = commands.add_parser("grade", help="grade submissions (folders or .zip files) into a gradebook")
    grade.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION")
    grade.add_argument("--out", type=Path, required=True, metavar="DIR")
    grade.add_argument("--suite", default="hidden", help="hidden (default: public + hidden tests), public, or a path")
    grade.add_argument("--jobs", type=_positive(int), default=1, metavar="N", help="submissions graded at once")
    grade.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    grade.add_argument("--only", action="append", default=[], metavar="STUDENT", help="(re)grade only these")
    grade.add_argument("--test-timeout", type=_positive(float), default=30.0, metavar="S")
    grade.add_argument("--total-timeout", type=_positive(float), default=900.0, metavar="S")
    grade.add_argument("--seed", type=int, default=0, help="base seed of the tests' random inputs")

    pack = commands.add_parser("pack", help="zip your exercise files into submission.zip, with a manifest")
    pack.add_argument("--dir", type=Path, help="the exercises folder (default: the kit's exercises/)")
    pack.add_argument("--out", type=Path, default=Path("submission.zip"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("choose a command: check, grade or pack (grader --help)")
    try:
        if args.command == "check":
            return check(args)
        if args.command == "grade":
            return grade(args)
        return pack(args)
    except Misuse as err:
        parser.exit(2, f"grader {args.command}: {err}\n")
    except (OSError, sqlite3.Error) as err:
        print(f"grader {args.command}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130


def kit_exercises_dir() -> Path:
    """The folder of the ``exercises`` package this grader sees (the checkout's), else ./exercises."""
    spec = importlib.util.find_spec("exercises")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path("exercises")


def exercises_dir(given: Path | None) -> Path:
    """``--dir`` or the kit's exercises folder, checked to hold at least one exercise file."""
    folder = given if given is not None else kit_exercises_dir()
    if not folder.is_dir():
        raise Misuse(f"no exercises folder at {folder} (use --dir)")
    if not any((folder / name).is_file() for name in EXERCISE_FILES):
        raise Misuse(f"{folder} holds none of {', '.join(EXERCISE_FILES)}")
    return folder


def check(args: argparse.Namespace) -> int:
    """Run the public suite, one judge run per exercise, and print the table (or JSON)."""
    try:
        names = select(args.exercises)
    except ValueError as err:
        raise Misuse(str(err)) from None
    folder = exercises_dir(args.dir)
    from grader.judge.run import SuiteError, run_suite  # the judge: needed by check and grade only

    runs: dict[str, tuple[list[TestResult], str]] = {}
    with tqdm(names, desc="public tests", unit="exercise", file=sys.stderr, leave=False,
              disable=True if args.json else None) as progress:
        for name in progress:
            progress.set_postfix_str(name)
            try:
                run = run_suite(folder, "public", [name], test_timeout=args.test_timeout)
            except SuiteError:  # no public tests for this exercise
                runs[name] = ([], "")
                continue
            runs[name] = (run.results, "" if run.status == "completed" else run.message or run.status)
    results = [r for name in names for r in runs[name][0]]
    totals = by_exercise(results, names)
    ok = bool(results) and all(r.passed for r in results) and not any(problem for _, problem in runs.values())
    points = sum(t.points for t in totals.values())
    max_points = sum(t.max_points for t in totals.values())
    if args.json:
        payload = {"suite": "public", "exercises_dir": str(folder.resolve()), "passed": ok,
                   "score": round(points, 6), "max_score": round(max_points, 6),
                   "hidden_points": max(0.0, total_weight(names) - max_points),
                   "exercises": {name: {**vars(totals[name]), "problem": runs[name][1],
                                        "tests": [r.to_dict() for r in runs[name][0]]} for name in names}}
        print(json.dumps(payload, indent=2))
        return 0 if ok else 1
    print(f"grader check: public tests on {folder}\n")
    for name in names:
        print(check_table(name, runs[name][0], runs[name][1]) + "\n")
    print(check_summary(points, max_points, names))
    return 0 if ok else 1


def pack(args: argparse.Namespace) -> int:
    """Write submission.zip from the exercise files."""
    folder = exercises_dir(args.dir)
    if args.out.is_dir():
        raise Misuse(f"--out {args.out} is a directory; name the zip file")
    packed = pack_zip(folder, args.out)
    print(f"wrote {args.out}: {', '.join(packed)} and MANIFEST.json")
    missing = [name for name in EXERCISE_FILES if name not in packed]
    if missing:
        print(f"note: {', '.join(missing)} not found in {folder}, not packed")
    todo = [name for name in packed if "raise NotImplementedError" in (folder / name).read_text("utf-8", "replace")]
    if todo:
        print(f"note: {', '.join(todo)} still raise NotImplementedError somewhere")
    return 0


def grader_version() -> str:
    """``__version__`` plus a hash of the code that decides grades (judge, runner, solutions, engine)."""
    kit = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder in ("grader/judge", "grader/runner", "solutions", "minigrad"):
        for path in sorted((kit / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".ini") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(kit).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    utils = kit / "exercises" / "_utils.py"
    if utils.is_file():
        digest.update(utils.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def _submissions(paths: Sequence[Path]) -> dict[str, Path]:
    """Student id -> path, each checked: an existing readable folder or .zip, ids unique and file-safe."""
    found: dict[str, Path] = {}
    for path in paths:
        if not path.exists():
            raise Misuse(f"no such file or directory: {path}")
        if not (path.is_dir() or path.suffix.lower() == ".zip"):
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


def grade(args: argparse.Namespace) -> int:
    """Grade a batch into ``--out``: skip unchanged submissions, run the rest ``--jobs`` at a time."""
    from grader.judge.run import SuiteError, suite_hash

    paths = _submissions(args.submissions)
    unknown = [s for s in args.only if s not in paths]
    if unknown:
        raise Misuse(f"--only {unknown[0]}: not among the submissions given")
    if args.out.exists() and not args.out.is_dir():
        raise Misuse(f"--out {args.out} is a file, not a directory")
    try:
        digest = suite_hash(args.suite)
    except SuiteError as err:
        raise Misuse(str(err)) from None
    try:
        book = Gradebook(args.out)
    except (OSError, sqlite3.Error) as err:
        raise Misuse(f"cannot write a gradebook in --out {args.out}: {err}") from None
    version, start = grader_version(), time.monotonic()
    with book:
        todo, skipped = [], 0
        for student, path in sorted(paths.items()):
            if args.only and student not in args.only:
                continue
            sub = load_submission(path)
            if not (args.force or args.only) and book.is_current(student, sub.content_hash, digest, version):
                skipped += 1
                continue
            todo.append(sub)
        problems = _grade_batch(book, todo, args, digest, version)
        csv_path = book.write_csv()
    left_out = f", {len(paths) - len(todo) - skipped} not in --only" if args.only else ""
    print(f"graded {len(todo)} submission{'' if len(todo) == 1 else 's'} in {time.monotonic() - start:.1f} s; "
          f"skipped {skipped} unchanged{' (--force regrades them)' if skipped else ''}{left_out}")
    for line in sorted(problems):
        print(line)
    print(f"wrote {csv_path}, {args.out / 'results'}/, {args.out / 'feedback'}/ and {args.out / 'gradebook.sqlite'}")
    return 0


def _grade_batch(book: Gradebook, todo: list[Submission], args: argparse.Namespace, digest: str,
                 version: str) -> list[str]:
    """Grade ``todo`` on ``args.jobs`` threads, recording each as it finishes; returns lines worth reading."""
    problems: list[str] = []
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    futures = [pool.submit(_grade_one, sub, args, digest, version) for sub in todo]
    try:
        with tqdm(total=len(todo), desc="grading", unit="submission", file=sys.stderr, disable=None) as bar:
            for future in as_completed(futures):
                record, results = future.result()
                book.record(record, results)
                if record.status != "graded" or record.message:
                    problems.append(f"  {record.student}: {record.status}"
                                    + (f": {record.message}" if record.message else ""))
                bar.set_postfix_str(record.student)
                bar.update()
    finally:  # on Ctrl-C: drop what has not started; what finished is already recorded
        pool.shutdown(wait=False, cancel_futures=True)
    return problems


def _grade_one(sub: Submission, args: argparse.Namespace, digest: str, version: str
               ) -> tuple[GradeRecord, list[TestResult]]:
    """Grade one submission (in a worker thread; the judge is its own process); never raises."""
    from grader.judge.run import run_suite

    started, clock = datetime.now(timezone.utc).isoformat(timespec="seconds"), time.monotonic()
    results: list[TestResult] = []
    status, message = sub.status, sub.message
    if sub.gradable:
        try:
            with tempfile.TemporaryDirectory(prefix="grader-submission-") as tmp:
                run = run_suite(sub.materialize(Path(tmp) / "exercises"), args.suite, test_timeout=args.test_timeout,
                                total_timeout=args.total_timeout, base_seed=args.seed)
            results = run.results
            status = "graded" if run.status == "completed" else run.status
            message = "; ".join(m for m in (run.message, sub.message) if m)
        except Exception as err:  # the grader's own failure: record it, the batch goes on
            status, message = "error", f"{type(err).__name__}: {err}"
    max_score = sum(r.max_points for r in results) if results else total_weight()
    record = GradeRecord(student=sub.student, content_hash=sub.content_hash, suite_hash=digest,
                         grader_version=version, status=status, score=round(sum(r.points for r in results), 6),
                         max_score=round(max_score, 6), started=started,
                         finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         duration=round(time.monotonic() - clock, 3), message=message)
    return record, results
