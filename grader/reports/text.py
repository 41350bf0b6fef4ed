"""Text for people: the ``grader check`` table and the per-student feedback markdown."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from grader.vocabulary.exercises import TITLES
from grader.vocabulary.results import (
    NOT_IMPLEMENTED,
    ExerciseTotal,
    SubmissionStatus,
    TestResult,
    TestStatus,
    Visibility,
    by_exercise,
    order_results,
    status_label,
)

TAGS = {TestStatus.PASSED: "PASS", TestStatus.FAILED: "FAIL", TestStatus.ERROR: "ERROR", TestStatus.TIMEOUT: "TIME",
        TestStatus.CRASH: "CRASH", TestStatus.TAMPERED: "TAMPER", TestStatus.OUT_OF_MEMORY: "MEMORY"}
TAG_WIDTH = 6
NAME_WIDTH = 64
DEFERRED = {Visibility.AFTER_DUE_DATE: "released after the due date",
            Visibility.AFTER_PUBLISHED: "released when grades are published"}
#: what a student reads for each way a test can fail (a wrong value: the fallback)
HINTS = {
    TestStatus.TIMEOUT: "too slow or stuck: look for an endless loop, and vectorise loops over pixels with array "
                        "operations",
    TestStatus.OUT_OF_MEMORY: "your code ran out of memory: look for a huge intermediate array, or one made per pixel "
                              "or per call",
    TestStatus.CRASH: "the process running your code died: a huge array (memory limit) or endless recursion?",
    TestStatus.TAMPERED: "return plain numpy arrays and numbers: objects that imitate them (subclasses, fake __eq__) "
                         "score 0",
    TestStatus.ERROR: "your code raised an exception: call it yourself on a small input and read the traceback",
}


def num(value: float) -> str:
    """Points as people write them: 2, 0.5, 12.25."""
    return f"{round(value, 4):g}"


def _short(name: str, width: int = NAME_WIDTH) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def first_line(text: str, limit: int = 140) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters."""
    return _short(next((ln.strip() for ln in text.splitlines() if ln.strip()), ""), limit)


def hint(result: TestResult) -> str:
    """What to try next for a failing test, by how it failed."""
    if result.not_implemented:
        return f"write it: replace the `raise NotImplementedError` in exercises/{result.exercise}.py"
    return HINTS.get(result.status, "wrong result: check shapes and dtypes first, then values on an input small "
                                    "enough to do by hand")


def _tag(result: TestResult) -> str:
    return "TODO" if result.not_implemented else TAGS[result.status]


def failure_line(result: TestResult, limit: int = 110) -> str:
    """A failing test's first output line, led by its status where the output alone would not say it
    ("tampered: returned an object pretending to be an array", "out of memory")."""
    line = first_line(result.output, limit)
    label = status_label(result)
    if result.status in (TestStatus.TAMPERED, TestStatus.OUT_OF_MEMORY) and not line.lower().startswith(label):
        line = f"{label}: {line}" if line else label
    return first_line(line, limit) or label


def check_table(exercise: str, results: Sequence[TestResult], problem: str = "") -> str:
    """One exercise's block of the ``grader check`` output: a row per test, then the first failure and a hint."""
    total = by_exercise(results, [exercise])[exercise]
    marker = f"  [{word}]" if (word := progress(total)) else ""
    lines = [f"{TITLES.get(exercise, exercise)} ({exercise}): {total.passed}/{total.total} tests passed, "
             f"{num(total.points)}/{num(total.max_points)} points{marker}"]
    if problem:
        lines.append(f"  could not run the public tests: {first_line(problem)}")
    if not results and not problem:
        lines.append("  no public tests for this exercise")
    lines += [f"  {_tag(r):<{TAG_WIDTH}} {_short(r.name):<{NAME_WIDTH}} {num(r.points) + '/' + num(r.max_points):>9}"
              for r in results]
    first = next((r for r in results if not r.passed), None)
    if first is not None:
        lines += [f"  first failure: {failure_line(first)}", f"  hint: {hint(first)}"]
    return "\n".join(lines)


def progress(total: ExerciseTotal) -> str:
    """The word after an exercise's heading in ``grader check``: not implemented yet, all passed, or none."""
    return NOT_IMPLEMENTED if total.not_implemented else ("all passed" if total.complete else "")


