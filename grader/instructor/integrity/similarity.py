"""Batch similarity by token winnowing (as MOSS does it), per exercise file and overall.

1. Tokens: Python's ``tokenize``, dropping comments, docstrings, layout, grouping parentheses (a "(" that
   starts a statement, as around a tuple target, groups) and trailing commas; every identifier becomes
   ``V`` (keywords and builtins stay), every string ``S``, and adjacent strings one ``S``.
2. k-grams of K tokens are hashed; in every window of W consecutive hashes the smallest (rightmost on
   ties) is a fingerprint. Any copied run of W + K - 1 tokens shares at least one fingerprint.
3. Fingerprints found anywhere in the handout (``base``, every k-gram of it) are dropped, and so are
   those in more than ``max(common_min, common_fraction · n)`` submissions: code everyone writes.
4. An inverted index (fingerprint -> submissions) yields the candidate pairs and their shared counts,
   so the cost grows with the matches, not with n²; a pair's score is the Jaccard index of its
   fingerprint sets, per file and over all files together.
"""

from __future__ import annotations

import builtins
import io
import keyword
import tokenize
import zlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

K = 12  # tokens per k-gram
W = 8  # k-grams per winnowing window
COMMON_FRACTION = 0.05  # a fingerprint in more than this share of the submissions is common code ...
COMMON_MIN = 10  # ... when that share is at least this many submissions
_BASE = np.uint64(1_000_003)
_KEEP_NAMES = frozenset(keyword.kwlist) | frozenset(dir(builtins))
_CALLABLE = frozenset(dir(builtins)) - frozenset(keyword.kwlist)
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
         tokenize.ENDMARKER, getattr(tokenize, "TYPE_COMMENT", -1)}
_IGNORED = {tokenize.COMMENT, tokenize.NL, getattr(tokenize, "FSTRING_MIDDLE", -1),
            getattr(tokenize, "FSTRING_END", -1)}
_STATEMENT_START = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
_STATEMENT_END = {tokenize.NEWLINE, tokenize.ENDMARKER}
_STRINGS = {tokenize.STRING, getattr(tokenize, "FSTRING_START", -1)}
_BEFORE_CALL = frozenset({"V", "S", ")", "]"})
_CLOSING = frozenset({")", "]", "}"})


@dataclass
class Document:
    """One file's normalised tokens (with their lines) and its fingerprints (hash -> first token index)."""

    lines: np.ndarray  # (n_tokens, 2): first and last line of each token
    fingerprints: dict[int, int]


@dataclass
class Match:
    """A run of shared fingerprints: lines ``a`` of the first student's file match lines ``b`` of the other's."""

    a: tuple[int, int]
    b: tuple[int, int]
    fingerprints: int


@dataclass
class FileScore:
    """How much one exercise file of a pair shares: Jaccard ``score``, ``shared`` fingerprints, the matches."""

    score: float
    shared: int
    matches: list[Match] = field(default_factory=list)


@dataclass
class Pair:
    """Two students, ``a`` < ``b``: ``score`` is the Jaccard index over all their files' fingerprints."""

    a: str
    b: str
    score: float
    shared: int
    files: dict[str, FileScore]

    def to_dict(self) -> dict[str, object]:
        return {"a": self.a, "b": self.b, "score": round(self.score, 4), "shared": self.shared,
                "files": {name: {"score": round(f.score, 4), "shared": f.shared,
                                 "matches": [{"a_lines": list(m.a), "b_lines": list(m.b),
                                              "fingerprints": m.fingerprints} for m in f.matches]}
                          for name, f in self.files.items()}}


