"""Submission intake: find a student's exercise files in a directory or a .zip, safely, and hash them.

Only the five exercise modules are taken (``grader.exercises.EXERCISE_FILES``), from the submission's
root, its ``exercises/`` folder, or the same inside one wrapping folder; everything else is listed as
ignored. The kit's given helpers (``exercises/_utils.py``) are part of the handout, not of a
submission: the judge supplies its own copy. Zips are read member by member with limits and never
extracted as they are; ``Submission.materialize`` writes the allowlisted files alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.exercises import EXERCISE_FILES

MANIFEST = "MANIFEST.json"
MANIFEST_FORMAT = "minigrad-kit-submission/1"
MAX_FILE_BYTES = 1 << 20  # one exercise module
MAX_MEMBER_BYTES = 16 << 20  # any member of an archive
MAX_TOTAL_BYTES = 64 << 20  # a whole archive, uncompressed
MAX_FILES = 500
MAX_IGNORED_LISTED = 20


class BadSubmission(Exception):
    """A submission that cannot be graded; ``status`` is "bad_archive" or "bad_source"."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Submission:
    """One student's exercise files, read into memory; ``status`` "ok" when they can be graded."""

    student: str
    source: Path
    status: str = "ok"  # ok | bad_archive | bad_source | no_files
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
        bad = err if isinstance(err, BadSubmission) else BadSubmission("bad_archive", f"cannot read {err}")
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
        sub.status = "no_files"
        sub.message = f"no exercise files found (expected {', '.join(EXERCISE_FILES)} at the top or in exercises/)"
        return
    sub.files = {name: data for name in EXERCISE_FILES if (data := members.get(base + name)) is not None}
    sub.content_hash = content_hash(sub.files)
    for name, data in sub.files.items():
        if len(data) > MAX_FILE_BYTES:
            sub.status, sub.message = "bad_archive", f"{base}{name} is over {MAX_FILE_BYTES >> 10} KiB"
            return
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            sub.status, sub.message = "bad_source", f"{base}{name} is not UTF-8 text (byte {err.start})"
            return
    missing = [name for name in EXERCISE_FILES if name not in sub.files]
    if missing:
        sub.notes.append(f"missing {', '.join(missing)}")
    if sub.ignored:
        shown = sub.ignored[:MAX_IGNORED_LISTED]
        more = len(sub.ignored) - len(shown)
        sub.notes.append(f"ignored {', '.join(shown)}" + (f" and {more} more" if more else ""))
    manifest = members.get(base + MANIFEST)
    if manifest is not None:
        problem = verify_manifest(manifest, sub.files)
        if problem:
            sub.notes.append(problem)
    sub.message = "; ".join(sub.notes)


def _find_base(members: dict[str, bytes | None]) -> str | None:
    """The folder prefix holding the exercise files: "", "exercises/", or those inside one wrapping folder."""
    tops = {path.split("/", 1)[0] for path in members if "/" in path} - {"__MACOSX"}
    candidates = ["", "exercises/"]
    if len(tops) == 1:
        top = tops.pop()
        candidates += [f"{top}/", f"{top}/exercises/"]
    for base in candidates:
        if any(base + name in members for name in EXERCISE_FILES):
            return base
    return None


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
        raise BadSubmission("bad_archive", f"{root} is neither a directory nor a .zip file")
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
                raise BadSubmission("bad_archive", f"more than {MAX_FILES} files")
            if full.is_symlink():
                if _wanted(rel):
                    raise BadSubmission("bad_archive", f"{rel} is a symbolic link")
                members[rel] = None
                continue
            size = full.stat().st_size
            members[rel] = _read_capped(full, size) if _wanted(rel) else None
    return members


def _read_capped(path: Path, size: int) -> bytes:
    if size > MAX_MEMBER_BYTES:
        raise BadSubmission("bad_archive", f"{path.name} is too large ({size} bytes)")
    with open(path, "rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


def _read_zip(path: Path) -> dict[str, bytes | None]:
    if path.suffix.lower() != ".zip":
        raise BadSubmission("bad_archive", f"{path.name} is not a .zip file")
    try:
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
    except BadSubmission:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, ValueError) as err:
        raise BadSubmission("bad_archive", f"{path.name}: unreadable zip ({err})") from None


def _check_members(infos: list[zipfile.ZipInfo]) -> None:
    """Reject zip slip, symlinks, encryption, duplicates, too many or too large members."""
    if len(infos) > MAX_FILES:
        raise BadSubmission("bad_archive", f"more than {MAX_FILES} members")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
            raise BadSubmission("bad_archive", f"member {info.filename!r} has an absolute path")
        if ".." in parts:
            raise BadSubmission("bad_archive", f"member {info.filename!r} climbs out of the archive (..)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise BadSubmission("bad_archive", f"member {info.filename!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise BadSubmission("bad_archive", f"member {info.filename!r} is encrypted")
        if info.file_size > MAX_MEMBER_BYTES:
            raise BadSubmission("bad_archive", f"member {info.filename!r} is too large ({info.file_size} bytes)")
        if name in seen:
            raise BadSubmission("bad_archive", f"member {info.filename!r} appears twice")
        seen.add(name)
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise BadSubmission("bad_archive", f"over {MAX_TOTAL_BYTES >> 20} MiB uncompressed")


def make_manifest(files: dict[str, bytes]) -> bytes:
    """MANIFEST.json for ``files``: their sha256 hashes (an integrity check for accidents, not a seal)."""
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    return (json.dumps({"format": MANIFEST_FORMAT, "files": hashes}, indent=2) + "\n").encode()


def verify_manifest(raw: bytes, files: dict[str, bytes]) -> str:
    """"" when MANIFEST.json matches ``files``, else one line naming the difference."""
    try:
        listed = json.loads(raw.decode("utf-8"))["files"]
        if not isinstance(listed, dict):
            raise TypeError("files is not an object")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        return f"manifest unreadable ({err})"
    actual = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    changed = sorted(n for n in actual if n in listed and listed[n] != actual[n])
    added = sorted(set(actual) - set(listed))
    gone = sorted(set(listed) - set(actual))
    problems = [f"{label} {', '.join(names)}" for label, names in
                (("changed after packing:", changed), ("not in the manifest:", added), ("missing:", gone)) if names]
    return f"manifest mismatch: {'; '.join(problems)}" if problems else ""


def pack(exercises_dir: Path, out: Path) -> list[str]:
    """Write ``out`` (a zip of the exercise modules at its root plus MANIFEST.json); returns the names packed.

    Raises FileNotFoundError when ``exercises_dir`` holds none of them. Reproducible: fixed timestamps.
    """
    files = {name: (exercises_dir / name).read_bytes() for name in EXERCISE_FILES
             if (exercises_dir / name).is_file()}
    if not files:
        raise FileNotFoundError(f"{exercises_dir} holds none of {', '.join(EXERCISE_FILES)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in [*sorted(files.items()), (MANIFEST, make_manifest(files))]:
                info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return sorted(files)
