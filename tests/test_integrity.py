"""Integrity signals: static flags on snippets and the corpus, similarity by winnowing, the two reports."""

from __future__ import annotations

import ast
import builtins
import io
import json
import keyword
import random
import re
import time
import tokenize
from pathlib import Path

import pytest
from kit_copies import reference_submission

from grader.instructor.integrity import KINDS, flag_source, similar_pairs, summary_line, write_reports
from grader.instructor.integrity.report import kit_stubs
from grader.vocabulary.exercises import EXERCISE_FILES

KIT = Path(__file__).resolve().parent.parent
CORPUS = KIT / "tests" / "grader_corpus"
ALTERNATIVE = CORPUS / "alternative_correct"

# kind -> snippets, each of which must raise that kind
SNIPPETS: dict[str, list[str | bytes]] = {
    "introspection": ["import inspect\n", "import gc\n", "import sys\nframe = sys._getframe(1)\n",
                      "def up(frame):\n    return frame.f_back.f_locals\n",
                      "import traceback\nstack = traceback.extract_stack()\n", "from sys import _getframe\n"],
    "ctypes": ["import ctypes\n", "from cffi import FFI\n"],
    "builtins_patch": ["import builtins\nbuiltins.len = lambda x: 0\n", "__builtins__['len'] = None\n",
                       "import builtins\nsetattr(builtins, 'abs', print)\n", "import builtins as b\ndel b.max\n"],
    "module_patch": ["import numpy.testing\nnumpy.testing.assert_allclose = lambda *a, **k: None\n",
                     "import numpy as np\nnp.allclose = lambda *a: True\n",
                     "import pytest\npytest.approx = lambda x: x\n",
                     "import minigrad\nminigrad.nn.Conv2d = object\n",
                     "from minigrad import nn\nnn.functional.conv2d = None\n",
                     "import numpy as np\nsetattr(np, 'isclose', None)\n",
                     "import numpy as np\nnp.__dict__['allclose'] = None\n",
                     "import sys\nnumpy = sys.modules['numpy']\n"],
    "process_exit": ["import os\nos._exit(0)\n", "import sys\nsys.exit(1)\n", "import os\nos.kill(0, 9)\n",
                     "import signal\n", "raise SystemExit(3)\n", "import atexit\n"],
    "subprocess_or_fork": ["import subprocess\n", "import os\nos.fork()\n", "import os\nos.system('ls')\n",
                           "from multiprocessing import Pool\n", "import pty\n",
                           "import os\nos.execv('/bin/sh', ['sh'])\n", "import threading\n"],
    "network": ["import socket\n", "from urllib.request import urlopen\n", "import http.client\n",
                "import requests\n"],
    "filesystem_escape": ["open('/etc/passwd').read()\n", "from pathlib import Path\nPath('../solutions/conv.py')\n",
                          "import os\nhome = os.environ['HOME']\n", "path = f'/proc/{1}/environ'\n",
                          "with open('results.json', 'w') as f:\n    pass\n", "import sys\nsys.path.insert(0, 'x')\n",
                          "import os\nparent = os.path.join(os.getcwd(), '..', 'kit')\n", "TARGETS = ['../x.json']\n"],
    "dunder_override": ["class A:\n    def __eq__(self, other):\n        return True\n",
                        "import numpy as np\nclass L(np.ndarray):\n    pass\n",
                        "class B:\n    __array_ufunc__ = None\n",
                        "class C:\n    def __bool__(self):\n        return True\n",
                        "class D:\n    def __array__(self, dtype=None):\n        return 0\n",
                        "class E:\n    def __array_function__(self, *a):\n        return 0\n",
                        "class F(float):\n    def __float__(self):\n        return 1.0\n",
                        "class G:\n    def __ne__(self, other):\n        return False\n",
                        "Lie = type('Lie', (), {'__eq__': lambda s, o: True})\n"],
    "forbidden_import": ["import torch\n", "from scipy.signal import convolve2d\n", "from scipy import ndimage\n",
                         "import tensorflow as tf\n", "import jax.numpy as jnp\n", "import cv2\n",
                         "from skimage.util import view_as_windows\n", "from solutions.conv import conv2d_forward\n",
                         "import scipy\nout = scipy.signal.correlate2d(a, b)\n",
                         "import importlib\nm = importlib.import_module('torch.nn')\n"],
    "dynamic_code": ["exec('x = 1')\n", "y = eval('1 + 1')\n", "c = compile('1', 'f', 'eval')\n",
                     "m = __import__('os')\n", "import importlib\n"],
    "unparsable": ["def f(:\n", b"\xff\xfe not utf-8", "x = 1\x00\n", "x = " + "(" * 300 + ")" * 300 + "\n"],
}