def normalized_tokens(source: str | bytes) -> tuple[list[str], list[tuple[int, int]]]:
    """The token texts of ``source`` after normalisation, and each one's (first, last) line."""
    if isinstance(source, bytes):
        source = source.decode("utf-8", "replace")
    texts: list[str] = []
    lines: list[tuple[int, int]] = []
    emit, mark = texts.append, lines.append
    pending: tuple[int, int] | None = None  # a string starting a statement: a docstring unless more follows
    parens: list[bool] = []  # for each open "(": kept (a call or a definition) or dropped (grouping)
    at_start, after_dot = True, False
    try:
        for kind, string, (first, _), (last, _), _ in tokenize.generate_tokens(io.StringIO(source).readline):
            if kind in _IGNORED:
                continue
            if pending is not None:
                if kind in _STATEMENT_END or kind == tokenize.STRING:  # a docstring (or its next part)
                    pending, at_start = (None, True) if kind != tokenize.STRING else (pending, False)
                    continue
                emit("S")
                mark(pending)
                pending = None
            if kind in _SKIP:
                at_start = kind in _STATEMENT_START
                continue
            if kind in _STRINGS:
                if at_start:
                    pending = (first, last)
                    continue
                if texts and texts[-1] == "S":  # "a" "b" is one string: layout
                    continue
                text = "S"
            elif kind == tokenize.NAME:
                text = string if string in _KEEP_NAMES and not after_dot else "V"
            else:
                text = string
                if text == "(":  # a call's parenthesis stays, a grouping one goes: formatting, not code
                    parens.append(not at_start and bool(texts)
                                  and (texts[-1] in _BEFORE_CALL or texts[-1] in _CALLABLE))
                    if not parens[-1]:
                        continue
                elif text in _CLOSING:
                    if texts and texts[-1] == ",":  # a trailing comma
                        texts.pop()
                        lines.pop()
                    if text == ")" and parens and not parens.pop():
                        continue
            emit(text)
            mark((first, last))
            at_start, after_dot = False, text == "."
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass  # keep what was read: a broken file is still compared up to where it breaks
    return texts, lines


def kgram_hashes(texts: list[str], k: int = K) -> np.ndarray:
    """The hash of every run of ``k`` consecutive tokens (uint64, deterministic across runs)."""
    if len(texts) < k:
        return np.zeros(0, dtype=np.uint64)
    table = {text: zlib.crc32(text.encode("utf-8", "surrogatepass")) for text in set(texts)}
    ids = np.fromiter(map(table.__getitem__, texts), dtype=np.uint64, count=len(texts))
    n = len(texts) - k + 1
    hashes = np.zeros(n, dtype=np.uint64)
    for j in range(k):  # polynomial hash, wrapping modulo 2**64
        hashes = hashes * _BASE + ids[j:j + n]
    return hashes


def winnow(hashes: np.ndarray, w: int = W) -> dict[int, int]:
    """Fingerprints of ``hashes``: the rightmost minimum of every window of ``w``, as hash -> first position."""
    if len(hashes) == 0:
        return {}
    if len(hashes) <= w:
        picks = np.array([len(hashes) - 1 - int(np.argmin(hashes[::-1]))])
    else:
        windows = np.lib.stride_tricks.sliding_window_view(hashes, w)[:, ::-1]
        picks = np.unique(np.arange(len(windows)) + (w - 1 - np.argmin(windows, axis=1)))
    chosen: dict[int, int] = {}
    for pos, value in zip(picks.tolist(), hashes[picks].tolist()):
        chosen.setdefault(value, pos)
    return chosen


def fingerprint(source: str | bytes) -> Document:
    """The :class:`Document` of one source file."""
    texts, lines = normalized_tokens(source)
    return Document(np.array(lines, dtype=np.int64).reshape(-1, 2), winnow(kgram_hashes(texts)))


