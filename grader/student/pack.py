"""``grader pack``: a submission zip of the exercise modules and ``MANIFEST.json`` (their sha256 hashes).

The manifest is an integrity check against accidents (a file edited after packing), not a seal:
``grader.host.intake`` notes a mismatch and grades the files anyway.
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

from grader.student.check import CheckError, find_exercises
from grader.vocabulary.commands import Misuse
from grader.vocabulary.exercises import EXERCISE_FILES
from grader.vocabulary.files import replacing
from grader.vocabulary.manifest import MANIFEST, make_manifest


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


def command(args: argparse.Namespace) -> int:
    """Write submission.zip from the exercise files."""
    try:
        folder = find_exercises(args.dir)
    except CheckError as err:
        raise Misuse(str(err)) from None
    if args.out.is_dir():
        raise Misuse(f"--out {args.out} is a directory; name the zip file")
    try:
        packed = pack(folder, args.out)
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        raise Misuse(f"cannot write --out {args.out}: {err.strerror or err}{where}") from None
    print(f"wrote {args.out}: {', '.join(packed)} and MANIFEST.json")
    missing = [name for name in EXERCISE_FILES if name not in packed]
    if missing:
        print(f"note: {', '.join(missing)} not found in {folder}, not packed")
    todo = [name for name in packed if "raise NotImplementedError" in (folder / name).read_text("utf-8", "replace")]
    if todo:
        print(f"note: {', '.join(todo)} still raise NotImplementedError somewhere")
    return 0
