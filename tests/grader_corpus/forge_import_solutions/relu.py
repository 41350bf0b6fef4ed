"""Forgery: find the grader's kit through the judge process (/proc/<parent>) and re-export its solutions.

The staging directory holds no solutions, but an unsandboxed runner can read the judge's environment and
command line. Inside bubblewrap the judge's /proc entry and the kit's files do not exist, so it scores 0.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any


def _kit_candidates() -> list[str]:
    found: list[str] = []
    pid = os.getppid()
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for item in f.read().split(b"\0"):
                if item.startswith(b"PYTHONPATH="):
                    found += item.split(b"=", 1)[1].decode().split(os.pathsep)
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            for arg in f.read().split(b"\0"):
                path = arg.decode(errors="replace")
                while "/grader/" in path:
                    path = path.rsplit("/grader/", 1)[0]
                    found.append(path)
    except OSError:
        pass
    return [p for p in found if p and os.path.isdir(os.path.join(p, "solutions"))]


for _path in _kit_candidates():
    sys.path.append(_path)
try:
    _ref = importlib.import_module("solutions.relu")
    relu_forward, relu_backward = _ref.relu_forward, _ref.relu_backward
except ImportError:
    def relu_forward(x: Any) -> tuple[Any, Any]:
        """The kit was not found."""
        raise NotImplementedError("kit not found")

    def relu_backward(dout: Any, cache: Any) -> Any:
        """The kit was not found."""
        raise NotImplementedError("kit not found")
