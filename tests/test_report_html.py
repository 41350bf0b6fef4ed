"""``report.html`` from a real ``grader grade`` run: charts, tables, escaping, no remote resources, a browser."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from kit_copies import reference_submission

from grader.host.gradebook import Gradebook, read
from grader.instructor.mutants import RELU_OUT
from grader.reports import charts
from grader.reports.html import _problem, write_report
from grader.vocabulary.exercises import EXERCISE_FILES, EXERCISES
from grader.vocabulary.results import TestStatus

KIT = Path(__file__).resolve().parent.parent
PAYLOAD = "<script>document.body.setAttribute('data-pwned','1')</script>"
EVIL_ID = '<img src=x onerror="document.body.setAttribute(\'data-pwned\',\'2\')">'
_spec = importlib.util.spec_from_file_location("report_screenshot", KIT / "scripts" / "report_screenshot.py")
report_screenshot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report_screenshot)


class Page(HTMLParser):
    """Every element as (tag, attrs, enclosing tags), all text, and the bodies of ``<script>`` elements."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "source", "wbr"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], tuple[str, ...]]] = []
        self.stack: list[str] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}, tuple(self.stack)))
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "script":
            self.scripts.append("")

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}, tuple(self.stack)))

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "script":
            self.scripts[-1] += data
        self.text.append(data)


def written_report(out: Path) -> Path:
    """report.html written from ``out``'s gradebook, as ``grader grade`` does after a batch."""
    return write_report(out, read(out))

def _tables(html: str, section_id: str) -> list[list[list[str]]]:
    block = re.search(rf'<section id="{section_id}">(.*?)</section>', html, re.S)
    assert block, section_id
    tables = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", block[1], re.S):
        rows = []
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            rows.append([_text(c) for c in cells])
        tables.append(rows)
    return tables


def _text(fragment: str) -> str:
    page = Page(f"<div>{fragment}</div>")
    return "".join(page.text).strip()


