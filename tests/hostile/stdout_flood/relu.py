"""Attack: print 100 MB to stdout (and stderr), carrying on when a write fails; the values are correct.

The runner's output log stops growing at the file-size limit (its writes then fail with EFBIG: SIGXFSZ is
ignored), the judge reads 64 KiB of it, and grading goes on.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import numpy as np

LINE = "flood " * 16 + "\n"


def _flood() -> None:
    written = 0
    while written < 100 * 1024 * 1024:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.write(LINE * 1000)
                stream.flush()
            except OSError:
                pass
        with contextlib.suppress(OSError):
            os.write(1, LINE.encode() * 1000)
        written += 3 * 1000 * len(LINE)


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Correct, after 100 MB of output."""
    _flood()
    return np.where(x > 0, x, np.zeros((), dtype=x.dtype)), x > 0


def relu_backward(dout: Any, cache: Any) -> Any:
    """Correct, after 100 MB of output."""
    _flood()
    return np.where(cache, dout, np.zeros((), dtype=dout.dtype))
