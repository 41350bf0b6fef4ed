"""The ``grader check`` table as HTML, for a notebook cell: what :meth:`CheckReport._repr_html_` shows.

The same content as the text table (``grader.reports.text.check_table``): per exercise the tests with
their status and points, the first failure in one line with a hint, then the public/hidden split.
Inline styles only (notebook front ends drop ``<style>`` blocks from untrusted outputs), and every
piece of text escaped: test output carries the student's own error messages.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from grader.reports.text import TAGS, check_summary, failure_line, first_line, hint, num, progress
from grader.vocabulary.exercises import TITLES
from grader.vocabulary.results import TestResult, TestStatus

if TYPE_CHECKING:
    from grader.student.check import CheckReport

#: status -> colour of its badge (the text table's tag)
COLORS = {TestStatus.PASSED: "#1a7f37", TestStatus.TIMEOUT: "#bc4c00", TestStatus.TAMPERED: "#8250df",
          TestStatus.OUT_OF_MEMORY: "#bc4c00"}  # else red
TODO = ("TODO", "#6e7781")
CELL = "padding:2px 8px;text-align:left;border-bottom:1px solid #d0d7de;"


def _badge(result: TestResult) -> str:
    label, colour = TODO if result.not_implemented else (TAGS[result.status], COLORS.get(result.status, "#cf222e"))
    return (f'<span style="display:inline-block;min-width:4.5em;text-align:center;color:#fff;background:{colour};'
            f'border-radius:3px;font-size:85%;font-weight:600">{escape(label)}</span>')


def _exercise(name: str, results: list[TestResult], problem: str, report: CheckReport) -> str:
    total = report.totals[name]
    marker = progress(total)
    title = (f"{escape(TITLES.get(name, name))} <code>({escape(name)})</code>: {total.passed}/{total.total} tests "
             f"passed, {num(total.points)}/{num(total.max_points)} points"
             + (f' <em style="color:#6e7781">[{escape(marker)}]</em>' if marker else ""))
    parts = [f'<h4 style="margin:0.8em 0 0.3em 0">{title}</h4>']
    if problem:
        parts.append(f"<p>could not run the public tests: {escape(first_line(problem))}</p>")
    if not results and not problem:
        parts.append("<p>no public tests for this exercise</p>")
    if results:
        rows = "".join(f'<tr><td style="{CELL}">{_badge(r)}</td><td style="{CELL}"><code>{escape(r.name)}</code></td>'
                       f'<td style="{CELL}text-align:right">{num(r.points)}/{num(r.max_points)}</td></tr>'
                       for r in results)
        parts.append(f'<table style="border-collapse:collapse;margin:0"><thead><tr><th style="{CELL}">status</th>'
                     f'<th style="{CELL}">test</th><th style="{CELL}text-align:right">points</th></tr></thead>'
                     f"<tbody>{rows}</tbody></table>")
    first = next((r for r in results if not r.passed), None)
    if first is not None:
        parts.append(f'<p style="margin:0.4em 0"><b>first failure:</b> <code>{escape(failure_line(first))}</code>'
                     f"<br><b>hint:</b> {escape(hint(first))}</p>")
    return "".join(parts)


def check_html(report: CheckReport) -> str:
    """The whole report as one HTML fragment."""
    blocks = [_exercise(name, *report.runs[name], report) for name in report.exercises]
    colour = "#1a7f37" if report.passed else "#cf222e"
    summary = (f'<p style="margin:0.8em 0 0 0;font-weight:600;color:{colour}">'
               f"{escape(check_summary(report.points, report.max_points, report.hidden_points))}</p>")
    return (f'<div class="grader-check"><p style="color:#6e7781;margin:0">grader check: public tests on '
            f"<code>{escape(str(report.folder))}</code></p>" + "".join(blocks) + summary + "</div>")
