"""``DIR/report.html``: one self-contained page about a grading run, for the instructor.

Rendered from what the gradebook stores (the host reads it: ``grader.host.gradebook.read``) and
``DIR/integrity.json`` when present: scores, pass rates per exercise and per test, the slowest and the
failing submissions, statuses, integrity signals. No network: inline CSS and SVG, a few lines of vanilla
JS to sort tables, and a Content-Security-Policy that allows only those two inline blocks (by hash), so
even a missed escape could neither run a script nor fetch anything. Every piece of text from the database
or the integrity file is escaped.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.reports.charts import Bar, Html, bar_chart, cell, esc, histogram, page, pct, rate_class, section, table
from grader.reports.text import first_line
from grader.reports.text import num as _num
from grader.vocabulary.exercises import EXERCISES, TITLES
from grader.vocabulary.files import atomic_write_text
from grader.vocabulary.results import Stored, SubmissionStatus, TestStatus, Visibility

REPORT_NAME, INTEGRITY_NAME = "report.html", "integrity.json"
PASSED, GRADED = TestStatus.PASSED, SubmissionStatus.GRADED
FAILING_SHARE, SLOWEST, TOP_PAIRS = 0.5, 10, 20


@dataclass
class Run:
    """What the report is made from."""

    submissions: list[dict[str, Any]]
    tests: list[dict[str, Any]]
    integrity: dict[str, Any] | None = None
    integrity_problem: str = ""
    points: dict[tuple[str, str], float] = field(default_factory=dict)  # (student, exercise) -> points
    max_points: dict[tuple[str, str], float] = field(default_factory=dict)


def load(out_dir: Path, stored: Stored) -> Run:
    """The gradebook's ``stored`` content and ``out_dir``'s integrity.json (a broken one is reported, not fatal)."""
    run = Run([dataclasses.asdict(r) for r in stored.records],
              [{"student": student, **dataclasses.asdict(r)} for student, r in stored.tests])
    for test in run.tests:
        key = (test["student"], test["exercise"])
        run.points[key] = run.points.get(key, 0.0) + float(test["points"])
        run.max_points[key] = run.max_points.get(key, 0.0) + float(test["max_points"])
    integrity = Path(out_dir) / INTEGRITY_NAME
    if integrity.is_file():
        try:
            data = json.loads(integrity.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            run.integrity = data
        except (OSError, ValueError) as err:
            run.integrity_problem = f"{INTEGRITY_NAME} could not be read: {err}"
    return run


def write_report(out_dir: Path, stored: Stored) -> Path:
    """Write ``out_dir/report.html`` atomically from the gradebook's ``stored`` content; returns its path."""
    path = Path(out_dir) / REPORT_NAME
    atomic_write_text(path, render(load(out_dir, stored), datetime.now(timezone.utc)))
    return path


def rate_cell(passed: int, total: int) -> Html:
    share = passed / total if total else 0.0
    return cell(Html(f'<span class="dot"></span>{pct(share)}'), f"{share:.4f}", f"num rate-{rate_class(share)}")


def share_of(sub: dict[str, Any]) -> float:
    return float(sub["score"]) / float(sub["max_score"]) if float(sub["max_score"]) else 0.0


def grouped(tests: Iterable[dict[str, Any]], key: str) -> defaultdict[str, list[dict[str, Any]]]:
    """``tests`` by their value of ``key``, in the order met."""
    groups = defaultdict(list)
    for t in tests:
        groups[t[key]].append(t)
    return groups


def ordered(seen: Collection[str], first: Sequence[str]) -> list[str]:
    """``seen``: the names in ``first`` in that order, then the others sorted."""
    return [k for k in first if k in seen] + sorted(k for k in seen if k not in first)


def num(value: float) -> str:
    """Points for people, to two decimals: 2, 0.5, 97.08."""
    return _num(round(float(value), 2))


def exercises_of(run: Run) -> list[str]:
    return ordered({t["exercise"] for t in run.tests}, EXERCISES)


# --- sections ----------------------------------------------------------------------------------------------------

