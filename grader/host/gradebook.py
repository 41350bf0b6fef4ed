"""The gradebook of a ``grader grade --out DIR``: SQLite first, and the files derived from it.

    DIR/gradebook.sqlite        submissions + tests; one transaction per submission (old rows out, new in)
    DIR/grades.csv              a row per student, a column per exercise, the total; rewritten atomically
    DIR/results/<student>.json  Gradescope's results.json
    DIR/feedback/<student>.md   what the student may see (hidden tests only as name-less totals)

Crash safety (a ``kill -9`` at any point, then the same command again, ends as an uninterrupted run):
SQLite is the truth, in rollback-journal mode with ``synchronous=FULL`` (a killed transaction is rolled
back when the database is next opened; the rollback journal also works on network file systems). Per
submission: its old JSON and feedback are removed (and the removal synced), its rows replaced in one
transaction, then its files and the CSV written atomically (temp file, fsync, os.replace, fsync of the
folder). A submission whose files are missing counts as not graded, so whatever a crash interrupts is
graded again on the next run; the CSV is rebuilt from the database at the end of every run. Temp files
a killed run left behind are removed when the gradebook is opened, under an exclusive lock on
``DIR/.grader.lock`` that also keeps a second grader out of the same folder.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import IO

from grader.reports.text import feedback_markdown, num, summary_text
from grader.vocabulary.exercises import EXERCISES, WEIGHTS
from grader.vocabulary.results import TestResult, gradescope_results

DB_NAME, CSV_NAME, LOCK_NAME = "gradebook.sqlite", "grades.csv", ".grader.lock"
#: statuses worth keeping on a rerun; anything else ("error": the grader's own trouble) is graded again
FINAL_STATUSES = ("graded", "timeout", "bad_archive", "bad_source", "no_files")
STUDENT_ID = re.compile(r"^[A-Za-z0-9_@+\-][A-Za-z0-9_.@+\- ]{0,127}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    student TEXT PRIMARY KEY, content_hash TEXT NOT NULL, suite_hash TEXT NOT NULL,
    grader_version TEXT NOT NULL, status TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL,
    started TEXT NOT NULL, finished TEXT NOT NULL, duration REAL NOT NULL, message TEXT NOT NULL,
    sandbox TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS tests (
    student TEXT NOT NULL, nodeid TEXT NOT NULL, name TEXT NOT NULL, exercise TEXT NOT NULL,
    points REAL NOT NULL, max_points REAL NOT NULL, status TEXT NOT NULL, output TEXT NOT NULL,
    visibility TEXT NOT NULL, seed INTEGER NOT NULL, duration REAL NOT NULL,
    not_implemented INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS tests_by_student ON tests (student);
"""
TEST_COLUMNS = ("nodeid", "name", "exercise", "points", "max_points", "status", "output", "visibility", "seed",
                "duration", "not_implemented")


@dataclass
class GradeRecord:
    """One row of ``submissions``: how a student's submission was graded."""

    student: str
    content_hash: str
    suite_hash: str
    grader_version: str
    status: str  # graded | timeout | error | bad_archive | bad_source | no_files
    score: float
    max_score: float
    started: str
    finished: str
    duration: float
    message: str = ""
    sandbox: str = ""  # the tier its code ran in ("bwrap", "uid+seccomp", "uid", "rlimits-only"), "" if it never ran


class GradebookBusy(RuntimeError):
    """Another grader holds the gradebook's lock."""


def check_student_id(student: str) -> str:
    """``student`` if it is safe as a file name (letters, digits, ``_.@+-`` and spaces), else ValueError."""
    if not STUDENT_ID.match(student) or student.endswith((" ", ".")):
        raise ValueError(f"student id {student!r} is not usable as a file name (letters, digits, _.@+- and spaces)")
    return student


