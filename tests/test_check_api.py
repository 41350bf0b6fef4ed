"""``from grader import check``: the public check from Python (a notebook cell), one implementation with the CLI."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fake_results import result
from kit_copies import reference_submission, run_cli, stub_copy

import grader
from grader.student.check import CheckError, CheckReport
from grader.student.check_html import check_html


class _Text(HTMLParser):
    """The text of an HTML fragment, and whether its tags balance."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "td", "th", "p", "h4", "tr"):
            self.parts.append(" ")  # where a reader sees a break
        if tag != "br":
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"

    def handle_data(self, data):
        self.parts.append(data)


def text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    assert parser.open == [], f"unclosed tags: {parser.open}"
    return re.sub(r"\s+", " ", "".join(parser.parts))


def test_check_on_the_stubs_matches_the_command_line(tmp_path, capsys):
    stubs = stub_copy(tmp_path / "stubs")
    report = grader.check("relu", "pooling", dir=stubs)
    assert isinstance(report, CheckReport) and not report.passed and report.exercises == ("relu", "pooling")
    code, out, _ = run_cli(["check", "pooling", "relu", "--dir", stubs], capsys)
    assert code == 1 and out == report.text() + "\n" == str(report) + "\n" == repr(report) + "\n"
    html = text_of(report._repr_html_())
    assert "ReLU (relu): 0/4 tests passed, 0/2 points [not implemented yet]" in html
    assert html.count("first failure: ") == 2 and "hint: write it: replace the `raise NotImplementedError`" in html
    assert html.count("TODO") == len(report.results) and "public 0/6 points; 24 more points in hidden tests" in html


def test_check_of_a_correct_submission_passes(tmp_path):
    report = grader.check(["softmax_ce"], dir=reference_submission(tmp_path / "exercises"))
    assert report.passed and report.points == report.max_points == 3 and report.hidden_points == 12
    data = report.to_json()
    assert data["passed"] and list(data["exercises"]) == ["softmax_ce"] and data["hidden_points"] == 12
    html = text_of(report._repr_html_())
    assert "[all passed]" in html and "first failure" not in html and "PASS" in html


def test_bad_arguments_are_one_line_errors_that_speak_python(tmp_path):
    for call, expected in [
        (lambda: grader.check("convolution"), "unknown exercise 'convolution'; valid: relu, conv"),
        (lambda: grader.check(dir=tmp_path / "missing"), "no exercises folder at"),
        (lambda: grader.check(dir=tmp_path), "holds none of relu.py"),
        (lambda: grader.check("relu", test_timeout=0), "test_timeout must be a positive number"),
    ]:
        with pytest.raises(CheckError) as caught:
            call()
        assert expected in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ValueError, match=r"use dir=\)$"):
        grader.check(dir=tmp_path / "missing")


def test_the_html_escapes_what_student_code_printed_and_shows_every_status():
    statuses = ["passed", "failed", "error", "timeout", "crash", "tampered", "out_of_memory"]
    results = [result("conv", f"t{i}", points=1.0 if s == "passed" else 0.0, status=s,
                      output="" if s == "passed" else "<script>alert(1)</script> & more")
               for i, s in enumerate(statuses)]
    report = CheckReport(Path("exercises"), ("conv", "relu"), {"conv": (results, ""), "relu": ([], "judge died")})
    html = check_html(report)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    text = text_of(html)
    for badge in ("PASS", "FAIL", "ERROR", "TIME", "CRASH", "TAMPER", "MEMORY"):
        assert f" {badge} " in f" {text} "
    assert "could not run the public tests: judge died" in text
    assert "first failure: <script>alert(1)</script> & more hint: wrong result" in text
    assert "public 1/7 points; 38 more points in hidden tests, graded later" in text


def test_a_problem_is_shown_by_its_first_real_line_in_text_and_html_alike():
    report = CheckReport(Path("exercises"), ("relu", "pooling"),
                         {"relu": ([], "\n   \njudge died: no pytest\nsecond line"), "pooling": ([], " \n\t")})
    text, html = report.text(), text_of(check_html(report))
    for shown in (text, html):
        assert "could not run the public tests: judge died: no pytest" in shown and "second line" not in shown
    # a blank problem is still a problem: said, with nothing after the colon, and no crash
    assert text.count("could not run the public tests:") == html.count("could not run the public tests:") == 2
    assert "public 0/0 points; 30 more points in hidden tests, graded later" in text
    assert "public 0/0 points; 30 more points in hidden tests, graded later" in html
