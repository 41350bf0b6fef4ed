"""Statuses and visibilities are written once, in ``grader/vocabulary/results.py``: everywhere else names
them through its enums (a stray literal is a second copy that can drift)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from grader.vocabulary.results import RunStatus, SubmissionStatus, TestStatus, Visibility

GRADER = Path(__file__).resolve().parent.parent / "grader"
HOME = GRADER / "vocabulary" / "results.py"
#: words only a status or visibility is: a quoted one is a stray copy wherever it appears
DISTINCT = ("passed", "failed", "crash", "tampered", "out_of_memory", "after_due_date", "after_published",
            "graded", "bad_archive", "bad_source", "no_files", "completed")
#: words with other meanings too ("hidden": a suite, "error": a wire reply): stray where compared to a status
ANY = "|".join(w.value for e in (TestStatus, Visibility, SubmissionStatus, RunStatus) for w in e)
STRAY = [re.compile(rf"""(?<![\w.])["']({'|'.join(DISTINCT)})["'](?!:\s*\S)"""),
         re.compile(rf"""(status|visibility)\w*["'\]]*\s*(==|!=|\bin\b|\bnot in\b)\s*\(?["']({ANY})["']""")]


def test_no_status_or_visibility_literal_outside_the_vocabulary():
    stray = []
    for path in sorted(GRADER.rglob("*.py")):
        if path == HOME or "suites" in path.relative_to(GRADER).parts:  # the suites only use markers
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if any(pattern.search(code) for pattern in STRAY):
                stray.append(f"{path.relative_to(GRADER)}:{number}: {line.strip()}")
    assert stray == []


def test_the_words_are_their_strings_on_disk_and_in_text():
    words = {TestStatus.OUT_OF_MEMORY: [Visibility.AFTER_DUE_DATE]}
    assert json.dumps(words) == '{"out_of_memory": ["after_due_date"]}'
    assert f"{SubmissionStatus.BAD_ARCHIVE}" == str(SubmissionStatus.BAD_ARCHIVE) == "bad_archive"
    assert TestStatus.OUT_OF_MEMORY.label == "out of memory" and TestStatus("passed") is TestStatus.PASSED
    assert [s for s in SubmissionStatus if not s.final] == [SubmissionStatus.ERROR]


def test_the_check_catches_a_stray_literal():
    assert STRAY[0].search('if result.status == "out_of_memory":')
    assert STRAY[1].search('if run.status != "timeout":')
    assert not any(p.search('suite = config.get("suite", "hidden")') for p in STRAY)
