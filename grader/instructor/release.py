"""``grader release --out DIR``: build the student handout, then check that it gives nothing away.

The handout holds ``minigrad/``, the stubs of ``exercises/`` (with ``_utils.py`` and ``test_my_conv.py``),
the ``notebooks/`` (outputs cleared), the grader without the hidden suites, the self-test or this
command, the public suites with their expected values, a student ``pyproject.toml``, ``README.md`` and
``docs/``. It holds no ``solutions``: the public suites get their expected values through
:mod:`grader.judge.reference`, which replays the results recorded here, by running the public suite once
against the reference solutions (base seed 0, as ``grader check`` uses), into
``grader/suites/public/expected.npz`` and ``expected.json``.

The finished handout is checked (``check_handout``): no file or folder named ``solutions``, no hidden
suite, no function whose body is the body of a reference solution's function (normalised AST dumps,
docstrings dropped; in .py files and in notebooks' code cells), no name of a hidden test anywhere. A
failed check exits 1 with one line and leaves no handout behind. ``grader release --check DIR`` checks
an existing handout only.

Exit status: 0 done, 1 the build or its check failed (one line on stderr), 2 misuse.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from grader.instructor import recording
from grader.judge import reference
from grader.vocabulary.commands import Parser
from grader.vocabulary.kit import INSTRUCTOR_PATHS, KIT

#: Sections of the kit's README that a student's README keeps.
README_SECTIONS = ("The engine in five lines", "Layers take their kernels from your code", "The lecture's networks",
                   "nn, optim, data", "GPU (CuPy)", "Training", "Systems")
#: Sections of docs/grader.md that the student's copy keeps.
GRADER_DOC_SECTIONS = ("For students", "Scoring")
#: The URL in the notebooks' Colab cell that ``--colab-url`` replaces.
COLAB_PLACEHOLDER = "https://github.com/YOUR-COURSE/YOUR-REPOSITORY.git"
#: A function body with fewer AST nodes than this is too small to count as a solution (``return x``).
MIN_BODY_NODES = 12

SETUP = """\
python -m pip install -e . && grader check
python -m pip install -e ".[test]" && python -m pytest exercises/test_my_conv.py
"""


class ReleaseError(Exception):
    """The handout could not be built, or it failed its check (one line)."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="grader release", description="build the student handout (no solutions, no hidden "
                     "tests) and check it")
    parser.add_argument("--out", type=Path, metavar="DIR", help="where to write the handout (new or empty)")
    parser.add_argument("--force", action="store_true", help="replace DIR if it holds something")
    parser.add_argument("--check", type=Path, metavar="DIR", help="only check an existing handout")
    parser.add_argument("--colab-url", metavar="URL", default="",
                        help="the git URL the notebooks' Colab cell clones the handout from")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``grader release``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if (args.out is None) == (args.check is None):
        parser.error("give --out DIR (build a handout) or --check DIR (check one)")
    if args.check is not None:
        if not args.check.is_dir():
            parser.error(f"--check {args.check}: no such folder")
        findings = check_handout(args.check)
        if findings:
            print(f"grader release: {args.check} {_summary(findings)}", file=sys.stderr)
            return 1
        print(f"{args.check}: no solution code, no hidden test, no solutions file")
        return 0
    if not (KIT / "solutions").is_dir() or not (KIT / "grader" / "suites" / "hidden").is_dir():
        parser.error("needs the kit: its solutions/ and grader/suites/hidden/ (this looks like a handout)")
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())) and not args.force:
        parser.error(f"--out {args.out} exists and is not an empty folder (--force replaces it)")
    try:
        summary = build(args.out, colab_url=args.colab_url)
    except ReleaseError as err:
        print(f"grader release: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("grader release: interrupted; no handout written", file=sys.stderr)
        return 130
    print(summary)
    return 0


def _summary(findings: list[str]) -> str:
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    return f"gives too much away: {findings[0]}{more}"


# ----- build -----

def build(out: Path, colab_url: str = "") -> str:
    """Build the handout into ``out`` (replaced), check it; returns a one-line summary, or raises ReleaseError."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        _copy_sources(staging, colab_url)
        try:
            calls = recording.record_suite(staging / "grader" / "suites" / "public" / reference.DATA_NAME, "public")
        except recording.RecordingError as err:
            raise ReleaseError(str(err)) from None
        _write_student_files(staging)
        findings = check_handout(staging)
        if findings:
            raise ReleaseError(f"the handout {_summary(findings)}; nothing written to {out}")
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already unless the build failed
    return (f"wrote {out}: {len(handout_files(out))} files, {calls} expected values of the public tests recorded; "
            "checked: no solution code, no hidden test, no solutions file")


def handout_files(root: Path) -> list[str]:
    """Every file of a handout, relative and sorted."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _ignore_caches(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", ".pytest_cache") or n.endswith((".pyc", ".egg-info"))}


