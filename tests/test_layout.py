"""The grader's folders are its processes and audiences (docs/grader.md, "How it is built"); these tests keep
the imports between them running one way, so the layout keeps saying how grading works."""

from __future__ import annotations

import ast
from pathlib import Path

GRADER = Path(__file__).resolve().parent.parent / "grader"

#: folder -> the folders its code may import (``vocabulary`` is everyone's; the runner imports nothing of
#: ``grader``: it is copied into each stage and runs where ``grader`` does not exist)
ALLOWED = {
    "vocabulary": set(),
    "runner": set(),
    "jail": {"vocabulary", "runner"},
    "judge": {"vocabulary", "jail"},
    "suites": {"vocabulary", "judge", "jail"},
    "reports": {"vocabulary"},
    "host": {"vocabulary", "jail", "reports"},
    "student": {"vocabulary", "host", "reports"},
    "instructor": {"vocabulary", "jail", "judge", "host", "reports"},
    "cli": {"vocabulary", "host", "student", "instructor", "reports"},
    "__init__": {"student"},
    "__main__": {"cli"},
}
#: the one import against the flow: ``grader grade`` writes the integrity reports when that instructor's
#: package is there (a handout lacks it, and grades alike)
OPTIONAL = {("host/batch.py", "instructor")}


def folder_of(path: Path) -> str:
    parts = path.relative_to(GRADER).parts
    return parts[0] if len(parts) > 1 else path.stem


def grader_imports(path: Path) -> set[str]:
    """The folders of ``grader`` that ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "grader" else [f"grader.{a.name}" for a in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("grader.")}
    return found & set(ALLOWED)  # not names such as grader.__version__


def test_every_folder_is_in_the_table():
    folders = {folder_of(p) for p in GRADER.rglob("*.py")}
    assert folders == set(ALLOWED)


def test_imports_run_one_way():
    wrong = []
    for path in sorted(GRADER.rglob("*.py")):
        folder = folder_of(path)
        for imported in grader_imports(path) - {folder} - ALLOWED[folder]:
            if (path.relative_to(GRADER).as_posix(), imported) not in OPTIONAL:
                wrong.append(f"{path.relative_to(GRADER)} imports grader.{imported}")
    assert wrong == []


def test_the_scan_sees_every_spelling_of_an_import(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("import os\nfrom grader import cli, __version__\n\ndef f():\n    from grader.host import batch\n"
                       "    import grader.jail.proxy\n    from . import sibling\n")
    assert grader_imports(planted) == {"cli", "host", "jail"}