def stub_copy(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in EXERCISE_FILES:
        shutil.copy(KIT / "exercises" / name, dest / name)
    return dest


def buggy_copy(dest: Path) -> Path:
    """The reference with a wrong relu_forward (x itself) and a relu_backward that raises with markup."""
    reference_submission(dest)
    relu = dest / "relu.py"
    source = relu.read_text()
    source = source.replace(RELU_OUT, "return x.copy(), positive")
    source = source.replace("    positive = cache\n", f"    raise ValueError({PAYLOAD!r})\n")
    assert source.count("x.copy()") == 1 and PAYLOAD in source
    relu.write_text(source)
    return dest


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """alice: the reference (100); bob: relu broken (90); carol: the stubs (0); dave.zip: a bad archive."""
    tmp = tmp_path_factory.mktemp("report")
    inputs = [reference_submission(tmp / "in" / "alice"), buggy_copy(tmp / "in" / "bob"),
              stub_copy(tmp / "in" / "carol"), tmp / "in" / "dave.zip"]
    with zipfile.ZipFile(inputs[-1], "w") as archive:
        archive.writestr("relu.py", "x = 1\n")
        archive.writestr("../escape.py", "import os\n")
    done = subprocess.run([sys.executable, "-m", "grader", "grade", *map(str, inputs), "--out", str(tmp / "out"),
                           "--jobs", "2"], cwd=KIT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp / "out"


@pytest.fixture
def report(graded, tmp_path) -> tuple[Path, str]:
    out = shutil.copytree(graded, tmp_path / "out")
    path = written_report(out)
    return path, path.read_text(encoding="utf-8")


def test_writes_report_html_atomically(report):
    path, html = report
    assert path.name == "report.html" and html.startswith("<!DOCTYPE html>")
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert "minigrad-kit · grading report" in html


def test_the_histogram_has_a_bar_per_10_point_bin_with_its_count(report):
    page = Page(report[1])
    bars = [attrs for tag, attrs, _ in page.elements if tag == "rect" and attrs.get("class") == "bar"
            and "data-bin" in attrs]
    assert [attrs["data-bin"] for attrs in bars] == [f"{i}-{i + 10}" for i in range(0, 100, 10)]
    assert [int(attrs["data-count"]) for attrs in bars] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 2]  # carol, dave 0; bob 90
    assert [float(attrs["height"]) > 0 for attrs in bars] == [True] + [False] * 8 + [True]
    histogram = re.search(r'<svg class="chart histogram".*?</svg>', report[1], re.S)[0]
    assert "total score (points out of 100)" in histogram and ">submissions</text>" in histogram


def test_the_exercise_table_has_a_row_per_exercise_in_course_order(report):
    rows = _tables(report[1], "exercises")[0]
    assert [row[0].split()[-1] for row in rows] == list(EXERCISES)
    by_name = {row[0].split()[-1]: row for row in rows}
    assert by_name["relu"][1:] == ["33%", "3.33 / 10", "1", "1"]  # bob loses relu, carol never started
    assert by_name["conv"][1:] == ["67%", "23.33 / 35", "2", "1"]
    chart = re.search(r'<svg class="chart bars".*?</svg>', report[1], re.S)[0]
    assert re.findall(r'data-label="([^"]+)" data-value="([\d.]+)"', chart)[0] == ("ReLU", "0.3333")


def test_tests_are_listed_worst_first_with_their_statuses(report):
    rows = _tables(report[1], "tests")[0]
    rates = [int(row[3].rstrip("%")) for row in rows]
    assert rates == sorted(rates) and rates[0] == 33
    assert rows[0][1] == "relu" and rows[0][2] in ("visible", "hidden")
    assert any(row[4] == "1 passed · 2 error (1 todo)" for row in rows)


def test_failing_slowest_and_status_tables(report):
    html = report[1]
    failing = {row[0]: row for row in _tables(html, "failing")[0]}
    assert set(failing) == {"carol", "dave"}
    assert failing["dave"][1] == "bad_archive" and "climbs out of the archive" in failing["dave"][3]
    assert failing["carol"][3].startswith("not implemented yet")
    assert sorted(row[0] for row in _tables(html, "slowest")[0]) == ["alice", "bob", "carol", "dave"]
    tests, submissions = _tables(html, "statuses")
    assert [row[0] for row in tests][:7] == ["passed", "failed", "error", "timeout", "crash", "tampered",
                                             "out of memory"]
    assert ["bad archive", "1", "dave"] in submissions and ["graded", "3", ""] in submissions


def test_integrity_signals_from_the_graders_integrity_json(report):
    path, html = report
    if not (path.parent / "integrity.json").is_file():
        pytest.skip("this grader writes no integrity.json")
    pairs = _tables(html, "integrity")[-1]
    assert '<p class="empty">no flags</p>' in html
    assert pairs[0][:2] == ["alice", "bob"] and float(pairs[0][2]) > 0.9  # bob is alice's code, relu edited
    assert "of 3 submissions flagged" in html and "never a penalty" in html


def _attack(out: Path) -> None:
    """A student id and outputs full of markup, written straight into the gradebook and integrity.json."""
    db = sqlite3.connect(out / "gradebook.sqlite")
    with db:
        row = db.execute("SELECT * FROM submissions WHERE student = 'bob'").fetchone()
        db.execute(f"INSERT INTO submissions VALUES ({', '.join('?' * len(row))})",
                   (EVIL_ID, *row[1:4], "bad_source", 0.0, 100.0, *row[7:10], PAYLOAD, *row[11:]))
        test = db.execute("SELECT * FROM tests WHERE student = 'bob' LIMIT 1").fetchone()
        db.execute(f"INSERT INTO tests VALUES ({', '.join('?' * len(test))})", (EVIL_ID, *test[1:6], "failed",
                                                                                 PAYLOAD + '"', *test[8:]))
    db.close()
    (out / "integrity.json").write_text(json.dumps({
        "format": "minigrad-kit-integrity/1", "notice": PAYLOAD, "kinds": {PAYLOAD: '"><script>x()</script>'},
        "students": {EVIL_ID: {"flags": [{"kind": PAYLOAD, "file": "relu.py", "line": 3, "detail": EVIL_ID}]}},
        "similarity": {"pairs": [{"a": EVIL_ID, "b": "bob", "score": 0.9, "shared": 12,
                                  "files": {PAYLOAD: {"score": 0.9, "shared": 12, "matches": []}}},
                                 {"a": "alice", "b": "bob", "score": 0.95, "shared": 30, "files": {}}]}}))


def test_student_text_is_escaped_everywhere(report):
    out = report[0].parent
    _attack(out)
    html = written_report(out).read_text(encoding="utf-8")
    page = Page(html)
    assert [tag for tag, *_ in page.elements].count("script") == 1 and "data-pwned" not in page.scripts[0]
    assert not [tag for tag, *_ in page.elements if tag == "img"]
    assert not [(tag, k) for tag, attrs, _ in page.elements for k in attrs if k.startswith("on")]
    text = "".join(page.text)
    assert text.count(PAYLOAD) >= 4 and EVIL_ID in text  # shown as text: tests, failing, flags, pairs, roster
    pairs = _tables(html, "integrity")[1]
    assert [row[:3] for row in pairs] == [["alice", "bob", "0.95"], [EVIL_ID, "bob", "0.90"]]


def test_nothing_is_fetched_from_anywhere(report):
    html = report[1]
    page = Page(html)
    for tag, attrs, _ in page.elements:
        for name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
            value = attrs.get(name, "").strip().lower()
            assert not value or value.startswith("#"), (tag, name, value)  # only in-page anchors
    assert not [tag for tag, *_ in page.elements if tag in ("link", "iframe", "object", "embed", "img", "image")]
    assert "url(" not in html and "@import" not in html
    csp = next(attrs["content"] for tag, attrs, _ in page.elements if attrs.get("http-equiv") ==
               "Content-Security-Policy")
    assert csp.startswith("default-src 'none';") and "unsafe-inline" not in csp
    assert re.findall(r"https?://[^\s\"'<]*", html) == ["http://www.w3.org/2000/svg"] * html.count("<svg ")


def test_integrity_json_broken_or_absent(graded, tmp_path):
    out = shutil.copytree(graded, tmp_path / "out")
    (out / "integrity.json").write_text("{not json")
    assert "integrity.json could not be read" in written_report(out).read_text()
    (out / "integrity.json").unlink()
    assert "No integrity.json in this folder." in written_report(out).read_text()
    with pytest.raises(FileNotFoundError, match="no gradebook"):
        written_report(tmp_path)


def test_an_empty_gradebook_gives_a_report(tmp_path):
    Gradebook(tmp_path).close()
    html = written_report(tmp_path).read_text()
    assert "<h2>Total scores</h2>" in html and html.count('data-count="0"') == 10 and "not recorded" in html


def test_a_failing_submissions_problem_is_its_message_else_its_first_real_failure():
    stub = {"status": TestStatus.FAILED, "output": "", "not_implemented": True}
    real = {"status": TestStatus.FAILED, "output": "\n  AssertionError: shape (2, 3) != (3, 2)\n"}
    crashed = {"status": TestStatus.ERROR, "output": "   \n"}
    assert _problem({"message": "timed out after 300 s\nmore"}, [real]) == "timed out after 300 s"
    assert _problem({"message": ""}, [stub, real]) == "AssertionError: shape (2, 3) != (3, 2)"
    assert _problem({"message": None}, [crashed]) == "error"
    # a blank message is no message: neither it nor a lack of real failures may hide what is there
    assert _problem({"message": " \n\t"}, [stub, stub]) == "not implemented yet (2 tests)"
    assert _problem({"message": " \n"}, [real]) == "AssertionError: shape (2, 3) != (3, 2)"
    assert _problem({"message": " "}, []) == ""


def test_svg_helpers():
    assert charts.nice_ticks(0) == [0, 1] and charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(99)[-1] == 100
    with pytest.raises(ValueError, match="one more"):
        charts.histogram([1, 2], [0, 10], title="t", x_label="x")
    chart = charts.bar_chart([charts.Bar("<b>", 1.5, "150%")], title="<t>", x_label="x")
    assert "<b>" not in chart and "&lt;b&gt;" in chart and 'data-value="1.0000"' in chart


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
def test_a_headless_browser_renders_it_and_runs_no_student_script(report, tmp_path):
    if report_screenshot.find_chromium() is None:
        pytest.skip("no chromium (apt-get install chromium; CI: add it to .ci/run's apt_packages)")
    out = report[0].parent
    _attack(out)
    html = written_report(out)
    done = report_screenshot.run_chromium(html, "--dump-dom")
    dom = done.stdout
    assert done.returncode == 0 and "<svg" in dom, done.stderr[-2000:]
    for expected in ("Total scores", "Exercises", "Failing submissions", "Tests, worst first", "Residual block",
                     "bad archive", "alice"):
        assert expected in dom, expected
    assert not re.search(r"<body[^>]*data-pwned", dom)  # neither the script nor the onerror ran
    assert re.search(r'<html[^>]*data-sorting="on"', dom)  # while the CSP let the page's own sorter run
    png = report_screenshot.screenshot(html, tmp_path / "shot.png")
    assert _png_size(png) == (1200, 1600) and png.stat().st_size > 20_000
    assert report_screenshot.main([str(out), str(tmp_path / "again.png")]) == 0


def test_the_roster_says_which_sandbox_tier_each_submission_ran_in(report):
    from grader.jail import sandbox

    _, html = report
    (roster,) = _tables(html, "roster")
    tiers = {row[0]: row[-1] for row in roster}
    assert tiers["dave"] == "–"  # a bad archive: its code never ran
    assert {tiers[s] for s in ("alice", "bob", "carol")} == {sandbox.decide().tier}