def header(run: Run, generated: datetime) -> str:
    subs = run.submissions
    scores = [float(s["score"]) for s in subs]
    modes = Counter(str(s.get("sandbox") or "") for s in subs) - Counter({"": len(subs)})  # "": never ran
    sandbox = ", ".join(m if len(modes) == 1 else f"{m} ({n})" for m, n in modes.most_common()) or "not recorded"
    facts = [("submissions", str(len(subs))), (GRADED.label, str(sum(s["status"] is GRADED for s in subs))),
             ("mean score", num(statistics.fmean(scores)) if scores else "–"),
             ("median score", num(statistics.median(scores)) if scores else "–"), ("sandbox", sandbox)]
    cards = "".join(f'<div class="card"><div class="label">{esc(k)}</div><div class="value">{esc(v)}</div></div>'
                    for k, v in facts)
    versions = sorted({str(s.get("grader_version", "")) for s in subs} - {""})
    period = (f"graded {esc(min(s['started'] for s in subs)[:16].replace('T', ' '))} – "
              f"{esc(max(s['finished'] for s in subs)[:16].replace('T', ' '))} UTC · " if subs else "")
    return (f'<header><h1>minigrad-kit · grading report</h1><p class="meta">{period}report written '
            f"{generated.strftime('%Y-%m-%d %H:%M')} UTC · grader {esc(', '.join(versions) or '?')}</p>"
            f'<div class="cards">{cards}</div></header>')


