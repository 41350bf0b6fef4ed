"""Gradebook exports for a learning management system: ``grades_canvas.csv`` in Canvas' import format.

Canvas imports a CSV whose first columns are ``Student, ID, SIS User ID, SIS Login ID, Section`` and
whose other columns are assignments (matched by name, or by ``Name (id)``); the second row, starting
with ``Points Possible``, gives each assignment's maximum. The grader knows a student only by the id of
their submission, so that id fills ``Student``, ``SIS User ID`` and ``SIS Login ID``; ``ID`` (Canvas'
own number) and ``Section`` stay empty. Name submissions by SIS login for Canvas to match them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from grader.reports.text import num
from grader.vocabulary.exercises import EXERCISES, TITLES, WEIGHTS

CANVAS_NAME = "grades_canvas.csv"
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
ASSIGNMENT = "CNN exercises"
TOTAL_COLUMN = f"{ASSIGNMENT} (total)"


def canvas_columns() -> list[str]:
    """The assignment columns: the total, then one per exercise in course order."""
    return [TOTAL_COLUMN, *(f"{ASSIGNMENT}: {TITLES[name]}" for name in EXERCISES)]


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """``rows`` as CSV text, each line ending in LF (grades.csv and grades_canvas.csv)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def canvas_csv(rows: Iterable[tuple[str, float, Mapping[str, float]]], max_total: float = 100.0,
               max_points: Mapping[str, float] = WEIGHTS) -> str:
    """Canvas' gradebook CSV from (student, total score, points per exercise) rows."""
    def per_exercise(points: Mapping[str, float]) -> list[str]:
        return [num(points.get(name, 0.0)) for name in EXERCISES]

    return csv_text([[*CANVAS_IDENTITY, *canvas_columns()],
                     ["Points Possible", "", "", "", "", num(max_total), *per_exercise(max_points)],
                     *([student, "", student, student, "", num(total), *per_exercise(points)]
                       for student, total, points in rows)])
