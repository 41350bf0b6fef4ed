"""``integrity.json`` and ``integrity.md`` for a batch: static flags per student and the most similar pairs.

Signals for a person to review, never a penalty: nothing here touches a score.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader.instructor.integrity.similarity import COMMON_FRACTION, COMMON_MIN, K, W, similar_pairs
from grader.instructor.integrity.static import KINDS, Flag, flag_source
from grader.vocabulary.exercises import EXERCISE_FILES
from grader.vocabulary.files import atomic_write_text
from grader.vocabulary.kit import installed_exercises

FORMAT = "minigrad-kit-integrity/1"
JSON_NAME, MD_NAME = "integrity.json", "integrity.md"
NOTICE = ("These are signals for a human to review, never a penalty: nothing here changes a grade. The sandbox "
          "already defeats the tricks flagged below, and similar code can have innocent causes (shared study, "
          "the same textbook idiom). Read the code before drawing any conclusion.")
MAX_FLAGS_SHOWN = 12  # per student in the markdown (all of them are in the JSON)
MAX_NAMES_SHOWN = 10  # per kind in the markdown's first table
_MARKUP = set("\\*_[]<>#")  # escaped in markdown prose

Sources = Mapping[str, Mapping[str, str | bytes]]


def kit_stubs() -> dict[str, str]:
    """The handout's exercise files (the ``exercises`` package this grader imports), by file name."""
    folder = installed_exercises()
    return {name: (folder / name).read_text("utf-8", "replace") for name in EXERCISE_FILES
            if folder is not None and (folder / name).is_file()}


