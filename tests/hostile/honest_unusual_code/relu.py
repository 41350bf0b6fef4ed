"""Not an attack: honest code that uses what attacks use too — a NamedTuple and a dataclass cache, logging,
warnings, a traceback, a temporary file, numpy.testing, an optional import of pytest, ``__file__`` — with a
wrong gradient. Its failures must stay "failed": none of this is tampering.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import traceback
import warnings
from typing import Any, NamedTuple

import numpy as np
import numpy.testing

try:  # left over from the student's own tests
    import pytest
except ImportError:
    pytest = None

log = logging.getLogger(__name__)
HERE = os.path.dirname(os.path.abspath(__file__))
with open(__file__) as _own_source:
    _own_source.read()


class Cache(NamedTuple):
    positive: Any


@dataclasses.dataclass
class Stats:
    calls: int = 0


STATS = Stats()


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Correct, with some ceremony."""
    STATS.calls += 1
    log.info("relu_forward called %d times", STATS.calls)
    warnings.warn("checking the input", stacklevel=2)
    "".join(traceback.format_stack(limit=2))
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as scratch:
        scratch.write(str(x.shape))
    with open("debug.txt", "a") as debug:
        debug.write(f"{x.shape}\n")
    out = np.where(x > 0, x, np.zeros((), dtype=x.dtype))
    numpy.testing.assert_array_equal(out >= 0, True)
    return out, Cache(x > 0)


def relu_backward(dout: Any, cache: Any) -> Any:
    """Wrong: forgets to block the gradient."""
    return dout.copy()
