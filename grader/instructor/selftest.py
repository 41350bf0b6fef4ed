"""``grader selftest``: does the suite tell right from wrong, at any seed? Run it before grading with an edited suite.

The reference solutions must score 100 %, the handout's stubs 0 %, and every mutant of ``grader.instructor.mutants``
(a plausible student bug) must lose points in its own exercise: it is *killed* then, and *survives*
otherwise. ``--seeds N`` checks this at the base seeds 0 … N-1 (every test draws its random inputs from
the base seed and its own id): the reference and the stubs are graded at every seed, and a mutant counts
as killed only if it is killed at every seed, so a verdict that rests on the luck of the draw shows up.
A mutant killed at the first seed by a test that draws nothing (no ``rng`` or ``seed`` fixture) is killed
at every seed, since that test's inputs and expected values never change; only the others are graded
again (``--every-seed`` grades every mutant at every seed anyway). With ``--check-leaks`` each mutant is
graded on every exercise and one that also moves another exercise's score is reported as leaky (a
warning: pooling imports the submission's conv). Exit status: 0 when all is well, 1 otherwise, 2 for misuse.

Mutants of exercises that share no code (a conv, a relu, a softmax_ce and a residual mutant, say) are
graded together in one judge run, each scored on its own exercise only: every exercise has its own
runner, so they cannot meet, and the judge's start-up is paid once. A batch whose judge run fails is
graded again one mutant at a time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import exercises as stubs_package
from grader.host.launch import SuiteError, SuiteRun, collect_tests, run_suite, suite_files
from grader.instructor.mutants import (
    BY_NAME,
    MUTANTS,
    Mutant,
    StaleMutantError,
    batches,
    check_mutants,
    write_submission,
)
from grader.vocabulary.commands import Parser, positive
from grader.vocabulary.exercises import EXERCISES
from grader.vocabulary.results import RunStatus, by_exercise

STUBS_DIR = Path(stubs_package.__file__).resolve().parent
EPS = 1e-6
SEED_FIXTURES = {"rng", "seed"}  # the only way a test's inputs depend on the base seed (grader.judge.plugin)


@dataclass
class Graded:
    """One submission's per-exercise points and maxima, its first failing test and all failing nodeids."""

    points: dict[str, float]
    max_points: dict[str, float]
    first_failure: dict[str, str]
    status: str = RunStatus.COMPLETED
    message: str = ""
    duration: float = 0.0
    failed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        full = sum(self.max_points.values())
        return round(100 * sum(self.points.values()) / full, 2) if full else 0.0


@dataclass
class MutantOutcome:
    """How a mutant fared: KILLED (at every seed), SURVIVED (at some seed), or ERROR (the judge itself failed).

    Over several seeds, ``score`` and ``first_failure`` are those of its weakest seed (the highest score);
    ``fixed_kill`` names the test without random inputs that killed it, when that settled every seed.
    """

    name: str
    exercise: str
    description: str
    score: float
    full: float
    status: str
    first_failure: str
    leaks: dict[str, float] = field(default_factory=dict)  # other exercise -> its changed score
    duration: float = 0.0
    survived_at: list[int] = field(default_factory=list)  # the seeds at which it kept every point
    graded_at: list[int] = field(default_factory=list)
    fixed_kill: str = ""


@dataclass
class SelftestResult:
    """Everything ``grader selftest`` found; ``ok`` decides the exit status.

    ``reference`` and ``stubs`` are the worst seed's grades (the reference's lowest, the stubs' highest);
    ``by_seed`` holds every seed's (reference, stubs).
    """

    suite: str
    reference: Graded
    stubs: Graded
    mutants: list[MutantOutcome]
    check_leaks: bool
    duration: float
    seeds: list[int] = field(default_factory=lambda: [0])
    by_seed: dict[int, tuple[Graded, Graded]] = field(default_factory=dict)

    @property
    def killed(self) -> int:
        return sum(m.status == "KILLED" for m in self.mutants)

    def runs(self) -> dict[int, tuple[Graded, Graded]]:
        """(reference, stubs) by seed."""
        return self.by_seed or {self.seeds[0]: (self.reference, self.stubs)}

    @property
    def ok(self) -> bool:
        def scores(graded: Graded, percent: float) -> bool:
            return graded.status == RunStatus.COMPLETED and abs(graded.percent - percent) < EPS

        return (all(scores(ref, 100) and scores(stubs, 0) for ref, stubs in self.runs().values())
                and self.killed == len(self.mutants))

    def summary(self) -> str:
        runs = self.runs()
        if len(runs) == 1:
            return (f"{self.killed}/{len(self.mutants)} mutants killed; reference {self.reference.percent:.1f}; "
                    f"stubs {self.stubs.percent:.1f}")
        return (f"{self.killed}/{len(self.mutants)} mutants killed at every one of {len(runs)} seeds "
                f"({_seed_list(list(runs))}); reference {_span([r.percent for r, _ in runs.values()])}; "
                f"stubs {_span([s.percent for _, s in runs.values()])}")

    def to_json(self) -> dict:
        return {"suite": self.suite, "ok": self.ok, "summary": self.summary(), "check_leaks": self.check_leaks,
                "duration": round(self.duration, 3), "seeds": self.seeds,
                "reference": asdict(self.reference) | {"percent": self.reference.percent},
                "stubs": asdict(self.stubs) | {"percent": self.stubs.percent},
                "by_seed": {str(seed): {"reference": ref.percent, "stubs": stubs.percent}
                            for seed, (ref, stubs) in self.runs().items()},
                "mutants": [asdict(m) for m in self.mutants]}


