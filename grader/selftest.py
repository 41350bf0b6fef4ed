"""``grader selftest``: does the suite tell right from wrong? Run it before grading with an edited suite.

The reference solutions must score 100 %, the handout's stubs 0 %, and every mutant of
``grader.mutants`` (a plausible student bug) must lose points in its own exercise: it is *killed*
then, and *survives* otherwise. With ``--check-leaks`` each mutant is graded on every exercise and
one that also moves another exercise's score is reported as leaky (a warning: pooling imports the
submission's conv). Exit status: 0 when all is well, 1 otherwise, 2 for misuse.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NoReturn

import exercises as stubs_package
from grader.exercises import EXERCISES
from grader.judge.run import SuiteError, SuiteRun, run_suite, suite_files
from grader.mutants import BY_NAME, MUTANTS, Mutant, StaleMutantError, check_mutants, write_submission
from grader.results import by_exercise

STUBS_DIR = Path(stubs_package.__file__).resolve().parent
EPS = 1e-6


@dataclass
class Graded:
    """One submission's per-exercise points and maxima, and its first failing test per exercise."""

    points: dict[str, float]
    max_points: dict[str, float]
    first_failure: dict[str, str]
    status: str = "completed"
    message: str = ""
    duration: float = 0.0

    @property
    def percent(self) -> float:
        full = sum(self.max_points.values())
        return round(100 * sum(self.points.values()) / full, 2) if full else 0.0


@dataclass
class MutantOutcome:
    """How a mutant fared: KILLED, SURVIVED, or ERROR (the judge itself failed)."""

    name: str
    exercise: str
    description: str
    score: float
    full: float
    status: str
    first_failure: str
    leaks: dict[str, float] = field(default_factory=dict)  # other exercise -> its changed score
    duration: float = 0.0


@dataclass
class SelftestResult:
    """Everything ``grader selftest`` found; ``ok`` decides the exit status."""

    suite: str
    reference: Graded
    stubs: Graded
    mutants: list[MutantOutcome]
    check_leaks: bool
    duration: float

    @property
    def killed(self) -> int:
        return sum(m.status == "KILLED" for m in self.mutants)

    @property
    def ok(self) -> bool:
        return (self.reference.status == "completed" and abs(self.reference.percent - 100) < EPS
                and self.stubs.status == "completed" and abs(self.stubs.percent) < EPS
                and self.killed == len(self.mutants))

    def summary(self) -> str:
        return (f"{self.killed}/{len(self.mutants)} mutants killed; reference {self.reference.percent:.1f}; "
                f"stubs {self.stubs.percent:.1f}")

    def to_json(self) -> dict:
        return {"suite": self.suite, "ok": self.ok, "summary": self.summary(), "check_leaks": self.check_leaks,
                "duration": round(self.duration, 3), "reference": asdict(self.reference) | {
                    "percent": self.reference.percent}, "stubs": asdict(self.stubs) | {"percent": self.stubs.percent},
                "mutants": [asdict(m) for m in self.mutants]}


def grade(run: SuiteRun, exercises: Sequence[str] = EXERCISES) -> Graded:
    """Per-exercise totals of one judge run."""
    totals = by_exercise(run.results, exercises)
    first: dict[str, str] = {}
    for result in run.results:
        if not result.passed and result.exercise not in first:
            first[result.exercise] = result.nodeid.split("::")[-1]
    return Graded({n: t.points for n, t in totals.items()}, {n: t.max_points for n, t in totals.items()}, first,
                  run.status, run.message, run.duration)


def judge_mutant(mutant: Mutant, graded: Graded, reference: Graded) -> MutantOutcome:
    """KILLED when the mutant's own exercise scores below the reference's; leaks: other exercises that moved."""
    own = mutant.exercise
    score, full = graded.points.get(own, 0.0), reference.max_points.get(own, 0.0)
    if graded.status != "completed":
        status = "ERROR"
    else:  # a suite without tests of ``own`` cannot kill it
        status = "KILLED" if score < reference.points.get(own, 0.0) - EPS else "SURVIVED"
    leaks = {name: points for name, points in graded.points.items()
             if name != own and abs(points - reference.points.get(name, 0.0)) > EPS}
    failure = graded.first_failure.get(own, "") if status != "ERROR" else graded.message or "no results"
    return MutantOutcome(mutant.name, own, mutant.description, score, full, status, failure, leaks,
                         graded.duration)


