"""Recording a suite's expected values for a copy of the kit that ships without ``solutions``.

``grader release`` records the public suite for the handout, ``grader export gradescope`` the hidden one
for the autograder: the reference solutions are graded once while :mod:`grader.judge.reference` records
every call (``$GRADER_REFERENCE_RECORD``), and once more replaying only that recording
(``$GRADER_REFERENCE_DATA``). Both runs must give full marks.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from grader.host.launch import run_suite
from grader.instructor.mutants import write_submission
from grader.judge.reference import DATA_ENV, FORMAT, RECORD_ENV
from grader.vocabulary.results import RunStatus


class RecordingError(RuntimeError):
    """The reference solutions did not pass the suite being recorded, or replaying it (one line)."""


def merge_records(folder: Path, target: Path, about: str = "expected values of the public tests, recorded from "
                  "the reference solutions by `grader release` (base seed 0)") -> int:
    """Merge a record folder into ``target``.npz and ``target``.json (the handout's data); returns the calls."""
    index: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for entry in sorted(folder.glob("*.json")):
        key = entry.stem
        index[key] = json.loads(entry.read_text())
        with np.load(folder / f"{key}.npz", allow_pickle=False) as data:
            arrays |= {f"{key}/{name}": data[name] for name in data.files}
    target.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(target.with_suffix(".npz"), **arrays)
    payload = {"format": FORMAT, "about": about, "calls": index}
    target.with_suffix(".json").write_text(json.dumps(payload, indent=0, sort_keys=True) + "\n")
    return len(index)


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def record_suite(target: Path, suite: str, seed: int = 0) -> int:
    """Grade the reference solutions with ``suite`` at base ``seed``, recording every reference call into
    ``target``.npz/.json; then grade them again replaying only that recording. Returns the calls recorded.

    Both runs must give full marks (:class:`RecordingError` otherwise): a replay that misses a call means
    a test computes its expected value from something other than its own inputs.
    """
    with tempfile.TemporaryDirectory(prefix="grader-record-") as tmp:
        submission = write_submission(Path(tmp) / "reference")
        records = Path(tmp) / "records"
        with _environ(RECORD_ENV, str(records)):
            _require_full_marks(run_suite(submission, suite, base_seed=seed), suite, "recording")
        if not records.is_dir():
            raise RecordingError(f"the {suite} suite made no reference call to record")
        calls = merge_records(records, target, f"expected values of the {suite} suite's tests, recorded from the "
                              f"reference solutions at base seed {seed}")
        with _environ(DATA_ENV, str(target)):
            _require_full_marks(run_suite(submission, suite, base_seed=seed), suite, "replaying the recording")
    return calls


def _require_full_marks(run: Any, suite: str, what: str) -> None:
    failed = [r for r in run.results if not r.passed]
    if run.status != RunStatus.COMPLETED or not run.results or failed:
        detail = f"{failed[0].nodeid}: {failed[0].output}" if failed else run.message or "no results"
        raise RecordingError(f"the reference solutions do not pass the {suite} suite ({what}): {detail}"[:500])