def similar_pairs(submissions: Mapping[str, Mapping[str, str | bytes]], base: Mapping[str, str | bytes] | None = None,
                  *, top: int = 20) -> list[Pair]:
    """The ``top`` most similar pairs of students (score > 0), best first, with per-file scores and matches.

    ``submissions`` maps student -> file name -> source; ``base`` maps file name -> handout source (None or
    empty: nothing is ignored as handout code).
    """
    cache: dict[str | bytes, Document] = {}  # a file handed in by several students is read once
    docs: dict[str, dict[str, Document]] = defaultdict(dict)  # file -> student -> document
    for student, files in submissions.items():
        for name, source in files.items():
            if source not in cache:
                cache[source] = fingerprint(source)
            docs[name][student] = cache[source]
    ignored = {h for source in (base or {}).values() for h in kgram_hashes(normalized_tokens(source)[0]).tolist()}
    max_df = max(COMMON_MIN, int(COMMON_FRACTION * len(submissions)))
    kept: dict[tuple[str, str], dict[int, int]] = {}  # (file, student) -> the fingerprints that count
    shared: Counter[tuple[str, str, str]] = Counter()
    for name, by_student in docs.items():
        postings: dict[int, list[str]] = defaultdict(list)
        for student, doc in by_student.items():
            for value in doc.fingerprints:
                if value not in ignored:
                    postings[value].append(student)
        common = {value for value, students in postings.items() if len(students) > max_df}
        for student, doc in by_student.items():
            kept[name, student] = {v: p for v, p in doc.fingerprints.items() if v not in ignored and v not in common}
        shared.update((name, a, b) for students in postings.values() if 2 <= len(students) <= max_df
                      for a, b in combinations(sorted(students), 2))
    per_pair: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (name, a, b), count in shared.items():
        per_pair[a, b][name] = count
    totals = Counter({student: 0 for student in submissions})
    for (_, student), values in kept.items():
        totals[student] += len(values)
    both_of = {pair: sum(files.values()) for pair, files in per_pair.items()}
    ranked = sorted(((both / (totals[a] + totals[b] - both), both, a, b) for (a, b), both in both_of.items()),
                    key=lambda item: (-item[0], -item[1], item[2], item[3]))
    pairs = []
    for score, both, a, b in ranked[:top]:
        file_scores = {}
        for name, count in sorted(per_pair[a, b].items()):
            fa, fb = kept[name, a], kept[name, b]
            matches = _matches(fa, fb, docs[name][a].lines, docs[name][b].lines)
            file_scores[name] = FileScore(count / (len(fa) + len(fb) - count), count, matches)
        pairs.append(Pair(a, b, score, both, file_scores))
    return pairs


def _matches(fa: dict[int, int], fb: dict[int, int], lines_a: np.ndarray, lines_b: np.ndarray,
             limit: int = 10) -> list[Match]:
    """Shared fingerprints grouped into runs that advance together in both files, as line ranges."""
    spots = sorted((fa[v], fb[v]) for v in fa.keys() & fb.keys())
    runs: list[list[tuple[int, int]]] = []
    for pa, pb in spots:
        if runs and pa - runs[-1][-1][0] <= 2 * W and 0 <= pb - runs[-1][-1][1] <= 2 * W:
            runs[-1].append((pa, pb))
        else:
            runs.append([(pa, pb)])

    def span(lines: np.ndarray, first: int, last: int) -> tuple[int, int]:
        return int(lines[first, 0]), int(lines[min(last + K - 1, len(lines) - 1), 1])

    merged: list[Match] = []
    for run in runs:  # in the first file's order; touching ranges in both files become one
        a, b = span(lines_a, run[0][0], run[-1][0]), span(lines_b, run[0][1], run[-1][1])
        last = merged[-1] if merged else None
        if last and a[0] <= last.a[1] + 1 and last.b[0] <= b[0] <= last.b[1] + 1:
            last.a, last.b = (last.a[0], max(a[1], last.a[1])), (last.b[0], max(b[1], last.b[1]))
            last.fingerprints += len(run)
        else:
            merged.append(Match(a, b, len(run)))
    return sorted(sorted(merged, key=lambda m: -m.fingerprints)[:limit], key=lambda m: m.a)
