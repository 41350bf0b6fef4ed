"""Submission intake: find a student's exercise files in a directory or a .zip, safely, and hash them.

Only the five exercise modules are taken (``grader.vocabulary.exercises.EXERCISE_FILES``), from the submission's
root, its ``exercises/`` folder, or the same inside one wrapping folder; everything else is listed as
ignored. The kit's given helpers (``exercises/_utils.py``) are part of the handout, not of a
submission: the judge supplies its own copy. Zips are read member by member with limits
(size, count, compression ratio) and never extracted as they are; ``Submission.materialize`` writes
the allowlisted files alone. Names in messages are made printable (bad bytes, control characters).
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.vocabulary.exercises import EXERCISE_FILES
from grader.vocabulary.manifest import MANIFEST, verify_manifest
from grader.vocabulary.results import SubmissionStatus

BAD_ARCHIVE = SubmissionStatus.BAD_ARCHIVE

__all__ = ["BadSubmission", "Submission", "content_hash", "load_submission", "shown", "student_id"]

MAX_FILE_BYTES = 1 << 20  # one exercise module
MAX_MEMBER_BYTES = 16 << 20  # any member of an archive
MAX_TOTAL_BYTES = 64 << 20  # a whole archive, uncompressed
MAX_ARCHIVE_BYTES = 64 << 20  # a .zip file as it lies on disk
MAX_FILES = 500
MAX_RATIO, RATIO_FROM_BYTES = 200, 1 << 20  # a member over 1 MiB that expands more than 200:1 is a zip bomb
MAX_IGNORED_LISTED = 20


class BadSubmission(Exception):
    """A submission that cannot be graded (a bad archive or bad source)."""

    def __init__(self, status: SubmissionStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Submission:
    """One student's exercise files, read into memory; ``status`` "ok" when they can be graded."""

    student: str
    source: Path
    status: SubmissionStatus | str = "ok"  # "ok" (gradable), or why it cannot be graded
    message: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    content_hash: str = ""
    notes: list[str] = field(default_factory=list)  # manifest mismatch, missing modules, ignored files

    @property
    def gradable(self) -> bool:
        return self.status == "ok"

    def materialize(self, dest: Path) -> Path:
        """Write the exercise files into ``dest`` (created) and return it: the directory to grade."""
        dest.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (dest / name).write_bytes(data)
        return dest


def shown(name: str) -> str:
    """``name`` safe to print: undecodable bytes (surrogate escapes) as U+FFFD, control characters as "?"."""
    try:
        text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that no file system name decodes to
        text = name.encode("utf-8", "replace").decode("utf-8")
    return "".join("?" if unicodedata.category(c) in ("Cc", "Cs") else c for c in text)


def student_id(path: Path) -> str:
    """The student id of a submission: its file or directory name without ``.zip``."""
    name = path.name
    return name[:-4] if name.lower().endswith(".zip") else name


def content_hash(files: dict[str, bytes]) -> str:
    """sha256 over the sorted (name, bytes) pairs: the same files hash the same from a dir or a zip."""
    digest = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def load_submission(path: Path) -> Submission:
    """Read a submission directory or .zip; bad input gives a Submission with a bad status, never raises."""
    path = Path(path)
    sub = Submission(student=student_id(path), source=path)
    try:
        members = _read_zip(path) if path.is_file() else _read_dir(path)
    except (BadSubmission, OSError) as err:
        bad = err if isinstance(err, BadSubmission) else BadSubmission(BAD_ARCHIVE, f"cannot read {err}")
        sub.status, sub.message = bad.status, str(bad)
        if path.is_file():  # a bad archive stays bad until the file changes: hash it for the rerun check
            sub.content_hash = "archive:" + _file_hash(path)
        return sub
    _select(sub, members)
    return sub


def _select(sub: Submission, members: dict[str, bytes | None]) -> None:
    """Pick the exercise files out of ``members`` (path -> bytes, None for what was not read)."""
    base = _find_base(members)
    keep = set() if base is None else {base + name for name in (*EXERCISE_FILES, MANIFEST)}
    sub.ignored = [path for path in sorted(members) if path not in keep]
    if base is None:
        sub.status = SubmissionStatus.NO_FILES
        sub.message = f"no exercise files found (expected {', '.join(EXERCISE_FILES)} at the top or in exercises/)"
        return
    sub.files = {name: data for name in EXERCISE_FILES if (data := members.get(base + name)) is not None}
    sub.content_hash = content_hash(sub.files)
    for name, data in sub.files.items():
        if len(data) > MAX_FILE_BYTES:
            sub.status, sub.message = BAD_ARCHIVE, f"{shown(base)}{name} is over {MAX_FILE_BYTES >> 10} KiB"
            return
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            sub.status = SubmissionStatus.BAD_SOURCE
            sub.message = (f"{shown(base)}{name} is not UTF-8 text (line {line}: byte 0x{data[err.start]:02x}); "
                           "save it as UTF-8 and submit again")
            return
    missing = [name for name in EXERCISE_FILES if name not in sub.files]
    if missing:
        sub.notes.append(f"missing {', '.join(missing)}")
    empty = [name for name, data in sub.files.items() if not data.strip()]
    if empty:
        sub.notes.append(f"empty {', '.join(empty)}")
    if sub.ignored:
        listed = [shown(name) for name in sub.ignored[:MAX_IGNORED_LISTED]]
        more = len(sub.ignored) - len(listed)
        sub.notes.append(f"ignored {', '.join(listed)}" + (f" and {more} more" if more else ""))
    manifest = members.get(base + MANIFEST)
    if manifest is not None and (problem := verify_manifest(manifest, sub.files)):
        sub.notes.append(problem)
    sub.message = "; ".join(sub.notes)