def _copy_sources(target: Path, colab_url: str = "") -> None:
    shutil.copytree(KIT / "minigrad", target / "minigrad", ignore=_ignore_caches)
    (target / "exercises").mkdir()
    for path in sorted((KIT / "exercises").glob("*.py")):
        shutil.copyfile(path, target / "exercises" / path.name)
    left_out = {KIT / p for p in INSTRUCTOR_PATHS}  # a handout is the kit without the instructor's folders

    def ignore(directory: str, names: list[str]) -> set[str]:
        return _ignore_caches(directory, names) | {n for n in names if Path(directory, n) in left_out
                                                   or n.startswith(reference.DATA_NAME + ".")}

    shutil.copytree(KIT / "grader", target / "grader", ignore=ignore)
    _handout_exercises_module(target / "grader" / "vocabulary" / "exercises.py")
    _copy_notebooks(KIT / "notebooks", target / "notebooks", colab_url)


def _copy_notebooks(source: Path, target: Path, colab_url: str = "") -> None:
    """The notebooks, outputs and execution counts cleared (the master's outputs show the reference at work),
    with ``colab_url`` (if given) in place of :data:`COLAB_PLACEHOLDER` in the Colab cell."""
    if not source.is_dir():
        return
    target.mkdir()
    for path in sorted(source.glob("*.ipynb")):
        nb = json.loads(path.read_text("utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
                if colab_url:
                    cell["source"] = "".join(cell.get("source", "")).replace(COLAB_PLACEHOLDER, colab_url)
        (target / path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", "utf-8")


def _handout_exercises_module(path: Path) -> None:
    """Without solutions there are no reference kernels to stage: the residual block runs on the student's."""
    text = path.read_text()
    line = re.compile(r"^REFERENCE_KERNELS_STAGED = True$", re.MULTILINE)
    if len(line.findall(text)) != 1:
        raise ReleaseError("cannot find 'REFERENCE_KERNELS_STAGED = True' in grader/vocabulary/exercises.py to "
                           "clear it for the handout")
    path.write_text(line.sub("REFERENCE_KERNELS_STAGED = False", text))


# ----- the student's files -----

def _sections(markdown: str, titles: Sequence[str]) -> str:
    """The ``## `` sections of ``markdown`` with these titles, in the given order."""
    parts = re.split(r"^(?=## )", markdown, flags=re.MULTILINE)
    found = {p.splitlines()[0][3:].strip(): p.rstrip() + "\n" for p in parts if p.startswith("## ")}
    return "\n".join(found[t] for t in titles if t in found)


def _write_student_files(target: Path) -> None:
    readme = (
        "# minigrad-kit: the exercises\n\n"
        "Set up (Python 3.10+), check your exercises against the public tests, then run your own tests:\n\n"
        f"```bash\n{SETUP}```\n\n"
        "`grader check` exits 1 until every public test passes: a fresh handout prints zeros marked \"not "
        "implemented yet\". Write your code in `exercises/` (`relu.py`, `conv.py`, `pooling.py`, `softmax_ce.py`, "
        "`residual.py`); `grader pack` zips them into `submission.zip` to hand in. The public tests are about a "
        "fifth of the points; the rest are hidden tests, graded later. In `grader check` the residual block "
        "runs on your own convolution, ReLU and pooling; when graded it runs on the reference ones. "
        "See [docs/grader.md](docs/grader.md).\n\n"
        "Or work in the notebooks, one per exercise in `notebooks/` (`python -m pip install -e \".[notebook]\" && "
        "jupyter lab`, VS Code, or Google Colab, where each notebook's first cell installs the handout): the "
        "formula, a worked example, `check(\"conv\")` for the same public tests, a numerical gradient check "
        "of your kernels and a short training run on them. Coming from PyTorch? "
        "[docs/pytorch.md](docs/pytorch.md).\n\n"
    )
    readme += _sections((KIT / "README.md").read_text(), README_SECTIONS)
    (target / "README.md").write_text(readme)
    doc = ("# The grader\n\n`grader check` runs the public tests on your `exercises/` offline: your code runs in a "
           "separate, sandboxed process and is compared with expected values recorded from the reference "
           "solutions.\n\n" + _sections((KIT / "docs" / "grader.md").read_text(), GRADER_DOC_SECTIONS))
    (target / "docs").mkdir()
    (target / "docs" / "grader.md").write_text(doc)
    for page in ("networks.md", "pytorch.md"):
        if (KIT / "docs" / page).is_file():
            shutil.copyfile(KIT / "docs" / page, target / "docs" / page)
    (target / "pyproject.toml").write_text(_student_pyproject((KIT / "pyproject.toml").read_text()))
    (target / ".gitignore").write_text("__pycache__/\n*.egg-info/\n.pytest_cache/\nsubmission.zip\n")


def _student_pyproject(text: str) -> str:
    edits = [
        ('include = ["minigrad*", "exercises*", "solutions*", "grader*"]', 'include = ["minigrad*", "exercises*", '
         '"grader*"]'),
        ('grader = ["judge/judge.ini", "schema/*.json"]', 'grader = ["judge/judge.ini", "schema/*.json", '
         '"suites/public/*.py", "suites/public/expected.*"]'),
        ('testpaths = ["tests"]', 'testpaths = ["exercises"]'),
        ('known-first-party = ["minigrad", "exercises", "solutions", "grader"]',
         'known-first-party = ["minigrad", "exercises", "grader"]'),
    ]
    for old, new in edits:
        if old not in text:
            raise ReleaseError(f"pyproject.toml no longer holds {old!r}: update grader/instructor/release.py")
        text = text.replace(old, new)
    text = re.sub(r'^description = ".*"$', 'description = "A CNN course: the minigrad engine, your exercises and '
                  'the public tests"', text, count=1, flags=re.MULTILINE)
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:
        return text
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ReleaseError(f"the student pyproject.toml does not parse: {err}") from None
    return text


# ----- the check -----

def _python_sources(path: Path) -> list[str]:
    """The Python code in a file: a .py file's text, or each code cell of a notebook (magics and shell lines,
    ``%...`` and ``!...``, blanked so that the rest parses)."""
    text = path.read_text("utf-8", "replace")
    if path.suffix != ".ipynb":
        return [text]
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return []
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            text = "".join(source if isinstance(source, list) else [source])
            sources.append("\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in text.splitlines()))
    return sources


def _functions(path: Path) -> Iterator[tuple[str, str, int]]:
    """(qualified-ish name, body fingerprint, node count) of every function in a Python file or notebook."""
    for source in _python_sources(path):
        try:
            tree = ast.parse(source, filename=str(path))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body[1:] if ast.get_docstring(node, clean=False) is not None else node.body
                if body:  # the body without its docstring, as an AST dump
                    module = ast.Module(body=body, type_ignores=[])
                    yield node.name, ast.dump(module), sum(1 for _ in ast.walk(module))


def solution_fingerprints(kit: Path = KIT) -> dict[str, str]:
    """Body fingerprint -> "solutions/<file>:<function>" for every non-trivial reference function.

    Bodies that the kit's stubs (``exercises/``) or engine (``minigrad/``) hold as well are given code,
    not solutions, and are left out.
    """
    given = {fp for folder in ("exercises", "minigrad") for path in (kit / folder).rglob("*.py")
             for _, fp, _ in _functions(path)}
    found = {}
    for path in sorted((kit / "solutions").rglob("*.py")):
        for name, fp, size in _functions(path):
            if size >= MIN_BODY_NODES and fp not in given:
                found.setdefault(fp, f"{path.relative_to(kit).as_posix()}:{name}")
    return found


def hidden_test_names(kit: Path = KIT) -> set[str]:
    """The names of the hidden suites' tests (those no public test shares)."""
    def names(folder: Path) -> set[str]:
        return {name for path in folder.rglob("*.py") for name, _, _ in _functions(path) if name.startswith("test_")}

    suites = kit / "grader" / "suites"
    return names(suites / "hidden") - names(suites / "public")


def solution_code(root: Path, kit: Path = KIT,
                  shipped: Callable[[str, str], bool] = lambda rel, source: False) -> list[str]:
    """Files or folders under ``root`` named ``solutions``, and functions whose body is a reference solution's
    (in .py files and notebooks), unless ``shipped(path, "solutions/<file>:<function>")`` allows it."""
    findings = []
    solutions = solution_fingerprints(kit)
    for path in [p for p in sorted(root.rglob("*")) if "__pycache__" not in p.parts]:
        rel = path.relative_to(root).as_posix()
        if path.stem == "solutions":
            findings.append(f"{rel} is named solutions")
        if path.is_file() and path.suffix in (".py", ".ipynb"):
            findings += [f"{rel}: {name} has the body of {solutions[fp]}" for name, fp, _ in _functions(path)
                         if fp in solutions and not shipped(rel, solutions[fp])]
    return findings


def check_handout(root: Path, kit: Path = KIT) -> list[str]:
    """What in the handout at ``root`` gives solutions or hidden tests away (empty: nothing)."""
    findings = solution_code(root, kit)
    if (root / "grader" / "suites" / "hidden").exists():
        findings.append("grader/suites/hidden/ is in it")
    hidden = hidden_test_names(kit)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(hidden))) + r")\b") if hidden else None
    for path in sorted(root.rglob("*")):
        if pattern is not None and path.is_file() and "__pycache__" not in path.parts:
            match = pattern.search(path.read_bytes().decode("utf-8", "replace"))
            if match:
                findings.append(f"{path.relative_to(root).as_posix()} names the hidden test {match.group(1)}")
    return findings


if __name__ == "__main__":
    sys.exit(main())
