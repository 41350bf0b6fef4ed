"""A submission zip's ``MANIFEST.json``: the sha256 of each exercise file, written by ``grader pack`` and
checked by the grader's intake. An integrity check against accidents (a file edited after packing), not
a seal: a mismatch is noted and the files are graded anyway."""

from __future__ import annotations

import hashlib
import json

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