def _find_base(members: dict[str, bytes | None]) -> str | None:
    """The folder prefix holding the exercise files: "", "exercises/", or those inside one wrapping folder."""
    tops = {path.split("/", 1)[0] for path in members if "/" in path} - {"__MACOSX"}
    candidates = ["", "exercises/"]
    if len(tops) == 1:
        top = tops.pop()
        candidates += [f"{top}/", f"{top}/exercises/"]
    return next((base for base in candidates if any(base + name in members for name in EXERCISE_FILES)), None)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _wanted(path: str) -> bool:
    return PurePosixPath(path).name in (*EXERCISE_FILES, MANIFEST)


def _read_dir(root: Path) -> dict[str, bytes | None]:
    if not root.is_dir():
        raise BadSubmission(BAD_ARCHIVE, f"{root} is neither a directory nor a .zip file")
    members: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):  # does not follow symlinked folders
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in dirnames:
            if Path(dirpath, name).is_symlink():
                members[Path(dirpath, name).relative_to(root).as_posix() + "/"] = None
        for name in sorted(filenames):
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            if len(members) >= MAX_FILES:
                raise BadSubmission(BAD_ARCHIVE, f"more than {MAX_FILES} files")
            info = full.lstat()
            if not _wanted(rel):
                members[rel] = None
            elif stat.S_ISLNK(info.st_mode):
                raise BadSubmission(BAD_ARCHIVE, f"{shown(rel)} is a symbolic link")
            elif not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
                raise BadSubmission(BAD_ARCHIVE, f"{shown(rel)} is not a regular file")
            elif info.st_size > MAX_MEMBER_BYTES:
                raise BadSubmission(BAD_ARCHIVE, f"{shown(rel)} is too large ({info.st_size} bytes)")
            else:
                with open(full, "rb") as handle:
                    members[rel] = handle.read(MAX_FILE_BYTES + 1)
    return members


def _read_zip(path: Path) -> dict[str, bytes | None]:
    if path.suffix.lower() != ".zip":
        raise BadSubmission(BAD_ARCHIVE, f"{shown(path.name)} is not a .zip file")
    size = path.stat().st_size
    if size > MAX_ARCHIVE_BYTES:
        raise BadSubmission(BAD_ARCHIVE, f"{shown(path.name)} is {size >> 20} MiB, over the "
                            f"{MAX_ARCHIVE_BYTES >> 20} MiB limit: submit the exercise files only (grader pack)")
    try:
        _check_entry_count(path)
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_members(infos)
            members: dict[str, bytes | None] = {}
            for info in infos:
                if info.is_dir():
                    continue
                name = info.filename.replace("\\", "/")
                if not _wanted(name):
                    members[name] = None
                    continue
                with archive.open(info) as handle:
                    members[name] = handle.read(MAX_FILE_BYTES + 1)  # never trust the header's size
            return members
    except UnicodeDecodeError:  # a name flagged as UTF-8 that is not
        raise BadSubmission(BAD_ARCHIVE, f"{shown(path.name)}: a member name is marked UTF-8 but is not "
                            "valid UTF-8") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, ValueError) as err:
        raise BadSubmission(BAD_ARCHIVE, f"{shown(path.name)}: unreadable zip ({err})") from None


def _check_entry_count(path: Path) -> None:
    """Refuse an archive whose directory lists too many members before ``ZipFile`` reads them all."""
    end_record = getattr(zipfile, "_EndRecData", None)  # private but long stable; skip the early check without it
    if end_record is None:
        return
    with open(path, "rb") as handle:
        found = end_record(handle)
    if found and found[zipfile._ECD_ENTRIES_TOTAL] > MAX_FILES:
        raise BadSubmission(BAD_ARCHIVE, f"more than {MAX_FILES} members")


def _check_members(infos: list[zipfile.ZipInfo]) -> None:
    """Reject zip slip, symlinks, encryption, duplicates, too many, too large or too compressed members."""
    if len(infos) > MAX_FILES:
        raise BadSubmission(BAD_ARCHIVE, f"more than {MAX_FILES} members")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        label = repr(shown(info.filename))
        if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
            raise BadSubmission(BAD_ARCHIVE, f"member {label} has an absolute path")
        if ".." in parts:
            raise BadSubmission(BAD_ARCHIVE, f"member {label} climbs out of the archive (..)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise BadSubmission(BAD_ARCHIVE, f"member {label} is a symbolic link")
        if info.flag_bits & 0x1:
            raise BadSubmission(BAD_ARCHIVE, f"member {label} is encrypted")
        if info.file_size > MAX_MEMBER_BYTES:
            raise BadSubmission(BAD_ARCHIVE, f"member {label} is too large ({info.file_size} bytes)")
        if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise BadSubmission(BAD_ARCHIVE, f"member {label} expands {ratio}:1 (over {MAX_RATIO}:1: a zip bomb?)")
        if name in seen:
            raise BadSubmission(BAD_ARCHIVE, f"member {label} appears twice")
        seen.add(name)
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise BadSubmission(BAD_ARCHIVE, f"over {MAX_TOTAL_BYTES >> 20} MiB uncompressed")
