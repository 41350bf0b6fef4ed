"""The files of a gradebook folder, written from the gradebook once a batch ends (``publish``).

    DIR/grades.csv              a row per student, a column per exercise, the total, the status
    DIR/grades_canvas.csv       Canvas' gradebook import (``grader.reports.canvas``)
    DIR/results/<student>.json  Gradescope's results.json
    DIR/feedback/<student>.md   what the student may see (hidden tests only as name-less totals)

Every file is derived from the database alone (the host reads it and hands it over) and written atomically,
so whatever a killed run left, the next run's ``publish`` makes the folder whole again; files whose text is
unchanged are left alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.reports.canvas import CANVAS_NAME, canvas_csv, csv_text
from grader.reports.gradescope import submission_results
from grader.reports.text import feedback_markdown, num
from grader.vocabulary.exercises import EXERCISES, WEIGHTS
from grader.vocabulary.files import atomic_write_text
from grader.vocabulary.results import Stored, SubmissionStatus, by_exercise

CSV_NAME, RESULTS_DIR, FEEDBACK_DIR = "grades.csv", "results", "feedback"


def publish(out: Path, stored: Stored) -> list[Path]:
    """Write into ``out`` every file derived from the gradebook's ``stored`` content; returns the CSVs' paths."""
    files = {out / CSV_NAME: grades_csv(stored), out / CANVAS_NAME: canvas_text(stored)}
    for record in stored.records:
        results = stored.tests_of(record.student)
        payload = submission_results(record, results, {"student": record.student})
        files[out / RESULTS_DIR / f"{record.student}.json"] = json.dumps(payload, indent=2) + "\n"
        files[out / FEEDBACK_DIR / f"{record.student}.md"] = feedback_markdown(
            record.student, results, status=record.status, message=record.message, max_score=record.max_score)
    for folder in (RESULTS_DIR, FEEDBACK_DIR):
        (out / folder).mkdir(exist_ok=True)
    for path, text in files.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text)
    return [out / CSV_NAME, out / CANVAS_NAME]


def _points(stored: Stored) -> dict[str, dict[str, tuple[float, float]]]:
    """student -> exercise -> (points, max points), for the exercises it has results of."""
    return {record.student: {name: (total.points, total.max_points) for name, total in
                             by_exercise(stored.tests_of(record.student), ()).items()} for record in stored.records}


def grades_csv(stored: Stored) -> str:
    """grades.csv: student, one column per exercise, total, max_total, status."""
    points = _points(stored)
    return csv_text([["student", *EXERCISES, "total", "max_total", "status"],
                     *([record.student, *(num(points[record.student].get(e, (0.0, 0.0))[0]) for e in EXERCISES),
                        num(record.score), num(record.max_score), record.status] for record in stored.records)])


def canvas_text(stored: Stored) -> str:
    """grades_canvas.csv; an exercise's maximum is the suite's where any test of it ran (--suite public: its
    points), else its weight."""
    points = _points(stored)
    ran: dict[str, float] = {}
    for by_name in points.values():
        for name, (_, most) in by_name.items():
            ran[name] = max(most, ran.get(name, most))
    maxima = {**WEIGHTS, **ran}
    graded = [r.max_score for r in stored.records if r.status is SubmissionStatus.GRADED]
    rows = [(r.student, r.score, {name: got for name, (got, _) in points[r.student].items()}) for r in stored.records]
    return canvas_csv(rows, max_total=max(graded) if graded else sum(WEIGHTS.values()), max_points=maxima)
