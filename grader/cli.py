"""``grader``: ``check`` (students: the public tests), ``grade`` (instructors: a batch), ``pack`` (a submission
zip), ``selftest`` (the suites against the reference, the stubs and built-in mutants), ``export`` (a Gradescope
autograder zip, or GitHub Classroom's workflow and autograding.json).

Exit status: 0 done (``check``: every public test passed), 1 otherwise, 2 misuse (one line on stderr),
130 on Ctrl-C (143 on SIGTERM), with one line on stderr. The batch logic lives in ``grader.host.batch``.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from types import FrameType

from grader import __version__
from grader.host.batch import grade
from grader.student.check import command as check_command
from grader.student.pack import command as pack_command
from grader.vocabulary.commands import Interrupted, Misuse, Parser, positive
from grader.vocabulary.exercises import EXERCISES
from grader.vocabulary.options import GRADESCOPE_TOTAL_TIMEOUT, RESIDUAL_KERNELS, SANDBOX_CHOICES, JudgeOptions, Limits

__all__ = ["build_parser", "judge_options", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="grader", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{check,grade,pack,selftest,export,release}")

    check = commands.add_parser("check", help="run the public tests on your exercises/")
    check.add_argument("exercises", nargs="*", metavar="EXERCISE", help=f"some of: {', '.join(EXERCISES)}")
    check.add_argument("--dir", type=Path, help="the exercises folder (default: the kit's exercises/)")
    check.add_argument("--json", action="store_true", help="print JSON only (for tools)")
    check.add_argument("--test-timeout", type=positive(float), default=JudgeOptions.test_timeout, metavar="S")

    grade = commands.add_parser("grade", help="grade submissions (folders or .zip files) into a gradebook")
    grade.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION")
    grade.add_argument("--out", type=Path, required=True, metavar="DIR")
    grade.add_argument("--suite", default="hidden", help="hidden (default: public + hidden tests), public, or a path")
    grade.add_argument("--jobs", type=positive(int), default=1, metavar="N", help="submissions graded at once")
    grade.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    grade.add_argument("--only", action="append", default=[], metavar="STUDENT", help="(re)grade only these")
    grade.add_argument("--test-timeout", type=positive(float), default=JudgeOptions.test_timeout, metavar="S")
    grade.add_argument("--total-timeout", type=positive(float), default=JudgeOptions.total_timeout, metavar="S")
    grade.add_argument("--seed", type=int, default=JudgeOptions.base_seed, help="base seed of the tests' random inputs")
    grade.add_argument("--sandbox", choices=SANDBOX_CHOICES, default="auto",
                       help="how runners are confined (auto: the strongest available; docs/grader.md)")
    limits = grade.add_argument_group("each runner's limits")
    for limit in fields(Limits):  # --memory-mb MB ... --processes N, their defaults and help from Limits
        limits.add_argument(f"--{limit.name.replace('_', '-')}", type=positive(int), default=limit.default,
                            **limit.metadata)

    commands.add_parser("selftest", add_help=False,
                        help="check the suites: reference 100, stubs 0, every built-in mutant killed")
    commands.add_parser("release", add_help=False, help="build the student handout (grader release --help)")

    pack = commands.add_parser("pack", help="zip your exercise files into submission.zip, with a manifest")
    pack.add_argument("--dir", type=Path, help="the exercises folder (default: the kit's exercises/)")
    pack.add_argument("--out", type=Path, default=Path("submission.zip"))

    export = commands.add_parser("export", help="autograding for Gradescope or GitHub Classroom")
    targets = export.add_subparsers(dest="target", metavar="{gradescope,github-classroom}")
    gradescope = targets.add_parser("gradescope", help="a Gradescope autograder zip (setup.sh, run_autograder, kit)")
    gradescope.add_argument("--out", type=Path, default=Path("autograder.zip"), metavar="ZIP")
    gradescope.add_argument("--suite", choices=("hidden", "public"), default="hidden",
                            help="hidden (default: public + hidden tests) or public")
    gradescope.add_argument("--test-timeout", type=positive(float), default=JudgeOptions.test_timeout, metavar="S")
    gradescope.add_argument("--total-timeout", type=positive(float), default=GRADESCOPE_TOTAL_TIMEOUT, metavar="S",
                            help="stop grading a submission after S seconds (default %(default)g: below "
                                 "Gradescope's 10-minute default; its maximum is 2400)")
    gradescope.add_argument("--seed", type=int, default=JudgeOptions.base_seed,
                            help="base seed of the tests' random inputs")
    gradescope.add_argument("--residual-kernels", choices=RESIDUAL_KERNELS, default="reference",
                            help="grade the residual block on the reference conv/ReLU (shipped for the judge "
                                 "only) or on the student's own (nothing of the reference shipped)")
    gradescope.add_argument("--sandbox", choices=SANDBOX_CHOICES, default="auto",
                            help="how runners are confined on Gradescope (auto: the strongest available)")
    classroom = targets.add_parser("github-classroom", help="a workflow and autograding.json (public points)")
    classroom.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                           help="the repository root to write .github/ into (default: .)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    instructor_only = {name: f"grader.instructor.{name}" for name in ("selftest", "release", "export")}
    if argv[:1] and argv[0] in instructor_only and importlib.util.find_spec(instructor_only[argv[0]]) is None:
        print(f"grader {argv[0]}: only in the instructor's kit (this is a student handout)", file=sys.stderr)
        return 2
    if argv[:1] == ["selftest"]:  # its own parser: --suite, --jobs, --only, --seeds, --list, --json ...
        from grader.instructor.selftest import main as selftest_main

        with _stop_signals():
            return selftest_main(argv[1:])
    if argv[:1] == ["release"]:  # its own parser too (grader.instructor.release)
        from grader.instructor.release import main as release_main

        return release_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("choose a command: check, grade, pack, selftest, export or release (grader --help)")
    try:
        with _stop_signals():
            if args.command == "check":
                return check_command(args)
            if args.command == "grade":
                return grade(args, judge_options(args))
            if args.command == "export":
                from grader.instructor.export import command as export_command

                return export_command(args, judge_options(args) if args.target == "gradescope" else None)
            return pack_command(args)
    except Misuse as err:
        parser.exit(2, f"grader {args.command}: {err}\n")
    except (OSError, sqlite3.Error) as err:
        print(f"grader {args.command}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:
        signum, note = getattr(err, "signum", signal.SIGINT), getattr(err, "note", "")
        word = "interrupted" if signum == signal.SIGINT else "terminated"
        print(f"grader {args.command}: {word}" + (f"; {note}" if note else ""), file=sys.stderr)
        return 128 + signum


@contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` (a KeyboardInterrupt) while a command runs; restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def judge_options(args: argparse.Namespace) -> JudgeOptions:
    """The options ``grade`` or ``export gradescope`` was given (only ``grade`` sets the runners' limits)."""
    limits = Limits(**{limit.name: getattr(args, limit.name) for limit in fields(Limits) if hasattr(args, limit.name)})
    return JudgeOptions(args.test_timeout, args.total_timeout, args.seed, args.sandbox, limits)
