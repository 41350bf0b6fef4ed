"""Attack: leave a process behind (double fork + setsid) that sleeps past the end of grading and then
writes a file into the test's canary directory and its own working directory. The values are correct.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

_started = False


def _leave_a_child() -> None:
    global _started
    if _started:
        return
    _started = True
    if os.fork() == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                time.sleep(6)
                for path in ("@CANARY_DIR@/outlived", "outlived"):
                    try:
                        with open(path, "w") as f:
                            f.write("still here\n")
                    except OSError:
                        pass
                while True:  # and never leave
                    time.sleep(1)
        finally:
            os._exit(0)
    os.wait()


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Correct, after leaving a child behind."""
    _leave_a_child()
    return np.where(x > 0, x, np.zeros((), dtype=x.dtype)), x > 0


def relu_backward(dout: Any, cache: Any) -> Any:
    """Correct."""
    return np.where(cache, dout, np.zeros((), dtype=dout.dtype))
