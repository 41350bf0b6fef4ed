"""Grading throughput: the hidden suite on one correct submission, and a batch with --jobs 1 and 2."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KIT = Path(__file__).resolve().parent.parent


def _reference_submissions(root: Path, count: int) -> list[Path]:
    sys.path.insert(0, str(KIT / "tests"))
    from kit_copies import reference_submission

    return [reference_submission(root / f"student{i:03d}") for i in range(count)]


def run(batch: int = 20) -> dict[str, Any]:
    from grader.host.launch import run_suite

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        root = Path(tmp)
        subs = _reference_submissions(root / "in", batch)
        start = time.perf_counter()
        one = run_suite(subs[0], "hidden")
        single = time.perf_counter() - start
        result: dict[str, Any] = {"hidden_suite_one_submission_s": single, "tests": len(one.results),
                                  "score": sum(r.points for r in one.results)}
        for jobs in (1, 2):
            out = root / f"out{jobs}"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "grader", "grade", *map(str, subs), "--out", str(out),
                            "--jobs", str(jobs)], check=True, capture_output=True)
            seconds = time.perf_counter() - start
            result[f"jobs{jobs}_{batch}_submissions_s"] = seconds
            result[f"jobs{jobs}_submissions_per_minute"] = 60 * batch / seconds
    return result
