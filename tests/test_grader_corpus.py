"""The grader against a corpus of submissions: reference, stubs, classic bugs and forgery attempts.

Each directory of tests/grader_corpus/ holds a few exercise files; the other exercises come from the
reference solutions, so a bug must cost points in its own exercise and nowhere else. Every submission
is graded once with the full hidden suite (public + hidden tests), two at a time (about 35 s in all).
``loop_style`` is a correct implementation of every exercise in plain Python loops, as students write
first: slow, but it must score 100 well within the default per-test limits.
"""

from __future__ import annotations

import re
import shutil
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from kit_copies import reference_submission

from grader.host.launch import SuiteRun, run_suite
from grader.jail import bwrap
from grader.vocabulary.exercises import EXERCISES, WEIGHTS
from grader.vocabulary.options import JudgeOptions

KIT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "grader_corpus"

# name: (exercise, nodeid pattern every failing test matches, nodeid fragments that must fail)
BUGS = {
    "conv_dw_transposed_kernel": ("conv", r"_dw", ["test_conv2d_backward_dw[non_square_input_and_kernel]",
                                                   "test_conv2d_backward_dw_with_padding_1"]),
    "conv_backward_forgets_padding": ("conv", r"_dx|conv1d_backward|modify_dout",
                                      ["test_conv2d_backward_dx[padding_2_kernel_5x5]",
                                       "test_conv2d_backward_dx[same_padding_kernel_3x4]"]),
    "conv_forgets_dilation": ("conv", r"dilation|conv1d_backward", ["test_conv2d_forward[dilation_2]",
                                                    "test_conv2d_backward_dx[dilation_2]"]),
    "conv_float64_output_for_float32": ("conv", r"float32", ["test_conv2d_forward[float32]"]),
    "maxpool_overlap_assigns_instead_of_adding": ("pooling", r"backward", [
        "test_max_pool_backward[overlapping_3x3_stride_2]", "test_average_pool_backward[overlapping_3x3_stride_2]"]),
    "maxpool_ties_double_counted": ("pooling", r"tied_maxima", ["test_max_pool_backward_with_tied_maxima"]),
    "avgpool_ignores_padding": ("pooling", r"average_pool_\w+\[(padding_1|padding_pair_alone|float32)\]",
                                ["test_average_pool_forward[padding_1]", "test_average_pool_backward[padding_1]"]),
    "relu_gradient_one_at_zero": ("relu", r"backward|zero", ["test_relu_gradient_is_zero_at_exactly_zero"]),
    "relu_modifies_its_input": ("relu", r"does_not_modify", ["test_relu_forward_does_not_modify_its_input"]),
    "softmax_without_max_shift": ("softmax_ce", r"1e4", ["test_softmax_of_logits_of_1e4_in_float32",
                                                         "test_cross_entropy_loss_of_logits_of_1e4_in_float32"]),
    "cross_entropy_summed_not_mean": ("softmax_ce", r"cross_entropy", [
        "test_cross_entropy_loss_of_a_random_batch", "test_cross_entropy_gradient_of_a_random_batch"]),
    "residual_projection_without_batchnorm": ("residual", r"projection|state_dict|statistics", [
        "test_projection_block_parameter_count", "test_state_dict_keys_and_shapes",
        "test_block_forward_with_loaded_weights[projection-train]"]),
    "residual_shortcut_without_stride": ("residual", r"projection|statistics", [
        "test_block_forward_with_loaded_weights[projection-eval]",
        "test_block_backward_input_gradient[projection-train]"]),
}
# name: (exercise it forges, exercises that import it and so may be affected too)
FORGERIES = {
    "forge_patched_asserts": ("relu", ()),
    "forge_stack_frames": ("softmax_ce", ()),
    "forge_always_equal": ("conv", ("pooling",)),  # pooling imports conv_output_size from the submission's conv
    "forge_ndarray_subclass": ("pooling", ()),
    "forge_results_file": ("residual", ()),
}
SANDBOX_ONLY = {"forge_import_solutions": "relu"}
DEFAULTS = JudgeOptions()


