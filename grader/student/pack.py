"""``grader pack``: a submission zip of the exercise modules and ``MANIFEST.json`` (their sha256 hashes).

The manifest is an integrity check against accidents (a file edited after packing), not a seal:
``grader.host.intake`` notes a mismatch and grades the files anyway.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from grader.vocabulary.exercises import EXERCISE_FILES
from grader.vocabulary.files import replacing

MANIFEST = "MANIFEST.json"
MANIFEST_FORMAT = "minigrad-kit-submission/1"


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
    with replacing(out, durable=False) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*sorted(files.items()), (MANIFEST, make_manifest(files))]:
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return sorted(files)