# ordinary student code that must raise nothing
CLEAN = [
    "import numpy as np\nfrom typing import Any, NamedTuple\n\nclass Cache(NamedTuple):\n    x: Any\n",
    "import re\npattern = re.compile('x')\n", "from re import compile\nm = compile('x')\n",
    "def compile(x):\n    return x\n\ny = compile(1)\n", "x = a[..., 0]\nmsg = f'{n}/{m} done'\ns = 'C_in/groups'\n",
    "import numpy as np\nrng = np.random.default_rng(0)\nnp.seterr(all='raise')\n",
    "class Block:\n    def __init__(self):\n        self.w = 1\n        self.cache = None\n",
    "import numpy as np\nw = np.lib.stride_tricks.as_strided(x, shape=(1,), strides=(8,))\n",
    "data = open('weights.npz', 'rb').read()\n",
    'def f(x):\n    """Windows of x[..., ::2]; see /proc only in docs."""\n    return x\n',
]

# corpus forgery -> kinds it must raise
FORGERIES = {
    "forge_stack_frames": {"introspection"},
    "forge_patched_asserts": {"module_patch", "builtins_patch", "dynamic_code"},
    "forge_always_equal": {"dunder_override"},
    "forge_ndarray_subclass": {"dunder_override"},
    "forge_import_solutions": {"filesystem_escape", "forbidden_import", "dynamic_code"},
    "forge_results_file": {"filesystem_escape", "subprocess_or_fork"},
}


def kinds(name: str, source: str | bytes) -> set[str]:
    return {flag.kind for flag in flag_source(name, source)}


def folder(path: Path) -> dict[str, str]:
    return {name: (path / name).read_text() for name in EXERCISE_FILES if (path / name).is_file()}


# ---------------------------------------------------------------------------------------------- static flags

def test_every_kind_has_snippets_and_an_explanation():
    assert set(SNIPPETS) == set(KINDS)
    assert all(KINDS.values())


@pytest.mark.parametrize(("kind", "source"), [(k, s) for k, snippets in SNIPPETS.items() for s in snippets])
def test_snippet_raises_its_kind(kind, source):
    assert kind in kinds("snippet.py", source)


@pytest.mark.parametrize("source", CLEAN)
def test_ordinary_code_raises_nothing(source):
    assert flag_source("clean.py", source) == []


def test_kit_solutions_stubs_and_honest_corpus_raise_nothing(tmp_path):
    files = [*sorted((KIT / "solutions").glob("*.py")), *sorted((KIT / "exercises").glob("*.py"))]
    files += sorted(reference_submission(tmp_path / "reference").glob("*.py"))
    files += [p for d in sorted(CORPUS.iterdir()) if not d.name.startswith("forge_") for p in sorted(d.glob("*.py"))]
    assert len(files) > 30
    flagged = {str(p): flags for p in files if (flags := flag_source(p.name, p.read_text()))}
    assert flagged == {}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_corpus_forgeries_get_their_flags(name):
    flags = [f for path in sorted((CORPUS / name).glob("*.py")) for f in flag_source(path.name, path.read_text())]
    assert FORGERIES[name] <= {f.kind for f in flags}
    assert all(f.file.endswith(".py") and f.line >= 1 and f.detail and KINDS.get(f.kind) for f in flags)


def test_flags_point_at_the_line():
    source = (CORPUS / "forge_stack_frames" / "softmax_ce.py").read_text()
    lines = {f.line for f in flag_source("softmax_ce.py", source) if f.kind == "introspection"}
    getframe = next(i for i, line in enumerate(source.splitlines(), 1) if "sys._getframe" in line)
    assert getframe in lines
    bad = flag_source("x.py", "x = 1\ny = (\n")
    assert [f.kind for f in bad] == ["unparsable"] and bad[0].line >= 1


def test_forbidden_set_is_configurable():
    assert kinds("a.py", "import numba\n") == set()
    assert kinds("a.py", "import torch\n") == {"forbidden_import"}
    assert flag_source("a.py", "import numba\n", forbidden={"numba"})[0].kind == "forbidden_import"
    assert flag_source("a.py", "import torch\n", forbidden=()) == []


# ------------------------------------------------------------------------------------------------ similarity