def atomic_write_text(path: Path, text: str, errors: str = "strict") -> None:
    """Write ``text`` to ``path`` so a reader sees the old file or the new one, never half of one."""
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", errors=errors, newline="",  # noqa: SIM115
                                         dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make renames and removals in ``folder`` durable (best effort where a file system cannot)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _lock_exclusive(handle: IO[str]) -> None:
    """Hold an exclusive lock on the open file ``handle`` until it is closed; BlockingIOError if taken.

    ``fcntl`` is imported here, not at the top: it is POSIX-only, and ``grader check`` and ``grader pack``
    (which import this module through the CLI) must start on Windows too. There ``msvcrt`` locks instead.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            raise BlockingIOError(f"{handle.name} is locked") from None
        return
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


class Gradebook:
    """The output directory of a grading run; use as a context manager (closes the database)."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        if self.out.exists() and not self.out.is_dir():
            raise NotADirectoryError(f"{self.out} is a file, not a directory")
        for folder in (self.out, self.results_dir, self.feedback_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.out / LOCK_NAME, "a")  # noqa: SIM115  (held until close)
        try:
            _lock_exclusive(self._lock)
        except BlockingIOError:
            self._lock.close()
            raise GradebookBusy(f"another grader is writing to {self.out}; wait for it or choose another --out"
                                ) from None
        try:
            self.db = sqlite3.connect(self.out / DB_NAME, timeout=30.0, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=DELETE")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(submissions)")}
            if "sandbox" not in columns:  # a gradebook from before the sandbox was recorded
                self.db.execute("ALTER TABLE submissions ADD COLUMN sandbox TEXT NOT NULL DEFAULT ''")
        except BaseException:
            self._lock.close()
            raise
        self.remove_stale_temp_files()

    def remove_stale_temp_files(self) -> list[Path]:
        """Delete the temp files of an atomic write a killed run never finished (safe: we hold the lock)."""
        stale = [p for folder in (self.out, self.results_dir, self.feedback_dir) for p in folder.glob(".*.tmp")]
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    @property
    def results_dir(self) -> Path:
        return self.out / "results"

    @property
    def feedback_dir(self) -> Path:
        return self.out / "feedback"

    def close(self) -> None:
        self.db.close()
        self._lock.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record_of(self, student: str) -> GradeRecord | None:
        row = self.db.execute(f"SELECT {', '.join(f.name for f in fields(GradeRecord))} FROM submissions "
                              "WHERE student = ?", (student,)).fetchone()
        return GradeRecord(*row) if row else None

    def tests_of(self, student: str) -> list[TestResult]:
        rows = self.db.execute(f"SELECT {', '.join(TEST_COLUMNS)} FROM tests WHERE student = ? ORDER BY rowid",
                               (student,)).fetchall()
        return [TestResult.from_dict(dict(zip(TEST_COLUMNS, row))) for row in rows]

    def students(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT student FROM submissions ORDER BY student")]

    def is_current(self, student: str, content_hash: str, suite_hash: str, grader_version: str,
                   sandbox: str = "") -> bool:
        """True when the stored grade came from the same files, suite and grader, and its outputs exist.

        A grade made in a weaker sandbox tier than ``sandbox`` (this run's) is not current: regrading it
        where the runners are better confined is the point of having moved there.
        """
        from grader.jail.sandbox import rank

        record = self.record_of(student)
        return (record is not None and bool(content_hash) and record.status in FINAL_STATUSES
                and (record.content_hash, record.suite_hash, record.grader_version)
                == (content_hash, suite_hash, grader_version)
                and not (sandbox and record.sandbox and rank(record.sandbox) > rank(sandbox))
                and (self.results_dir / f"{student}.json").is_file()
                and (self.feedback_dir / f"{student}.md").is_file())

    def record(self, record: GradeRecord, results: Sequence[TestResult]) -> None:
        """Store one graded submission: its rows in one transaction, then its JSON, feedback and the CSV.

        Its old JSON and feedback go first, so a crash anywhere leaves either nothing or a consistent pair
        of rows and files for it; without its files it counts as not graded and a rerun grades it again.
        """
        student = check_student_id(record.student)
        extra = {"student": student, "status": record.status, "content_hash": record.content_hash,
                 "suite_hash": record.suite_hash, "grader_version": record.grader_version, "message": record.message,
                 "sandbox": record.sandbox}
        gradescope = gradescope_results(results, execution_time=record.duration, extra_data=extra,
                                        output=summary_text(results, status=record.status, message=record.message,
                                                            max_score=record.max_score))
        gradescope["score"] = round(record.score, 6)
        feedback = feedback_markdown(student, results, status=record.status, message=record.message,
                                     max_score=record.max_score)
        json_path, feedback_path = self.results_dir / f"{student}.json", self.feedback_dir / f"{student}.md"
        json_path.unlink(missing_ok=True)
        feedback_path.unlink(missing_ok=True)
        fsync_dir(self.results_dir)
        fsync_dir(self.feedback_dir)
        rows = [(student, *(getattr(r, c) for c in TEST_COLUMNS)) for r in results]
        columns = [f.name for f in fields(GradeRecord)]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("DELETE FROM tests WHERE student = ?", (student,))
            self.db.execute("DELETE FROM submissions WHERE student = ?", (student,))
            self.db.execute(f"INSERT INTO submissions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            astuple(record))
            self.db.executemany(f"INSERT INTO tests (student, {', '.join(TEST_COLUMNS)}) "
                                f"VALUES ({', '.join('?' * (len(TEST_COLUMNS) + 1))})", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        atomic_write_text(json_path, json.dumps(gradescope, indent=2) + "\n")
        atomic_write_text(feedback_path, feedback)
        self.write_csv()

    def csv_text(self) -> str:
        """grades.csv: student, one column per exercise, total, max_total, status."""
        points: dict[tuple[str, str], float] = {
            (student, exercise): value for student, exercise, value in
            self.db.execute("SELECT student, exercise, SUM(points) FROM tests GROUP BY student, exercise")}
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["student", *EXERCISES, "total", "max_total", "status"])
        for student, score, max_score, status in self.db.execute(
                "SELECT student, score, max_score, status FROM submissions ORDER BY student"):
            writer.writerow([student, *(num(points.get((student, e), 0.0)) for e in EXERCISES),
                             num(score), num(max_score), status])
        return buffer.getvalue()

    def write_csv(self) -> Path:
        path = self.out / CSV_NAME
        atomic_write_text(path, self.csv_text())
        return path

    def canvas_csv_text(self) -> str:
        """grades_canvas.csv (``grader.reports.canvas``): Canvas' gradebook import columns, from the database."""
        from grader.reports.canvas import canvas_csv

        points: dict[str, dict[str, float]] = {}
        for student, exercise, value in self.db.execute(
                "SELECT student, exercise, SUM(points) FROM tests GROUP BY student, exercise"):
            points.setdefault(student, {})[exercise] = value
        rows = [(student, score, points.get(student, {})) for student, score in
                self.db.execute("SELECT student, score FROM submissions ORDER BY student")]
        maxima = dict(WEIGHTS)  # the suite's own maxima where any test ran (--suite public: its points)
        for exercise, value in self.db.execute("SELECT exercise, MAX(total) FROM (SELECT student, exercise, "
                                               "SUM(max_points) AS total FROM tests GROUP BY student, exercise) "
                                               "GROUP BY exercise"):
            maxima[exercise] = value
        graded = self.db.execute("SELECT MAX(max_score) FROM submissions WHERE status = 'graded'").fetchone()[0]
        return canvas_csv(rows, max_total=graded if graded is not None else sum(WEIGHTS.values()), max_points=maxima)

    def write_canvas_csv(self) -> Path:
        from grader.reports.canvas import CANVAS_NAME

        path = self.out / CANVAS_NAME
        atomic_write_text(path, self.canvas_csv_text())
        return path