class Corpus:
    """Grades submissions in the background, two at a time, each once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.reference = reference_submission(root / "reference")
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.jobs: dict[tuple[str, str], Future[SuiteRun]] = {}
        self.wall: dict[tuple[str, str], float] = {}

    def submission(self, name: str) -> Path:
        if name == "reference":
            return self.reference
        if name == "stubs":
            return KIT / "exercises"
        target = self.root / name
        if not target.exists():
            shutil.copytree(self.reference, target)
            for path in (CORPUS / name).glob("*.py"):
                shutil.copyfile(path, target / path.name)
        return target

    def submit(self, name: str, suite: str = "hidden") -> None:
        if (name, suite) not in self.jobs:
            self.jobs[(name, suite)] = self.pool.submit(self._timed, name, suite)

    def _timed(self, name: str, suite: str) -> SuiteRun:
        start = time.monotonic()
        run = run_suite(self.submission(name), suite)  # the default limits
        self.wall[(name, suite)] = time.monotonic() - start
        return run

    def run(self, name: str, suite: str = "hidden") -> SuiteRun:
        self.submit(name, suite)
        return self.jobs[(name, suite)].result()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    corpus = Corpus(tmp_path_factory.mktemp("corpus"))
    for name in ["reference", "stubs", "alternative_correct", "loop_style", *BUGS, *FORGERIES]:
        corpus.submit(name)  # start them all: the tests below wait only for the one they need
    yield corpus
    corpus.pool.shutdown(wait=True, cancel_futures=True)


def per_exercise(run: SuiteRun) -> dict[str, float]:
    points = defaultdict(float)
    for result in run.results:
        points[result.exercise] += result.points
    return {name: round(points[name], 6) for name in EXERCISES}


def failing(run: SuiteRun) -> list[str]:
    return [r.nodeid.split("::")[-1] for r in run.results if r.status != "passed"]


def test_corpus_directories_are_all_listed():
    listed = {"alternative_correct", "loop_style", *BUGS, *FORGERIES, *SANDBOX_ONLY}
    assert {p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))} == listed


def test_the_reference_solutions_score_100(corpus):
    run = corpus.run("reference")
    assert run.status == "completed", run.message
    assert per_exercise(run) == {name: float(w) for name, w in WEIGHTS.items()}
    assert all(r.status == "passed" for r in run.results), failing(run)


def test_the_reference_solutions_pass_the_whole_public_suite(corpus):
    run = corpus.run("reference", "public")
    assert run.results and all(r.status == "passed" for r in run.results), failing(run)
    assert round(sum(r.points for r in run.results), 6) == 20.0


def test_the_stubs_score_0_and_every_test_says_not_implemented(corpus):
    run = corpus.run("stubs")
    assert run.status == "completed", run.message
    assert sum(r.points for r in run.results) == 0.0
    assert all(r.status == "error" and r.not_implemented for r in run.results)
    assert all(r.output.startswith("not implemented yet") for r in run.results)


def test_an_independent_correct_implementation_scores_100(corpus):
    run = corpus.run("alternative_correct")
    assert per_exercise(run) == {name: float(w) for name, w in WEIGHTS.items()}, failing(run)


def test_a_loop_style_implementation_of_every_exercise_scores_100_within_the_limits(corpus):
    run = corpus.run("loop_style")
    assert run.status == "completed", run.message
    assert per_exercise(run) == {name: float(w) for name, w in WEIGHTS.items()}, failing(run)
    assert {r.exercise for r in run.results} == set(EXERCISES)
    slowest = max(run.results, key=lambda r: r.duration)
    # loops are slow but must never meet a default limit: keep a tenfold margin on the per-test deadline
    # and on the CPU seconds of each exercise's runner
    assert slowest.duration < DEFAULTS.test_timeout / 10, (slowest.nodeid, slowest.duration)
    for exercise in EXERCISES:
        spent = sum(r.duration for r in run.results if r.exercise == exercise)
        assert spent < DEFAULTS.limits.cpu_seconds / 10, (exercise, spent)
    print(f"loop_style: the hidden suite took {corpus.wall[('loop_style', 'hidden')]:.1f} s of wall time, "
          f"{sum(r.duration for r in run.results):.1f} s in tests; slowest {slowest.nodeid} {slowest.duration:.2f} s")


@pytest.mark.parametrize("name", list(BUGS))
def test_a_classic_bug_costs_points_in_its_exercise_only(corpus, name):
    exercise, pattern, must_fail = BUGS[name]
    run = corpus.run(name)
    assert run.status == "completed", run.message
    scores = per_exercise(run)
    assert 0 < scores[exercise] < WEIGHTS[exercise], scores
    assert {k: v for k, v in scores.items() if k != exercise} == {k: float(w) for k, w in WEIGHTS.items()
                                                                  if k != exercise}
    failed = failing(run)
    assert [f for f in must_fail if f not in failed] == []
    assert [f for f in failed if not re.search(pattern, f)] == []
    for result in run.results:
        if result.status == "failed":
            assert result.output and "\n" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_forgery_scores_nothing_for_the_exercise_it_forges(corpus, name):
    exercise, affected = FORGERIES[name]
    run = corpus.run(name)
    assert run.status == "completed", run.message
    scores = per_exercise(run)
    assert scores[exercise] == 0.0, [r.nodeid for r in run.results if r.exercise == exercise and r.points]
    untouched = {k for k in EXERCISES if k != exercise and k not in affected}
    assert {k: scores[k] for k in untouched} == {k: float(WEIGHTS[k]) for k in untouched}


def test_a_results_file_written_by_the_submission_is_ignored(corpus):
    run = corpus.run("forge_results_file")
    reference = corpus.run("reference")
    assert sorted(r.nodeid for r in run.results) == sorted(r.nodeid for r in reference.results)
    assert not [r for r in run.results if r.name == "forged"]
    assert round(sum(r.points for r in run.results), 6) == 80.0


@pytest.mark.skipif(bwrap.available() is None, reason="needs bubblewrap: without it the runner can read the kit")
def test_importing_the_reference_solutions_from_the_judges_environment_scores_nothing(corpus):
    run = corpus.run("forge_import_solutions")
    assert per_exercise(run)[SANDBOX_ONLY["forge_import_solutions"]] == 0.0
