"""The hidden suite grades from a recording of the reference as it does from the reference itself.

A recording (``GRADER_REFERENCE_RECORD``, then ``GRADER_REFERENCE_DATA``) is how a handout, and the
Gradescope zip, grade without ``solutions``. It can only answer reference calls whose arguments are the
test's own inputs: a test that passed a submission's output to the reference would find no recorded
value for any submission but the reference. So the suite is recorded on the reference, then other
submissions (the loop-style corpus entry, whose values differ in the last bits, and mutants, whose values
differ a lot) are graded from the recording and must get exactly the verdicts of a direct grading.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.host.launch import SuiteRun, run_suite
from grader.instructor.mutants import BY_NAME, write_submission
from grader.instructor.recording import merge_records
from grader.judge.reference import DATA_ENV, RECORD_ENV

CORPUS = Path(__file__).resolve().parent / "grader_corpus"
SEED = 3  # not the default: the recording must follow the seed it was made at
MUTANT_BATCHES = [["conv_backward_wrong_stride", "relu_gradient_from_dout_sign", "softmax_batch_wide_shift",
                   "residual_relu_before_addition"], ["pool_overlap_assigns"]]


def verdicts(run: SuiteRun) -> dict[str, tuple[str, float]]:
    assert run.status == "completed", run.message
    return {r.nodeid: (r.status, r.points) for r in run.results}


@pytest.mark.slow
def test_other_submissions_get_the_same_verdicts_from_a_recording(tmp_path, monkeypatch):
    reference = write_submission(tmp_path / "reference")
    loop_style = write_submission(tmp_path / "loop_style")
    for path in (CORPUS / "loop_style").glob("*.py"):
        shutil.copyfile(path, loop_style / path.name)
    mutants = [write_submission(tmp_path / f"mutants-{i}", [BY_NAME[name] for name in batch])
               for i, batch in enumerate(MUTANT_BATCHES)]
    exercises = [sorted({BY_NAME[name].exercise for name in batch}) for batch in MUTANT_BATCHES]
    direct = [verdicts(run_suite(folder, "hidden", wanted, base_seed=SEED))
              for folder, wanted in zip(mutants, exercises)]

    monkeypatch.setenv(RECORD_ENV, str(tmp_path / "records"))
    recorded = run_suite(reference, "hidden", base_seed=SEED)
    monkeypatch.delenv(RECORD_ENV)
    assert all(status == "passed" for status, _ in verdicts(recorded).values())
    calls = merge_records(tmp_path / "records", tmp_path / "expected")
    assert calls > 100

    monkeypatch.setenv(DATA_ENV, str(tmp_path / "expected"))
    replayed = run_suite(loop_style, "hidden", base_seed=SEED)
    problems = {r.nodeid: r.output[:200] for r in replayed.results if r.status != "passed"}
    assert problems == {}
    assert round(sum(r.points for r in replayed.results), 6) == 100.0
    for folder, wanted, expected in zip(mutants, exercises, direct):
        assert verdicts(run_suite(folder, "hidden", wanted, base_seed=SEED)) == expected