def _seed_list(seeds: Sequence[int]) -> str:
    return ", ".join(map(str, seeds))


def _span(values: Sequence[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.1f} at each seed" if high - low < EPS else f"{low:.1f} to {high:.1f}"


def grade(run: SuiteRun, exercises: Sequence[str] = EXERCISES) -> Graded:
    """Per-exercise totals of one judge run, for ``exercises`` only (a batch's run holds others too)."""
    results = [r for r in run.results if r.exercise in exercises]
    totals = by_exercise(results, exercises)
    failed: dict[str, list[str]] = {}
    for result in results:
        if not result.passed:
            failed.setdefault(result.exercise, []).append(result.nodeid)
    first = {name: nodeids[0].split("::")[-1] for name, nodeids in failed.items()}
    return Graded({n: t.points for n, t in totals.items()}, {n: t.max_points for n, t in totals.items()}, first,
                  run.status, run.message, run.duration, failed)


def judge_mutant(mutant: Mutant, graded: Graded, reference: Graded) -> MutantOutcome:
    """KILLED when the mutant's own exercise scores below the reference's; leaks: other exercises that moved."""
    own = mutant.exercise
    score, full = graded.points.get(own, 0.0), reference.max_points.get(own, 0.0)
    killed = score < reference.points.get(own, 0.0) - EPS  # a suite without tests of ``own`` cannot kill it
    status = "ERROR" if graded.status != RunStatus.COMPLETED else "KILLED" if killed else "SURVIVED"
    leaks = {name: points for name, points in graded.points.items()
             if name != own and abs(points - reference.points.get(name, 0.0)) > EPS}
    failure = graded.first_failure.get(own, "") if status != "ERROR" else graded.message or "no results"
    return MutantOutcome(mutant.name, own, mutant.description, score, full, status, failure, leaks, graded.duration)


def combine(by_seed: dict[int, MutantOutcome]) -> MutantOutcome:
    """One mutant graded at several seeds: KILLED only if killed at each; ERROR if the judge failed at any.

    The outcome shows the weakest seed: an error first, then a survival, then the highest score.
    """
    def weakness(seed: int) -> tuple[bool, bool, float]:
        outcome = by_seed[seed]
        return outcome.status == "ERROR", outcome.status == "SURVIVED", outcome.score

    seeds = sorted(by_seed)
    worst = by_seed[max(seeds, key=weakness)]  # its status is the verdict: ERROR at any seed, else SURVIVED at any
    return replace(worst, leaks={name: points for s in seeds for name, points in by_seed[s].leaks.items()},
                   duration=sum(by_seed[s].duration for s in seeds), graded_at=seeds,
                   survived_at=[s for s in seeds if by_seed[s].status == "SURVIVED"])


def fixed_input_tests(suite: str | Path) -> set[str] | None:
    """The nodeids of the suite's tests that draw nothing from the seed (no ``rng``/``seed`` fixture, even
    indirectly): their verdict is the same at every seed. None when the suite cannot be collected."""
    try:
        return {item["nodeid"] for item in collect_tests(suite) if not SEED_FIXTURES & set(item["fixtures"])}
    except SuiteError:
        return None


def _grade_batch(folder: Path, members: list[Mutant], suite: str | Path, seed: int,
                 exercises_of: dict[str, list[str]]) -> dict[str, Graded]:
    """Each member's grades from one judge run of ``folder`` (the batch's submission) at ``seed``."""
    wanted = {e for m in members for e in exercises_of[m.name]}
    run = run_suite(folder, suite, [e for e in EXERCISES if e in wanted], base_seed=seed)
    if run.status != RunStatus.COMPLETED and len(members) > 1:  # one member may have broken the run: grade them apart
        graded = {}
        for member in members:
            alone = write_submission(folder.parent / f"{folder.name}-seed{seed}-{member.name}", member)
            graded |= _grade_batch(alone, [member], suite, seed, exercises_of)
        return graded
    return {m.name: grade(run, exercises_of[m.name]) for m in members}


def _submit(pool: ThreadPoolExecutor, folder: Path, mutants: Sequence[Mutant], seeds: Sequence[int],
            suite: str | Path, separate: bool, exercises_of: dict[str, list[str]]) -> dict[tuple[int, str], Future]:
    """Grade ``mutants`` in batches (written under ``folder``) at each of ``seeds``: {(seed, name): future}."""
    futures: dict[tuple[int, str], Future] = {}
    for i, group in enumerate(batches(mutants, separate)):
        submission = write_submission(folder / f"batch-{i}", group)
        for seed in seeds:
            future = pool.submit(_grade_batch, submission, group, suite, seed, exercises_of)
            futures |= {(seed, m.name): future for m in group}
    return futures


def run_selftest(suite: str | Path = "hidden", jobs: int = 2, mutants: Sequence[str | Mutant] | None = None, *,
                 check_leaks: bool = False, progress: bool = False, seeds: Sequence[int] = (0,),
                 every_seed: bool = False) -> SelftestResult:
    """Grade the reference, the stubs and the mutants at each of ``seeds`` (``jobs`` judges at a time).

    At the seeds after the first, a mutant already killed by a test with fixed inputs is not graded
    again (it is killed there too) unless ``every_seed``. ``mutants``: names from ``MUTANTS`` or ``Mutant``
    objects (all of ``MUTANTS`` for None). Raises StaleMutantError before grading anything when a mutant
    no longer applies, KeyError for an unknown name, SuiteError for a bad suite, ValueError for no seeds.
    """
    chosen = list(MUTANTS) if mutants is None else [m if isinstance(m, Mutant) else BY_NAME[m] for m in mutants]
    seeds = list(dict.fromkeys(seeds))
    if not seeds:
        raise ValueError("run_selftest needs at least one seed")
    check_mutants(chosen)
    _, files = suite_files(suite)  # SuiteError now, not from a thread
    covered = [e for e in EXERCISES if e in {f.stem.removeprefix("test_") for f in files}]
    tested = [m for m in chosen if m.exercise in covered]
    exercises_of = {m.name: covered if check_leaks else [m.exercise] for m in tested}
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="grader-selftest-") as tmp, ThreadPoolExecutor(max(1, jobs)) as pool:
        root = Path(tmp)
        reference_dir = write_submission(root / "reference")
        base = {seed: (pool.submit(run_suite, reference_dir, suite, base_seed=seed),
                       pool.submit(run_suite, STUBS_DIR, suite, base_seed=seed)) for seed in seeds}
        first = _submit(pool, root / "first", tested, seeds[:1], suite, check_leaks, exercises_of)
        fixed = fixed_input_tests(suite) if len(seeds) > 1 and not every_seed else None
        by_seed = {seed: (grade(ref.result()), grade(stubs.result())) for seed, (ref, stubs) in base.items()}
        outcomes: dict[str, dict[int, MutantOutcome]] = {}
        fixed_kill: dict[str, str] = {}
        for mutant in tested:
            graded = first[(seeds[0], mutant.name)].result()[mutant.name]
            outcome = judge_mutant(mutant, graded, by_seed[seeds[0]][0])
            outcomes[mutant.name] = {seeds[0]: outcome}
            settled = [n for n in graded.failed.get(mutant.exercise, []) if fixed is not None and n in fixed]
            if outcome.status == "KILLED" and settled:
                fixed_kill[mutant.name] = settled[0].split("::")[-1]
        again = [m for m in tested if outcomes[m.name][seeds[0]].status == "KILLED" and m.name not in fixed_kill]
        later = _submit(pool, root / "later", again, seeds[1:], suite, check_leaks, exercises_of)
        results = []
        for mutant in chosen:
            if mutant.name not in outcomes:
                untested = Graded({}, {}, {mutant.exercise: f"the suite has no tests of {mutant.exercise}"})
                outcomes[mutant.name] = {seeds[0]: judge_mutant(mutant, untested, by_seed[seeds[0]][0])}
            for seed in [s for s in seeds[1:] if (s, mutant.name) in later]:
                graded = later[(seed, mutant.name)].result()[mutant.name]
                outcomes[mutant.name][seed] = judge_mutant(mutant, graded, by_seed[seed][0])
            outcome = combine(outcomes[mutant.name])
            outcome.fixed_kill = fixed_kill.get(mutant.name, "")
            if progress:
                print(f"  {outcome.status:<8} {mutant.name}", file=sys.stderr, flush=True)
            results.append(outcome)
    reference = min((r for r, _ in by_seed.values()), key=lambda g: (g.status == RunStatus.COMPLETED, g.percent))
    stubs = max((s for _, s in by_seed.values()), key=lambda g: (g.status != RunStatus.COMPLETED, g.percent))
    return SelftestResult(str(suite), reference, stubs, results, check_leaks, time.monotonic() - start, seeds,
                          by_seed)


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


