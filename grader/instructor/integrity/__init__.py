"""Integrity signals for a batch of submissions, reported for a person to review and never penalised.

* :mod:`~grader.instructor.integrity.static`: flags read from each file's syntax tree (nothing is run).
* :mod:`~grader.instructor.integrity.similarity`: the most similar pairs of students, by token winnowing.
* :mod:`~grader.instructor.integrity.report`: ``integrity.json`` and ``integrity.md`` in the gradebook folder.

    from grader.instructor.integrity import write_reports
    write_reports(out_dir, {student: {"conv.py": source, ...}, ...})
"""

from __future__ import annotations

from grader.instructor.integrity.report import kit_stubs, markdown, summary_line, write_reports
from grader.instructor.integrity.similarity import Pair, similar_pairs
from grader.instructor.integrity.static import DEFAULT_FORBIDDEN, KINDS, Flag, flag_source

__all__ = ["DEFAULT_FORBIDDEN", "KINDS", "Flag", "Pair", "flag_source", "kit_stubs", "markdown", "similar_pairs",
           "summary_line", "write_reports"]
