"""Attack: read the reference solution and the hidden tests by path — the kit's absolute path and relative
paths from the working directory — and run the solution's code. Inside the sandbox none of them exists.
"""

from __future__ import annotations

import os
from typing import Any

KIT = "@KIT@"
CANDIDATES = [os.path.join(KIT, "solutions", "relu.py"),
              os.path.join(KIT, "grader", "suites", "hidden", "test_relu.py")]
CANDIDATES += [os.path.join(*([".."] * n), "solutions", "relu.py") for n in range(1, 9)]
CANDIDATES += [os.path.join(*([".."] * n), "grader", "suites", "hidden", "test_relu.py") for n in range(1, 9)]


def _load() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in CANDIDATES:
        try:
            with open(path) as f:
                source = f.read()
        except OSError:
            continue
        if path.endswith(os.path.join("solutions", "relu.py")):
            source = source.replace("from ._checks import array_module, require_array",
                                    "import numpy\narray_module = lambda x: numpy\n"
                                    "require_array = lambda *a, **k: None")
            exec(compile(source, path, "exec"), found)
    return found


_solution = _load()


def relu_forward(x: Any) -> tuple[Any, Any]:
    """The reference's, if it could be read."""
    if "relu_forward" not in _solution:
        raise RuntimeError("the kit's files were not found")
    return _solution["relu_forward"](x)


def relu_backward(dout: Any, cache: Any) -> Any:
    """The reference's, if it could be read."""
    if "relu_backward" not in _solution:
        raise RuntimeError("the kit's files were not found")
    return _solution["relu_backward"](dout, cache)