def kill_table(result: SelftestResult) -> str:
    """The kill table: one row per mutant, then reference, stubs and the summary line.

    Over several seeds a mutant's status reads "KILLED*" when a test with fixed inputs killed it (so at
    every seed) and "KILLED" when it was graded, and killed, at each seed.
    """
    runs = result.runs()
    rows = [("mutant", "exercise", "score", "status", "first failing test")]
    for m in result.mutants:
        failure = m.first_failure if len(m.first_failure) <= 70 else m.first_failure[:67] + "..."
        if m.leaks:
            failure += "  [leaks into " + ", ".join(f"{k} {_points(v)}" for k, v in m.leaks.items()) + "]"
        status = m.status + ("*" if len(runs) > 1 and m.fixed_kill and m.status == "KILLED" else "")
        rows.append((m.name, m.exercise, f"{_points(m.score)}/{_points(m.full)}", status, failure))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4] for row in rows]
    lines.insert(1, "-" * min(120, max(len(line) for line in lines)))
    for label, graded, index in (("reference", result.reference, 0), ("stubs", result.stubs, 1)):
        extra = f" ({graded.status}: {graded.message})" if graded.status != RunStatus.COMPLETED else ""
        scores = ", ".join(f"{n} {_points(graded.points[n])}/{_points(graded.max_points[n])}" for n in graded.points)
        percents = {seed: pair[index].percent for seed, pair in runs.items()}
        if len(runs) > 1 and len(set(percents.values())) == 1:
            extra += f" at each of seeds {_seed_list(list(runs))}"
        elif len(runs) > 1:
            extra += " (" + ", ".join(f"seed {s}: {p:.1f} %" for s, p in percents.items()) + ")"
        lines.append(f"{label}: {graded.percent:.1f} % [{scores}]{extra}")
    if len(runs) > 1:
        lines.append("KILLED*: by a test whose inputs do not depend on the seed, so at every seed; KILLED: graded "
                     "and killed at each seed")
    survivors = [m.name + (f" (at seeds {_seed_list(m.survived_at)})" if len(runs) > 1 and m.survived_at else "")
                 for m in result.mutants if m.status != "KILLED"]
    if survivors:
        lines.append("not killed: " + ", ".join(survivors))
    lines.append(result.summary() + f" ({result.duration:.1f} s)")
    return "\n".join(lines)


