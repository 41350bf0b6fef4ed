"""``grader selftest``: the mutant table applies to the current solutions, and the suite kills every mutant.

The table checks are instant; ``test_two_mutants_through_main`` grades the reference, the stubs and two
mutants (a few seconds); the full run is marked slow (about 20 s on two idle cores).
"""

from __future__ import annotations

import ast
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from grader.exercises import EXERCISES
from grader.mutants import MUTANTS, Mutant, StaleMutantError, check_mutants, reference_sources, write_submission
from grader.selftest import Graded, MutantOutcome, SelftestResult, judge_mutant, kill_table, main, run_selftest

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def test_every_mutant_applies_exactly_once_and_changes_its_module():
    check_mutants(MUTANTS)
    sources = reference_sources()
    for mutant in MUTANTS:
        assert mutant.apply(sources[mutant.module]) != sources[mutant.module], mutant.name


def test_the_table_is_large_varied_and_described_in_one_line():
    assert len(MUTANTS) >= 30
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    per_exercise = Counter(m.exercise for m in MUTANTS)
    assert set(per_exercise) == set(EXERCISES)
    assert per_exercise["conv"] >= 11 and per_exercise["pooling"] >= 6 and per_exercise["residual"] >= 6
    for mutant in MUTANTS:
        assert mutant.description and "\n" not in mutant.description and len(mutant.description) <= 100


def test_a_stale_mutant_is_reported_by_name_module_and_count():
    missing = Mutant("gone", "relu", "a bug whose code was edited away", "relu", "positive = x > 0.5", "x")
    with pytest.raises(StaleMutantError, match=r"stale mutant 'gone'.*occurs 0 times in relu\.py"):
        check_mutants([missing])
    twice = Mutant("ambiguous", "relu", "find text too short", "relu", "positive", "negative")
    with pytest.raises(StaleMutantError, match=r"'ambiguous'.*occurs \d+ times"):
        twice.apply(reference_sources()["relu"])
    second_edit = Mutant("half", "relu", "second edit stale", "relu",
                         ("positive = x > 0", "no such line"), ("positive = x >= 0", ""))
    with pytest.raises(StaleMutantError, match="no such line"):
        check_mutants([second_edit])


def test_a_stale_mutant_stops_the_selftest_before_any_grading(monkeypatch, capsys):
    stale = Mutant("stale_one", "relu", "stale", "relu", "this text is in no solution", "")
    monkeypatch.setattr("grader.selftest.run_suite", lambda *a, **k: pytest.fail("graded a stale mutant"))
    with pytest.raises(StaleMutantError, match="stale_one"):
        run_selftest(mutants=[stale])
    monkeypatch.setattr("grader.selftest.BY_NAME", {"stale_one": stale})
    assert main(["--only", "stale_one"]) == 1
    assert "stale mutant 'stale_one'" in capsys.readouterr().err


def test_mismatched_edits_and_unknown_exercises_are_refused():
    with pytest.raises(ValueError, match="differ in number"):
        Mutant("bad", "relu", "d", "relu", ("a", "b"), ("c",))
    with pytest.raises(ValueError, match="unknown exercise"):
        Mutant("bad", "dropout", "d", "relu", "a", "b")


def test_the_reference_submission_is_self_contained(tmp_path):
    ours = write_submission(tmp_path / "ours")
    for name in EXERCISES:
        source = (ours / f"{name}.py").read_text()
        assert "._checks" not in source, name
        defined = {node.name for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        solution = ast.parse((SOLUTIONS / f"{name}.py").read_text())
        public = {node.name for node in solution.body
                  if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")}
        assert public and public <= defined, name


def test_a_mutant_submission_differs_only_in_its_module(tmp_path):
    mutant = next(m for m in MUTANTS if m.module == "pooling")
    reference, mutated = write_submission(tmp_path / "r"), write_submission(tmp_path / "m", mutant)
    changed = [n for n in EXERCISES if (reference / f"{n}.py").read_text() != (mutated / f"{n}.py").read_text()]
    assert changed == ["pooling"]


def graded(points: dict[str, float], status: str = "completed") -> Graded:
    full = {"relu": 10.0, "conv": 35.0}
    return Graded(points, full, {n: "test_x" for n, p in points.items() if p < full[n]}, status)


def test_killed_survived_error_and_leaks():
    reference = graded({"relu": 10, "conv": 35})
    mutant = Mutant("m", "conv", "d", "conv", "a", "b")
    assert judge_mutant(mutant, graded({"conv": 30}), reference).status == "KILLED"
    survived = judge_mutant(mutant, graded({"conv": 35}), reference)
    assert (survived.status, survived.first_failure) == ("SURVIVED", "")
    assert judge_mutant(mutant, graded({"conv": 0}, status="timeout"), reference).status == "ERROR"
    leaky = judge_mutant(mutant, graded({"relu": 9, "conv": 34}), reference)
    assert leaky.status == "KILLED" and leaky.leaks == {"relu": 9}


def test_the_kill_table_names_survivors_and_fails():
    reference, stubs = graded({"relu": 10, "conv": 35}), graded({"relu": 0, "conv": 0})
    outcomes = [MutantOutcome("a", "conv", "d", 30, 35, "KILLED", "test_a"),
                MutantOutcome("b", "relu", "d", 10, 10, "SURVIVED", "")]
    result = SelftestResult("hidden", reference, stubs, outcomes, False, 1.0)
    table = kill_table(result)
    assert "not killed: b" in table and "1/2 mutants killed; reference 100.0; stubs 0.0" in table
    assert not result.ok
    assert SelftestResult("hidden", reference, stubs, outcomes[:1], False, 1.0).ok


def test_list_and_misuse(capsys):
    assert main(["--list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(MUTANTS)
    for argv in (["--only", "no_such_mutant"], ["--jobs", "0"], ["--suite", "/no/such/suite"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2, argv


def test_two_mutants_through_main(capsys):
    assert main(["--only", "relu_gradient_one_at_zero", "pool_ties_to_last_max", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    problems = [report[k]["message"] for k in ("reference", "stubs") if report[k]["status"] != "completed"]
    assert report["summary"] == "2/2 mutants killed; reference 100.0; stubs 0.0", (report["mutants"], problems)
    assert report["ok"]
    assert [(m["name"], m["status"]) for m in report["mutants"]] == [
        ("relu_gradient_one_at_zero", "KILLED"), ("pool_ties_to_last_max", "KILLED")]
    assert report["mutants"][1]["first_failure"].startswith("test_max_pool_backward_with_tied_maxima")


@pytest.mark.slow
def test_the_hidden_suite_kills_every_mutant():
    start = time.monotonic()
    result = run_selftest("hidden", jobs=2)
    print(kill_table(result), f"\nselftest took {time.monotonic() - start:.1f} s")
    assert result.reference.percent == 100.0
    assert result.stubs.percent == 0.0
    assert [m.name for m in result.mutants if m.status != "KILLED"] == []
    assert result.ok and len(result.mutants) == len(MUTANTS)