def run_selftest(suite: str | Path = "hidden", jobs: int = 2, mutants: Sequence[str | Mutant] | None = None, *,
                 check_leaks: bool = False, progress: bool = False) -> SelftestResult:
    """Grade the reference, the stubs and the mutants (``jobs`` judges at a time) and judge the mutants.

    ``mutants``: names from ``MUTANTS`` or ``Mutant`` objects (all of ``MUTANTS`` for None). Raises
    StaleMutantError before grading anything when a mutant no longer applies, KeyError for an unknown
    name, SuiteError for a bad suite.
    """
    chosen = list(MUTANTS) if mutants is None else [m if isinstance(m, Mutant) else BY_NAME[m] for m in mutants]
    check_mutants(chosen)
    _, files = suite_files(suite)  # SuiteError now, not from a thread
    covered = {f.stem.removeprefix("test_") for f in files}
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="grader-selftest-") as tmp, ThreadPoolExecutor(max(1, jobs)) as pool:
        root = Path(tmp)
        reference_job = pool.submit(run_suite, write_submission(root / "reference"), suite)
        stubs_job = pool.submit(run_suite, STUBS_DIR, suite)
        jobs_by_mutant = []
        for mutant in chosen:
            exercises = [e for e in EXERCISES if e in covered] if check_leaks else [mutant.exercise]
            folder = write_submission(root / "mutants" / mutant.name, mutant)
            job = pool.submit(run_suite, folder, suite, exercises) if mutant.exercise in covered else None
            jobs_by_mutant.append((mutant, exercises, job))
        reference, stubs = grade(reference_job.result()), grade(stubs_job.result())
        outcomes = []
        for mutant, exercises, job in jobs_by_mutant:
            if job is None:
                untested = Graded({}, {}, {mutant.exercise: f"the suite has no tests of {mutant.exercise}"})
                outcome = judge_mutant(mutant, untested, reference)
            else:
                outcome = judge_mutant(mutant, grade(job.result(), exercises), reference)
            if progress:
                print(f"  {outcome.status:<8} {mutant.name}", file=sys.stderr, flush=True)
            outcomes.append(outcome)
    return SelftestResult(str(suite), reference, stubs, outcomes, check_leaks, time.monotonic() - start)


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


def kill_table(result: SelftestResult) -> str:
    """The kill table: one row per mutant, then reference, stubs and the summary line."""
    rows = [("mutant", "exercise", "score", "status", "first failing test")]
    for m in result.mutants:
        failure = m.first_failure if len(m.first_failure) <= 70 else m.first_failure[:67] + "..."
        if m.leaks:
            failure += "  [leaks into " + ", ".join(f"{k} {_points(v)}" for k, v in m.leaks.items()) + "]"
        rows.append((m.name, m.exercise, f"{_points(m.score)}/{_points(m.full)}", m.status, failure))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4] for row in rows]
    lines.insert(1, "-" * min(120, max(len(line) for line in lines)))
    for label, graded in (("reference", result.reference), ("stubs", result.stubs)):
        extra = f" ({graded.status}: {graded.message})" if graded.status != "completed" else ""
        scores = ", ".join(f"{n} {_points(graded.points[n])}/{_points(graded.max_points[n])}" for n in graded.points)
        lines.append(f"{label}: {graded.percent:.1f} % [{scores}]{extra}")
    survivors = [m.name for m in result.mutants if m.status != "KILLED"]
    if survivors:
        lines.append("not killed: " + ", ".join(survivors))
    lines.append(result.summary() + f" ({result.duration:.1f} s)")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(prog: str = "grader selftest") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--suite", default="hidden", help="public, hidden (default) or a path to test files")
    parser.add_argument("--jobs", type=int, default=2, help="judges at a time (default 2)")
    parser.add_argument("--only", nargs="+", metavar="MUTANT", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--check-leaks", action="store_true",
                        help="grade each mutant on every exercise (slower) and report leaks into others")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``grader selftest [--suite S] [--jobs N] [--only M ...] [--list] [--json] [--check-leaks]``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    unknown = [name for name in args.only or () if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown mutant {unknown[0]!r}; see --list")
    if args.list:
        chosen = [BY_NAME[name] for name in args.only] if args.only else MUTANTS
        if args.json:
            print(json.dumps([asdict(m) for m in chosen], indent=2))
        else:
            width = max(len(m.name) for m in chosen)
            print("\n".join(f"{m.name:<{width}}  {m.exercise:<10}  {m.description}" for m in chosen))
        return 0
    try:
        result = run_selftest(args.suite, args.jobs, args.only, check_leaks=args.check_leaks,
                              progress=not args.json and sys.stderr.isatty())
    except SuiteError as err:
        parser.error(str(err))
    except StaleMutantError as err:
        print(f"grader selftest: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result.to_json(), indent=2) if args.json else kill_table(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
