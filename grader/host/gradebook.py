"""The gradebook of a ``grader grade --out DIR``: ``DIR/gradebook.sqlite``, the truth every report is
made from (``grader.reports.publish`` writes the grades CSVs, results JSON and feedback from it).

    submissions   one row per student: how its grading ended (``GradeRecord``)
    tests         one row per test result (``TestResult``)

Crash safety (a ``kill -9`` at any point, then the same command again, ends as an uninterrupted run):
rollback-journal mode with ``synchronous=FULL`` (a killed transaction is rolled back when the database is
next opened; the journal also works on network file systems), one transaction per submission (old rows
out, new in). An exclusive lock on ``DIR/.grader.lock`` keeps a second grader out of the same folder;
holding it, the gradebook removes the temp files a killed run's atomic writes left behind.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import astuple, fields
from pathlib import Path
from typing import IO

from grader.vocabulary.files import TEMP_GLOB
from grader.vocabulary.results import GradeRecord, Stored, TestResult

DB_NAME, LOCK_NAME = "gradebook.sqlite", ".grader.lock"
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
RECORD_COLUMNS = tuple(f.name for f in fields(GradeRecord))
TEST_COLUMNS = tuple(f.name for f in fields(TestResult))


class GradebookBusy(RuntimeError):
    """Another grader holds the gradebook's lock."""


def check_student_id(student: str) -> str:
    """``student`` if it is safe as a file name (letters, digits, ``_.@+-`` and spaces), else ValueError."""
    if not STUDENT_ID.match(student) or student.endswith((" ", ".")):
        raise ValueError(f"student id {student!r} is not usable as a file name (letters, digits, _.@+- and spaces)")
    return student


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
        self.out.mkdir(parents=True, exist_ok=True)
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

    def remove_stale_temp_files(self) -> None:
        """Delete the temp files of an atomic write a killed run never finished (safe: we hold the lock)."""
        folders = [self.out, *(p for p in self.out.iterdir() if p.is_dir())]
        for path in [p for folder in folders for p in folder.glob(TEMP_GLOB) if p.is_file()]:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        self.db.close()
        self._lock.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record_of(self, student: str) -> GradeRecord | None:
        records = _records(self.db, "WHERE student = ?", (student,))
        return records[0] if records else None

    def stored(self) -> Stored:
        return _stored(self.db)

    def is_current(self, student: str, content_hash: str, suite_hash: str, grader_version: str,
                   sandbox: str = "") -> bool:
        """True when the stored grade came from the same files, suite and grader.

        A grade made in a weaker sandbox tier than ``sandbox`` (this run's) is not current: regrading it
        where the runners are better confined is the point of having moved there.
        """
        from grader.jail.sandbox import rank

        record = self.record_of(student)
        return (record is not None and bool(content_hash) and record.status.final
                and (record.content_hash, record.suite_hash, record.grader_version)
                == (content_hash, suite_hash, grader_version)
                and not (sandbox and record.sandbox and rank(record.sandbox) > rank(sandbox)))

    def record(self, record: GradeRecord, results: Sequence[TestResult]) -> None:
        """Store one graded submission, replacing its old rows, in one transaction."""
        student = check_student_id(record.student)
        rows = [(student, *astuple(r)) for r in results]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("DELETE FROM tests WHERE student = ?", (student,))
            self.db.execute("DELETE FROM submissions WHERE student = ?", (student,))
            self.db.execute(f"INSERT INTO submissions ({', '.join(RECORD_COLUMNS)}) "
                            f"VALUES ({', '.join('?' * len(RECORD_COLUMNS))})", astuple(record))
            self.db.executemany(f"INSERT INTO tests (student, {', '.join(TEST_COLUMNS)}) "
                                f"VALUES ({', '.join('?' * (len(TEST_COLUMNS) + 1))})", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise


def read(out: Path) -> Stored:
    """The gradebook in ``out``, read-only and without the lock (reports of a finished run)."""
    path = Path(out) / DB_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no gradebook at {path}")
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)) as db:
        return _stored(db)


def _records(db: sqlite3.Connection, where: str = "", args: tuple = ()) -> list[GradeRecord]:
    rows = db.execute(f"SELECT {', '.join(RECORD_COLUMNS)} FROM submissions {where} ORDER BY student", args)
    return [GradeRecord(*row) for row in rows]


def _stored(db: sqlite3.Connection) -> Stored:
    rows = db.execute(f"SELECT student, {', '.join(TEST_COLUMNS)} FROM tests ORDER BY rowid")
    return Stored(_records(db), [(row[0], TestResult.from_dict(dict(zip(TEST_COLUMNS, row[1:])))) for row in rows])
