"""Forgery: write a results file claiming full marks wherever a grader might read one.

It writes into its working directory, the directories above it and $HOME, at import and from a
background thread for as long as the runner lives. The judge keeps its own results in memory and
writes its file after the runners are gone, so none of this counts. The block itself is missing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

FAKE = {"results": [{"nodeid": f"hidden/test_{name}.py::forged", "name": "forged", "exercise": name,
                     "points": 100.0, "max_points": 100.0, "status": "passed", "output": "", "visibility": "visible",
                     "seed": 0, "duration": 0.0} for name in ("residual", "conv", "pooling", "relu", "softmax_ce")],
        "runner_output": {}}
TARGETS = ["results.json", "../results.json", "../../results.json",  # ../.. is where the judge keeps its own
           os.path.join(os.environ.get("HOME", "."), "results.json")]


def _write_all() -> None:
    for target in TARGETS:
        try:
            with open(target, "w") as f:
                json.dump(FAKE, f)
        except OSError:
            pass


def _keep_writing() -> None:
    while True:
        _write_all()
        time.sleep(0.005)


_write_all()
threading.Thread(target=_keep_writing, daemon=True).start()


class ResidualBlock:
    """Not a block at all."""

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        _write_all()
        raise RuntimeError("no block here, only a results file")

    def forward(self, x: Any) -> Any:
        """Never reached."""
        raise RuntimeError("no block here")