def check_summary(public_points: float, public_max: float, hidden: float) -> str:
    """The closing line: public points, and how many more (``hidden``) the hidden tests hold."""
    return (f"public {num(public_points)}/{num(public_max)} points; {num(hidden)} more points in hidden tests, "
            "graded later")


def _fence(text: str) -> str:
    """``text`` in a code fence longer than any backtick run inside it (untrusted text stays inert)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def feedback_markdown(student: str, results: Sequence[TestResult], *, status: str = SubmissionStatus.GRADED,
                      message: str = "", max_score: float = 100.0) -> str:
    """A student's feedback: visible tests in full; hidden ones only as a name-less total per exercise;
    after_due_date / after_published ones only counted, as released later."""
    shown = [r for r in results if r.visibility not in DEFERRED]
    deferred = [r for r in results if r.visibility in DEFERRED]
    totals = by_exercise(shown)
    deferred_max = sum(r.max_points for r in deferred)
    score = sum(r.points for r in shown)
    lines = [f"# Feedback for {_cell(student)}", ""]
    if status not in (SubmissionStatus.GRADED, SubmissionStatus.TIMEOUT):
        lines += [f"**Not graded ({status}):** {_cell(message) or 'no details'}", "",
                  f"Score: **0 / {num(max_score)}**", ""]
        return "\n".join(lines)
    later = f" (+ {num(deferred_max)} points in tests released later)" if deferred else ""
    lines += [f"Score: **{num(score)} / {num(max_score - deferred_max)}**{later}", ""]
    if status == SubmissionStatus.TIMEOUT:
        lines += ["Grading ran out of time: tests that did not finish count as failed.", ""]
    if message:
        lines += [f"Notes: {_cell(message)}", ""]
    lines += ["| Exercise | Points |", "|---|---|"]
    lines += [f"| {_cell(TITLES.get(name, name))} | {num(t.points)} / {num(t.max_points)} |"
              for name, t in totals.items()]
    lines.append("")
    by_name: Mapping[str, list[TestResult]] = {name: [] for name in totals}
    for result in order_results(results):
        by_name.setdefault(result.exercise, []).append(result)
    for name, group in by_name.items():
        lines += _exercise_section(name, totals.get(name), group)
    return "\n".join(lines).rstrip() + "\n"


def _exercise_section(name: str, total: ExerciseTotal | None, group: list[TestResult]) -> list[str]:
    points = f"{num(total.points)} / {num(total.max_points)} points" if total else "no tests"
    lines = [f"## {TITLES.get(name, name)} — {points}", ""]
    previous = ""
    for result in (r for r in group if r.visibility is Visibility.VISIBLE):
        lines.append(f"- **{status_label(result)}** — {result.name} ({num(result.points)} / {num(result.max_points)})")
        output = "" if result.passed else result.output.strip()
        if output and output == previous:
            lines.append("  (the same output as above)")
        elif output:
            lines += ["", "\n".join("  " + line for line in _fence(output).splitlines()), ""]
        previous = output
    hidden = [r for r in group if r.visibility is Visibility.HIDDEN]
    if hidden:
        lines.append(f"- hidden tests: {sum(r.passed for r in hidden)} of {len(hidden)} passed, "
                     f"{num(sum(r.points for r in hidden))} / {num(sum(r.max_points for r in hidden))} points")
    for level, label in DEFERRED.items():
        later = [r for r in group if r.visibility == level]
        if later:
            lines.append(f"- {len(later)} more tests ({num(sum(r.max_points for r in later))} points): {label}")
    if not group:
        lines.append("- no tests")
    lines.append("")
    return lines


def summary_text(results: Sequence[TestResult], *, status: str, message: str, max_score: float) -> str:
    """The one-paragraph ``output`` of a Gradescope results.json."""
    parts = [f"Score {num(sum(r.points for r in results))}/{num(max_score)} ({status})."]
    parts += [f"{TITLES.get(name, name)}: {num(t.points)}/{num(t.max_points)}."
              for name, t in by_exercise(results).items() if t.total]
    if message:
        parts.append(f"Notes: {message}")
    return " ".join(parts)