def write_reports(out_dir: Path, submissions: Sources) -> dict[str, Any]:
    """Flag and compare ``submissions`` (student -> file name -> source text or bytes), code of the handout
    (the kit's ``exercises/`` stubs) left out of the comparison; write both reports. Returns the JSON
    payload. Each file is replaced atomically.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache: dict[tuple[str, str | bytes], list[Flag]] = {}  # a file handed in by several students is flagged once
    students: dict[str, Any] = {}
    for student in sorted(submissions):
        flags: list[Flag] = []
        for name, source in sorted(submissions[student].items()):
            if (name, source) not in cache:
                cache[name, source] = flag_source(name, source)
            flags += cache[name, source]
        students[student] = {"flags": [asdict(flag) for flag in flags],
                             "counts": dict(sorted(Counter(flag.kind for flag in flags).items()))}
    base = kit_stubs()
    pairs = similar_pairs(submissions, base, top=25)
    by_kind = Counter(kind for info in students.values() for kind in info["counts"])
    payload: dict[str, Any] = {
        "format": FORMAT,
        "notice": NOTICE,
        "summary": {"submissions": len(students), "flagged": sum(1 for info in students.values() if info["flags"]),
                    "students_by_kind": dict(sorted(by_kind.items())), "pairs": len(pairs),
                    "top_pair": [pairs[0].a, pairs[0].b, round(pairs[0].score, 4)] if pairs else None},
        "kinds": KINDS,
        "similarity": {"k": K, "window": W, "common_fraction": COMMON_FRACTION, "common_min": COMMON_MIN,
                       "base_files": sorted(base), "pairs": [pair.to_dict() for pair in pairs]},
        "students": students,
    }
    atomic_write_text(out_dir / JSON_NAME, json.dumps(payload, indent=2, ensure_ascii=False) + "\n",
                      errors="backslashreplace")
    atomic_write_text(out_dir / MD_NAME, markdown(payload), errors="backslashreplace")
    return payload


def summary_line(payload: Mapping[str, Any]) -> str:
    """One line for a terminal: how many were flagged, and the most similar pair."""
    summary = payload["summary"]
    kinds = ", ".join(f"{kind} {n}" for kind, n in summary["students_by_kind"].items())
    line = f"integrity: {summary['flagged']} of {summary['submissions']} submissions flagged"
    line += f" ({kinds})" if kinds else ""
    if summary["top_pair"]:
        a, b, score = summary["top_pair"]
        line += f"; most similar pair {a} / {b} at {score:.2f}"
    return line + f"; see {MD_NAME} (signals to review, not penalties)"


def markdown(payload: Mapping[str, Any]) -> str:
    """The readable report: flags by kind, flagged submissions with evidence, the most similar pairs."""
    summary, students, sim = payload["summary"], payload["students"], payload["similarity"]
    out = ["# Integrity signals", "", f"> {NOTICE}", "",
           f"{summary['submissions']} submissions; {summary['flagged']} with static flags; "
           f"{summary['pairs']} most similar pairs listed.", "", "## Flags by kind", ""]
    if summary["students_by_kind"]:
        out += ["| kind | submissions | who | what it means |", "|---|---:|---|---|"]
        for kind, n in summary["students_by_kind"].items():
            who = [student for student, info in students.items() if kind in info["counts"]]
            names = ", ".join(who[:MAX_NAMES_SHOWN]) + (f" and {len(who) - MAX_NAMES_SHOWN} more"
                                                        if len(who) > MAX_NAMES_SHOWN else "")
            out.append(f"| {kind} | {n} | {_cell(names, 400)} | {_cell(KINDS.get(kind, ''))} |")
    else:
        out.append("No submission has a static flag.")
    flagged = {student: info for student, info in students.items() if info["flags"]}
    if flagged:
        out += ["", "## Flagged submissions", "", "| student | kinds | first evidence |", "|---|---|---|"]
        for student, info in flagged.items():
            kinds = ", ".join(f"{kind} ×{n}" for kind, n in info["counts"].items())
            first = info["flags"][0]
            out.append(f"| {_cell(student)} | {kinds} | `{_code(first['file'])}:{first['line']}` "
                       f"{_cell(first['kind'])}: {_cell(first['detail'])} |")
        for student, info in flagged.items():
            out += ["", f"### {_cell(student)}", ""]
            out += [f"- `{_code(f['file'])}:{f['line']}` **{f['kind']}**: {_cell(f['detail'])}"
                    for f in info["flags"][:MAX_FLAGS_SHOWN]]
            if len(info["flags"]) > MAX_FLAGS_SHOWN:
                out.append(f"- ... and {len(info['flags']) - MAX_FLAGS_SHOWN} more in {JSON_NAME}")
    out += ["", "## Most similar pairs", "",
            f"Token winnowing (MOSS-style): identifiers normalised, k-grams of {sim['k']} tokens, window "
            f"{sim['window']}; code from the handout ({', '.join(sim['base_files']) or 'none given'}) and code "
            f"found in more than max({sim['common_min']}, {sim['common_fraction']:.0%} of the batch) submissions "
            "is ignored. Score: Jaccard index of the two students' fingerprints (1.0 = the same code).", ""]
    if not sim["pairs"]:
        out.append("No two submissions share code beyond the handout.")
    else:
        out += ["| # | students | overall | per file |", "|---:|---|---:|---|"]
        for rank, pair in enumerate(sim["pairs"], 1):
            files = ", ".join(f"{name} {info['score']:.2f}" for name, info in pair["files"].items())
            out.append(f"| {rank} | {_cell(pair['a'])} / {_cell(pair['b'])} | {pair['score']:.2f} | {files} |")
        for rank, pair in enumerate(sim["pairs"], 1):
            out += ["", f"### {rank}. {_cell(pair['a'])} / {_cell(pair['b'])}: {pair['score']:.2f}", ""]
            for name, info in pair["files"].items():
                spans = "; ".join(f"{_lines(m['a_lines'])} ↔ {_lines(m['b_lines'])}" for m in info["matches"])
                out.append(f"- `{_code(name)}` {info['score']:.2f} ({info['shared']} shared fingerprints): "
                           f"{_cell(pair['a'])} lines ↔ {_cell(pair['b'])} lines: {spans or 'scattered'}")
    return "\n".join(out) + "\n"


def _lines(span: list[int]) -> str:
    return f"{span[0]}" if span[0] == span[1] else f"{span[0]}–{span[1]}"


def _code(text: object, limit: int = 200) -> str:
    """``text`` safe inside a code span in a table cell: one line, no pipes or backticks, not too long."""
    flat = " ".join(str(text).split()).replace("|", "/").replace("`", "'")
    return flat if len(flat) <= limit else flat[:limit] + "..."


def _cell(text: object, limit: int = 200) -> str:
    """``text`` as plain prose in markdown (a table cell too): one line, markup characters escaped."""
    flat = _code(text, limit)
    return "".join("\\" + char if char in _MARKUP else char for char in flat)