def rename_and_reformat(source: str, seed: int) -> str:
    """Every name the file defines renamed, comments gone, layout rewritten (ast.unparse)."""
    tree = ast.parse(source)
    keep = set(dir(builtins)) | {"self"}
    keep |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name[0] != "_"}
    rng, mapping = random.Random(seed), {}

    def new(name: str) -> str:
        if name in keep or name.startswith("__"):
            return name
        return mapping.setdefault(name, "v_" + "".join(rng.choice("abcdefgh") for _ in range(6)))

    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            node.id = new(node.id)
        elif isinstance(node, ast.arg):
            node.arg = new(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            node.name = new(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            node.attr = new(node.attr)
    return ast.unparse(tree) + "\n"


def implant(stub: str, solution: str) -> str:
    """A stub-based submission: the stub's docstrings and signatures with the solution's bodies."""
    done = {n.name: n for n in ast.parse(solution).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    tree = ast.parse(stub)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in done:
            body = done.pop(node.name).body
            docstring = node.body[:1] if isinstance(node.body[0], ast.Expr) else []
            node.body = docstring + [s for s in body if not (isinstance(s, ast.Expr)
                                                             and isinstance(s.value, ast.Constant))] or body
    tree.body += list(done.values())
    return ast.unparse(tree) + "\n"


def pair_of(pairs: list, a: str, b: str):
    return next((p for p in pairs if {p.a, p.b} == {a, b}), None)


def test_renaming_and_reformatting_does_not_hide_a_copy(tmp_path):
    reference = folder(reference_submission(tmp_path / "reference"))
    subs = {"alice": reference, "bob": {n: rename_and_reformat(s, 1) for n, s in reference.items()},
            "carol": folder(ALTERNATIVE)}
    assert subs["bob"]["conv.py"] != reference["conv.py"]
    pairs = similar_pairs(subs, kit_stubs())
    copy = pair_of(pairs, "alice", "bob")
    assert (pairs[0].a, pairs[0].b) == ("alice", "bob")
    assert copy.score > 0.8 and all(f.score > 0.8 for f in copy.files.values())
    assert set(copy.files) == set(EXERCISE_FILES)
    conv = copy.files["conv.py"]
    assert conv.matches and all(1 <= m.a[0] <= m.a[1] and 1 <= m.b[0] <= m.b[1] for m in conv.matches)
    assert sum(m.a[1] - m.a[0] + 1 for m in conv.matches) > 0.5 * len(reference["conv.py"].splitlines())


@pytest.mark.parametrize(("written", "rewritten"), [
    ("a, b = f(x)\nc, d = g(y)\n", "a, b = f(x)\n(c, d) = g(y)\n"),          # ast.unparse of Python 3.10
    ("raise ValueError('one ' 'line')\n", "raise ValueError('one line')\n"),  # adjacent strings joined
    ("x = (a + b) * c\n", "x = (a + b) * (c)\n"),
])
def test_layout_that_ast_unparse_changes_gives_the_same_tokens(written, rewritten):
    from grader.instructor.integrity.similarity import normalized_tokens

    assert normalized_tokens(written)[0] == normalized_tokens(rewritten)[0]
    assert normalized_tokens("f(x)\n(y)\n")[0] == ["V", "(", "V", ")", "V"]  # a new statement's "(" groups


def test_independent_correct_solutions_score_low():
    pairs = similar_pairs({"sol": folder(KIT / "solutions"), "alt": folder(ALTERNATIVE)}, kit_stubs())
    assert pairs == [] or pairs[0].score < 0.2


def test_the_handout_does_not_count_as_similar():
    stubs = kit_stubs()
    solutions, alternative = folder(KIT / "solutions"), folder(ALTERNATIVE)
    subs = {"unfinished": dict(stubs),
            "dana": {n: implant(s, solutions[n]) for n, s in stubs.items()},
            "eve": {n: implant(s, alternative[n]) for n, s in stubs.items()}}
    assert pair_of(similar_pairs(subs, {}), "unfinished", "dana").shared >= 20  # without a base they share it
    pairs = similar_pairs(subs, stubs)
    assert pair_of(pairs, "unfinished", "dana") is None and pair_of(pairs, "unfinished", "eve") is None
    dana_eve = pair_of(pairs, "dana", "eve")
    assert dana_eve is None or dana_eve.score < 0.2


KEEP = set(keyword.kwlist) | set(dir(builtins)) | {"self"}


def _renamer(source: str):
    names = sorted({t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
                    if t.type == tokenize.NAME and t.string not in KEEP})
    pattern = re.compile(r"\b(?:" + "|".join(names) + r")\b")

    def apply(text: str, rng: random.Random) -> str:
        mapping = {n: "n_" + "".join(rng.choice("abcdefghijklmnop") for _ in range(5)) for n in names}
        return pattern.sub(lambda m: mapping[m.group()], text)
    return apply


def _helper(rng: random.Random, i: int) -> str:
    """A small function of random arithmetic: code no two students share."""
    def expr(depth: int = 0) -> str:
        if depth > 1 or rng.random() < 0.3:
            return rng.choice("abcd") if rng.random() < 0.6 else str(rng.randint(0, 99))
        return f"({expr(depth + 1)} {rng.choice('+-*/%')} {expr(depth + 1)})"
    body = [f"    {rng.choice('abcd')} = {expr()}" for _ in range(rng.randint(4, 8))]
    return "\n".join([f"def helper_{i}(a, b, c):", "    d = 0", *body, "    return d"]) + "\n"


def test_a_batch_of_200_mutated_copies(capsys):
    """200 students: one of two correct solutions per file, renamed, plus their own helpers; one copies another."""
    rng = random.Random(0)
    sources = {n: [(KIT / "solutions" / n).read_text(), (ALTERNATIVE / n).read_text()] for n in EXERCISE_FILES}
    renamers = {n: [_renamer(s) for s in pair] for n, pair in sources.items()}
    subs = {}
    for s in range(200):
        files = {}
        for name in EXERCISE_FILES:
            j = rng.randrange(2)
            text = sources[name][j] + "\n\n" + "\n\n".join(_helper(rng, i) for i in range(rng.randint(1, 3)))
            files[name] = renamers[name][j](text, rng)
        subs[f"student{s:03d}"] = files
    subs["student199"] = {n: rename_and_reformat(t, 7) for n, t in subs["student042"].items()}
    start, cpu = time.perf_counter(), time.process_time()
    pairs = similar_pairs(subs, kit_stubs(), top=10)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    with capsys.disabled():
        size = sum(len(t) for files in subs.values() for t in files.values())
        print(f"\n[integrity] similarity of {len(subs)} submissions × {len(EXERCISE_FILES)} files "
              f"({size / 1e6:.1f} MB of source): {elapsed:.2f} s ({cpu:.2f} s CPU)")
    assert (pairs[0].a, pairs[0].b) == ("student042", "student199") and pairs[0].score > 0.8
    assert all(p.score < 0.3 for p in pairs[1:])  # the shared solutions are common code, not evidence


# ---------------------------------------------------------------------------------------------------- reports

def test_reports_are_written_and_readable(tmp_path):
    reference = folder(reference_submission(tmp_path / "reference"))
    subs: dict[str, dict[str, str | bytes]] = {
        d.name: {p.name: p.read_text() for p in sorted(d.glob("*.py"))} for d in sorted(CORPUS.iterdir())}
    subs |= {"reference": reference, "copycat": {n: rename_and_reformat(s, 3) for n, s in reference.items()},
             "binary": {"relu.py": b"\xff\xfe not utf-8"}, "empty": {}}
    out = tmp_path / "grading"
    payload = write_reports(out, subs)
    data = json.loads((out / "integrity.json").read_text())
    assert data == json.loads(json.dumps(payload))
    assert sorted(p.name for p in out.iterdir()) == ["integrity.json", "integrity.md"]  # no temp files left
    assert set(data["students"]) == set(subs)
    for name, expected in FORGERIES.items():
        assert expected <= set(data["students"][name]["counts"])
    assert data["students"]["reference"]["flags"] == [] and data["students"]["binary"]["counts"] == {"unparsable": 1}
    assert data["similarity"]["base_files"] == sorted(EXERCISE_FILES)
    top = data["similarity"]["pairs"]
    assert any({p["a"], p["b"]} == {"copycat", "reference"} and p["score"] > 0.8 for p in top[:5])
    assert all(m["a_lines"][0] <= m["a_lines"][1] for p in top for f in p["files"].values() for m in f["matches"])
    md = (out / "integrity.md").read_text()
    assert "never a penalty" in "\n".join(md.splitlines()[:4])
    assert "| forge\\_stack\\_frames | introspection ×" in md and "## Most similar pairs" in md and "↔" in md
    assert "copycat" in summary_line(payload) or "flagged" in summary_line(payload)
    write_reports(out, subs)  # a rerun replaces both files with the same content
    assert json.loads((out / "integrity.json").read_text()) == data