def score_histogram(run: Run) -> str:
    out_of_100 = all(abs(float(s["max_score"]) - 100) < 1e-6 for s in run.submissions)
    counts = [0] * 10
    for sub in run.submissions:
        counts[min(int(100 * share_of(sub) // 10), 9)] += 1  # the last bin holds 90..100 inclusive
    label = "total score (points out of 100)" if out_of_100 else "total score (% of the maximum)"
    chart = histogram(counts, list(range(0, 101, 10)), title="Total scores", x_label=label)
    return section("scores", "Total scores", chart, note="10-point bins, the last one 90–100 inclusive; "
                   "submissions that could not be graded count as 0.")


def exercise_section(run: Run) -> str:
    graded = sorted({t["student"] for t in run.tests})
    bars, rows = [], []
    for ex in exercises_of(run):
        tests = [t for t in run.tests if t["exercise"] == ex]
        passed = sum(t["status"] is PASSED for t in tests)
        max_points = max(run.max_points.get((s, ex), 0.0) for s in graded)
        mean = statistics.fmean(run.points.get((s, ex), 0.0) for s in graded)
        by_student = grouped(tests, "student")
        full = sum(all(t["status"] is PASSED for t in ts) for ts in by_student.values())
        todo = sum(all(t.get("not_implemented") for t in ts) for ts in by_student.values())
        title = TITLES.get(ex, ex)
        bars.append(Bar(title, passed / len(tests), f"{pct(passed / len(tests))} of {len(tests)} runs"))
        rows.append([cell(Html(f'{esc(title)} <span class="mono muted">{esc(ex)}</span>'), ex),
                     rate_cell(passed, len(tests)), cell(f"{num(mean)} / {num(max_points)}", mean, "num"),
                     cell(full, cls="num"), cell(todo, cls="num")])
    chart = bar_chart(bars, title="Pass rate per exercise", x_label="tests passed (all submissions' test runs)")
    return section("exercises", "Exercises", chart,
                   table(["exercise", "pass rate", "mean / max", "full marks", "not started"], rows),
                   note=f"Over the {len(graded)} submissions with test results. <em>Not started</em>: every test "
                        "of the exercise said “not implemented yet”.")


def test_section(run: Run) -> str:
    rank = {e: i for i, e in enumerate(EXERCISES)}
    rows = []
    for runs in sorted(grouped(run.tests, "nodeid").values(), key=lambda runs: (
            sum(t["status"] is PASSED for t in runs) / len(runs), rank.get(runs[0]["exercise"], 99))):
        first = runs[0]
        passed = sum(t["status"] is PASSED for t in runs)
        statuses = Counter(t["status"] for t in runs)
        todo = sum(bool(t.get("not_implemented")) for t in runs)
        breakdown = " · ".join(f"{statuses[s]} {s.label}"
                               + (f" ({todo} todo)" if todo and s is TestStatus.ERROR else "")
                               for s in ordered(statuses, list(TestStatus)))
        failing = next((t for t in runs if t["status"] is not PASSED and not t.get("not_implemented")), None)
        example = first_line(failing["output"], 120) if failing else ""
        name = Html(esc(first["name"]) + (f'<div class="output">{esc(example)}</div>' if example else ""))
        rows.append([cell(name, first["name"]), cell(first["exercise"], cls="mono"),
                     cell(first["visibility"].label, list(Visibility).index(first["visibility"])),
                     rate_cell(passed, len(runs)), cell(breakdown, cls="statuses")])
    return section("tests", "Tests, worst first",
                   table(["test (and its first failure that is not “not implemented yet”)", "exercise", "visibility",
                          "pass rate", "statuses"], rows, cls="tests"),
                   note="Each test's runs over all submissions with results; “todo”: errors saying “not implemented "
                        "yet”.")


def slowest_section(run: Run) -> str:
    slow_test = {student: max(tests, key=lambda t: t["duration"])
                 for student, tests in grouped(run.tests, "student").items()}
    subs = sorted(run.submissions, key=lambda s: -float(s["duration"]))[:SLOWEST]
    rows = [[cell(s["student"], cls="mono"), cell(f"{float(s['duration']):.1f} s", s["duration"], "num"),
             cell(s["status"]), cell(num(s["score"]), s["score"], "num"),
             cell(f"{slow_test[s['student']]['name']} ({float(slow_test[s['student']]['duration']):.2f} s)"
                  if s["student"] in slow_test else "–")] for s in subs]
    return section("slowest", f"Slowest submissions (top {SLOWEST})",
                   table(["student", "grading time", "status", "score", "slowest test"], rows))


def _problem(sub: dict[str, Any], failing: list[dict[str, Any]]) -> str:
    """A submission's message, else its first real failure, else a word on the "not implemented" ones."""
    message = first_line(sub["message"] or "", 160)
    real = [t for t in failing if not t.get("not_implemented")]
    if message or not real:
        return message or (f"not implemented yet ({len(failing)} tests)" if failing else "")
    return first_line(real[0]["output"], 160) or str(real[0]["status"])


def failing_section(run: Run) -> str:
    failing = grouped((t for t in run.tests if t["status"] is not PASSED), "student")
    rows, exercises = [], exercises_of(run)
    for s in run.submissions:
        if s["status"] is GRADED and share_of(s) >= FAILING_SHARE:
            continue
        student = s["student"]
        weak = [f"{e} {num(run.points[student, e])}/{num(run.max_points[student, e])}" for e in exercises
                if (student, e) in run.points and run.points[student, e] < run.max_points[student, e] - 1e-9]
        rows.append([cell(student, cls="mono"), cell(s["status"]), cell(num(s["score"]), s["score"], "num"),
                     cell(_problem(s, failing[student]), cls="output"), cell(", ".join(weak) or "–")])
    return section("failing", "Failing submissions",
                   table(["student", "status", "score", "problem", "exercises not full (points)"], rows,
                         empty="none: every submission was graded and scored at least half the points"),
                   note=f"Score below {pct(FAILING_SHARE)} of the maximum, or a status other than graded.")


def status_section(run: Run) -> str:
    tests = Counter(t["status"] for t in run.tests)
    counts = [(s.label, tests.get(s, 0)) for s in TestStatus]
    counts.append(("… of the errors: not implemented yet", sum(bool(t.get("not_implemented")) for t in run.tests)))
    test_rows = [[cell(label), cell(n, cls="num"), cell(pct(n / len(run.tests)) if run.tests else "–", cls="num")]
                 for label, n in counts]
    subs = Counter(s["status"] for s in run.submissions)
    sub_rows = [[cell(s.label), cell(subs[s], cls="num"),
                 cell(", ".join(x["student"] for x in run.submissions if x["status"] is s) if s is not GRADED else "",
                      cls="mono")] for s in ordered(subs, list(SubmissionStatus))]
    return section("statuses", "Statuses",
                   '<div class="pair"><div><h3>Test results</h3>'
                   + table(["status", "tests", "share"], test_rows) + "</div><div><h3>Submissions</h3>"
                   + table(["status", "submissions", "students"], sub_rows) + "</div></div>")


def _pair_files(pair: dict[str, Any]) -> str:
    """``conv.py 0.91, relu.py 0.50``: the pair's files, most similar first."""
    files = pair.get("files") if isinstance(pair.get("files"), dict) else {}
    scores = {name: float(info.get("score") or 0) for name, info in files.items() if isinstance(info, dict)}
    return ", ".join(f"{name} {score:.2f}" for name, score in sorted(scores.items(), key=lambda f: -f[1]))


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def integrity_section(run: Run) -> str:
    """Flags per student and the most similar pairs, from ``grader.instructor.integrity``'s JSON (format 1)."""
    if run.integrity is None:
        note = esc(run.integrity_problem) if run.integrity_problem else f"No {INTEGRITY_NAME} in this folder."
        return section("integrity", "Integrity signals", f'<p class="empty">{note}</p>')
    data, kinds = run.integrity, _dict(run.integrity.get("kinds"))
    students = {k: v for k, v in _dict(data.get("students")).items() if isinstance(v, dict)}
    flags = [[cell(student, cls="mono"),
              cell(Html(f'{esc(f.get("kind", "?"))}<div class="muted">'
                        f'{esc(kinds.get(str(f.get("kind")), ""))}</div>'), f.get("kind", "")),
              cell(f"{f.get('file', '')}:{f.get('line', '')}".strip(":"), cls="mono"),
              cell(f.get("detail", ""), cls="output")]
             for student, entry in sorted(students.items()) for f in entry.get("flags") or [] if isinstance(f, dict)]
    pairs = data.get("pairs") or _dict(data.get("similarity")).get("pairs") or []
    pairs = sorted((p for p in pairs if isinstance(p, dict)), key=lambda p: -float(p.get("score") or 0))[:TOP_PAIRS]
    pair_rows = [[cell(p.get("a", "?"), cls="mono"), cell(p.get("b", "?"), cls="mono"),
                  cell(f"{float(p.get('score') or 0):.2f}", p.get("score") or 0, "num"),
                  cell(p.get("shared", ""), cls="num"), cell(_pair_files(p), cls="mono")] for p in pairs]
    flagged = sum(bool(entry.get("flags")) for entry in students.values())
    note = (esc(data.get("notice") or "Signals for a person to review, not verdicts.")
            + f" {flagged} of {len(students)} submissions flagged. Similarity: the Jaccard index of two students' "
            "code fingerprints (1 = the same code). Details in integrity.md.")
    return section("integrity", "Integrity signals", "<h3>Flags</h3>",
                   table(["student", "kind", "where", "detail"], flags, empty="no flags"),
                   f"<h3>Most similar pairs (top {TOP_PAIRS})</h3>",
                   table(["student", "student", "similarity", "shared", "files"], pair_rows, empty="no pairs"),
                   note=note)


def roster_section(run: Run) -> str:
    exercises = exercises_of(run) or list(EXERCISES)
    def points(student: str, exercise: str) -> Html:
        value = run.points.get((student, exercise))
        return cell("–", -1, "num") if value is None else cell(num(value), value, "num")

    rows = [[cell(s["student"], cls="mono"), cell(s["status"]), cell(num(s["score"]), s["score"], "num"),
             *(points(s["student"], e) for e in exercises), cell(f"{float(s['duration']):.1f}", s["duration"], "num"),
             cell(str(s.get("sandbox") or "–"), cls="mono")]  # the tier its code ran in ("–": it never ran)
            for s in run.submissions]
    return section("roster", "All submissions", table(["student", "status", "score", *exercises, "time (s)",
                                                       "sandbox"], rows))


def render(run: Run, generated: datetime) -> str:
    """The whole page."""
    nav = [("scores", "Scores"), ("exercises", "Exercises"), ("failing", "Failing"), ("statuses", "Statuses"),
           ("slowest", "Slowest"), ("integrity", "Integrity"), ("tests", "Tests"), ("roster", "All submissions")]
    return page("Grading report · minigrad-kit", [
        header(run, generated), "<nav>" + " ".join(f'<a href="#{i}">{t}</a>' for i, t in nav) + "</nav>",
        '<div class="pair">' + score_histogram(run) + exercise_section(run) + "</div>",
        failing_section(run), status_section(run), slowest_section(run), integrity_section(run),
        test_section(run), roster_section(run)])