def build_parser(prog: str = "grader selftest") -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--suite", default="hidden", help="public, hidden (default) or a path to test files")
    parser.add_argument("--jobs", type=positive(int), default=2, help="judges at a time (default 2)")
    parser.add_argument("--seeds", type=positive(int), default=1, metavar="N",
                        help="check at N base seeds, FIRST ... FIRST+N-1 (default 1; 5 shows what depends on the seed)")
    parser.add_argument("--first-seed", type=int, default=0, metavar="FIRST", help="the first base seed (default 0)")
    parser.add_argument("--every-seed", action="store_true",
                        help="grade every mutant at every seed, even one a test with fixed inputs killed")
    parser.add_argument("--only", nargs="+", metavar="MUTANT", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--check-leaks", action="store_true",
                        help="grade each mutant on every exercise (slower) and report leaks into others")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``grader selftest`` (the options of ``build_parser``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.first_seed < 0:
        parser.error(f"--first-seed must be 0 or more, got {args.first_seed}")
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
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    try:
        result = run_selftest(args.suite, args.jobs, args.only, check_leaks=args.check_leaks,
                              progress=not args.json and sys.stderr.isatty(), seeds=seeds,
                              every_seed=args.every_seed)
    except SuiteError as err:
        parser.error(str(err))
    except StaleMutantError as err:
        print(f"grader selftest: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result.to_json(), indent=2) if args.json else kill_table(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
