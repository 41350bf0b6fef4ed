"""The gradebook with made-up results (no runner): storage, and what ``publish`` writes from it (CSV,
results.json schema, feedback)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from fake_results import result

import grader
from grader.host import gradebook as gb
from grader.host.gradebook import Gradebook
from grader.reports.gradescope import gradescope_results
from grader.reports.publish import publish
from grader.vocabulary import files
from grader.vocabulary.exercises import EXERCISES
from grader.vocabulary.files import atomic_write_text
from grader.vocabulary.results import GradeRecord, TestResult

SCHEMA = json.loads((Path(grader.__file__).parent / "schema" / "gradescope_results.schema.json").read_text())


RESULTS = [
    result("relu", "a", 2, 2),
    result("relu", "b", 0, 3, "failed", output="relu_forward output differs: largest error 1.0 at (0, 1)"),
    result("conv", "c", 0, 5, "error", output="not implemented yet: conv2d_forward", not_implemented=True),
    result("conv", "secret", 4, 4, visibility="hidden", output="hidden detail"),
    result("conv", "secret2", 0, 6, "timeout", visibility="hidden", output="timed out after 30 s"),
    result("pooling", "later", 3, 3, visibility="after_due_date", output="later detail"),
]


def record(student="alice", results=RESULTS, content="c1", suite="s1", version="v1", status="graded", message="",
           sandbox="bwrap"):
    return GradeRecord(student=student, content_hash=content, suite_hash=suite, grader_version=version,
                       status=status, score=sum(r.points for r in results),
                       max_score=sum(r.max_points for r in results) or 100.0, started="2025-01-01T00:00:00+00:00",
                       finished="2025-01-01T00:00:05+00:00", duration=5.0, message=message, sandbox=sandbox)


def save(book, rec, results):
    """Record one submission and publish the folder, as a batch of one does."""
    book.record(rec, results)
    publish(book.out, book.stored())


@pytest.fixture
def book(tmp_path):
    with Gradebook(tmp_path / "out") as opened:
        yield opened


def test_record_stores_rows_files_and_a_csv_row(book):
    save(book, record(), RESULTS)
    assert book.record_of("alice") == record()
    assert book.stored().tests_of("alice") == RESULTS
    assert (book.out / "results" / "alice.json").is_file() and (book.out / "feedback" / "alice.md").is_file()
    rows = list(csv.reader(io.StringIO((book.out / "grades.csv").read_text())))
    assert rows[0] == ["student", *EXERCISES, "total", "max_total", "status"]
    assert rows[1] == ["alice", "2", "4", "3", "0", "0", "9", "23", "graded"]


def test_a_new_grade_replaces_the_old_rows(book):
    save(book, record(), RESULTS)
    save(book, record(results=RESULTS[:1], content="c2"), RESULTS[:1])
    save(book, record("bob", RESULTS[:2]), RESULTS[:2])
    assert book.stored().tests_of("alice") == RESULTS[:1]
    assert book.db.execute("SELECT COUNT(*) FROM tests").fetchone()[0] == 3
    assert [r.student for r in book.stored().records] == ["alice", "bob"]
    assert [r[0] for r in csv.reader(io.StringIO((book.out / "grades.csv").read_text()))] == ["student", "alice", "bob"]


def test_a_failed_transaction_leaves_the_old_grade(book, monkeypatch):
    save(book, record(), RESULTS)
    old_csv = (book.out / "grades.csv").read_text()
    bad = [*RESULTS, replace(RESULTS[0], seed=2**80)]  # too large for SQLite: the insert fails midway
    with pytest.raises(OverflowError):
        save(book, record(content="c2"), bad)
    assert book.record_of("alice").content_hash == "c1"
    assert book.stored().tests_of("alice") == RESULTS
    assert (book.out / "grades.csv").read_text() == old_csv
    assert book.is_current("alice", "c1", "s1", "v1")  # the old grade stands (publish writes its files from it)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "grades.csv"
    atomic_write_text(target, "old\n")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]  # no temporary file left behind


def test_results_json_validates_against_the_schema(book):
    save(book, record(message="missing pooling.py"), RESULTS)
    data = json.loads((book.out / "results" / "alice.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["score"] == 9 and data["extra_data"]["content_hash"] == "c1"
    tests = {t["extra_data"]["nodeid"].split("::")[1]: t for t in data["tests"]}
    assert [tests[k]["status"] for k in ("a", "b", "c", "secret2")] == ["passed", "failed", "failed", "failed"]
    assert tests["c"]["output"].startswith("[not implemented yet]")
    assert tests["secret2"]["output"].startswith("[timeout]") and tests["secret2"]["visibility"] == "hidden"
    assert tests["a"]["tags"] == ["relu"] and tests["a"]["number"] == "1.1" and tests["c"]["number"] == "2.1"
    assert "missing pooling.py" in data["output"]


def test_the_schema_rejects_what_gradescope_would():
    good = gradescope_results(RESULTS)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert validator.is_valid(good)
    bad_status = json.loads(json.dumps(good))
    bad_status["tests"][0]["status"] = "error"
    no_score = {"tests": [{"name": "x"}]}
    assert not validator.is_valid(bad_status) and not validator.is_valid(no_score)
    assert not validator.is_valid({**good, "visibility": "sometimes"})
    assert validator.is_valid({"score": 1, "leaderboard": [{"name": "Time", "value": 1.5, "order": "asc"}]})


def test_feedback_respects_visibility(book):
    save(book, record(), RESULTS)
    text = (book.out / "feedback" / "alice.md").read_text()
    assert "relu b checks" in text and "largest error 1.0 at (0, 1)" in text  # visible: name and output
    assert "not implemented yet" in text
    assert "secret" not in text and "hidden detail" not in text and "timed out" not in text
    assert "hidden tests: 1 of 2 passed, 4 / 10 points" in text  # hidden: a name-less total
    assert "pooling later checks" not in text and "later detail" not in text  # after_due_date: counted only
    assert "1 more tests (3 points): released after the due date" in text
    assert "Score: **6 / 20** (+ 3 points in tests released later)" in text


def test_feedback_of_an_ungraded_submission_says_why(book):
    save(book, record("eve", [], status="bad_archive", message="member '../x' climbs out"), [])
    text = (book.out / "feedback" / "eve.md").read_text()
    assert "Not graded (bad_archive)" in text and "climbs out" in text


def test_is_current_only_for_the_same_files_suite_and_grader(book):
    save(book, record(), RESULTS)
    assert book.is_current("alice", "c1", "s1", "v1")
    assert not book.is_current("alice", "c2", "s1", "v1")
    assert not book.is_current("alice", "c1", "s2", "v1")
    assert not book.is_current("alice", "c1", "s1", "v2")
    assert not book.is_current("bob", "c1", "s1", "v1")
    save(book, record(status="error", message="the judge wrote no results"), [])
    assert not book.is_current("alice", "c1", "s1", "v1")  # the grader's own failure is retried


def test_a_grade_made_without_the_sandbox_is_redone_once_there_is_one(book):
    save(book, record(sandbox="rlimits-only"), RESULTS)
    assert book.is_current("alice", "c1", "s1", "v1", "rlimits-only")
    assert not book.is_current("alice", "c1", "s1", "v1", "bwrap")
    save(book, record(sandbox="bwrap"), RESULTS)
    assert all(book.is_current("alice", "c1", "s1", "v1", mode) for mode in ("bwrap", "rlimits-only"))
    save(book, record("eve", [], status="bad_archive", sandbox=""), [])  # never ran: nothing to redo
    assert book.is_current("eve", "c1", "s1", "v1", "bwrap")
    assert json.loads((book.out / "results" / "alice.json").read_text())["extra_data"]["sandbox"] == "bwrap"


def test_the_database_is_crash_safe_and_single_writer(book, tmp_path):
    assert book.db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert book.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with pytest.raises(gb.GradebookBusy, match="another grader is writing to"):
        Gradebook(book.out)


def test_temp_files_of_a_killed_run_are_removed_on_open(tmp_path):
    with Gradebook(tmp_path / "out") as first:
        save(first, record(), RESULTS)
    stale = [tmp_path / "out" / ".grades.csv.abc123.tmp", tmp_path / "out" / "results" / ".alice.json.x1.tmp",
             tmp_path / "out" / "feedback" / ".alice.md.y2.tmp"]
    for path in stale:
        path.write_text("half a fi")
    with Gradebook(tmp_path / "out") as second:
        assert not any(path.exists() for path in stale)
        assert second.stored().tests_of("alice") == RESULTS and second.is_current("alice", "c1", "s1", "v1")


def test_an_old_gradebook_without_the_sandbox_column_is_upgraded(tmp_path):
    (tmp_path / "out").mkdir()
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        db.executescript(gb.SCHEMA.replace(",\n    sandbox TEXT NOT NULL DEFAULT ''", ""))
        db.execute("INSERT INTO submissions VALUES ('bob', 'c1', 's1', 'v1', 'graded', 1, 1, 't0', 't1', 1.0, '')")
    db.close()
    with Gradebook(tmp_path / "out") as book:
        assert book.record_of("bob").sandbox == ""
        save(book, record(), RESULTS)
        assert book.record_of("alice") == record()


@pytest.mark.parametrize("bad", ["../x", "a/b", ".hidden", "", "x" * 200, "tab\there"])
def test_unsafe_student_ids_are_refused(book, bad):
    with pytest.raises(ValueError, match="not usable as a file name"):
        save(book, record(bad, []), [])


def test_an_out_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(NotADirectoryError, match="is a file"):
        Gradebook(tmp_path / "f")



def test_test_results_round_trip_and_bad_ones_are_named():
    for r in RESULTS:
        assert TestResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    data = RESULTS[0].to_dict()
    with pytest.raises(ValueError, match=r"^test result 'visible/test_relu.py::a' lacks status, seed$"):
        TestResult.from_dict({k: v for k, v in data.items() if k not in ("status", "seed")})
    with pytest.raises(ValueError, match="status 'exploded' is not one of passed, failed"):
        TestResult.from_dict({**data, "status": "exploded"})
    with pytest.raises(ValueError, match=r"points 3.0 not within 0\.\.2.0"):
        TestResult.from_dict({**data, "points": 3})
    with pytest.raises(ValueError, match="must be a JSON object"):
        TestResult.from_dict(["not", "a", "dict"])


def test_untrusted_output_cannot_break_out_of_its_code_block(book):
    sneaky = result("relu", "x", 0, 1, "failed", output="```\n# Full marks\n````")
    save(book, record("zed", [sneaky]), [sneaky])
    text = (book.out / "feedback" / "zed.md").read_text()
    assert "  `````text\n  ```\n  # Full marks\n  ````\n  `````" in text


def test_tampered_and_out_of_memory_read_well_everywhere(book):
    tampered = result("conv", "liar", 0, 2, "tampered", output="returned an object pretending to be an array")
    oom = result("conv", "hog", 0, 3, "out_of_memory", output="")
    save(book, record("tim", [tampered, oom]), [tampered, oom])
    assert [r.status for r in book.stored().tests_of("tim")] == ["tampered", "out_of_memory"]
    data = json.loads((book.out / "results" / "tim.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert [(t["status"], t["output"], t["extra_data"]["status"]) for t in data["tests"]] == [
        ("failed", "[tampered]\nreturned an object pretending to be an array", "tampered"),
        ("failed", "[out of memory]", "out_of_memory")]
    feedback = (book.out / "feedback" / "tim.md").read_text()
    assert "- **tampered** — conv liar checks (0 / 2)" in feedback
    assert "returned an object pretending to be an array" in feedback
    assert "- **out of memory** — conv hog checks (0 / 3)" in feedback
    for status in ("tampered", "out_of_memory"):
        assert TestResult.from_dict({**tampered.to_dict(), "status": status}).status == status
