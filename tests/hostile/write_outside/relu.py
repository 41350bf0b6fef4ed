"""Attack: write outside the working directory — over the other submission's files, over a file of the
kit's, into the kit's solutions/, into the host's /tmp, the test's canary directory and Gradescope's
results.json. Wrong values.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np

BROKEN = "def relu_forward(x):\n    raise RuntimeError('sabotaged')\n"
TARGETS = {
    "@OTHER@/relu.py": BROKEN,
    "@KIT_CANARY@": "overwritten\n",
    "@HOST_TMP_CANARY@": "overwritten\n",
    "@KIT@/solutions/@CANARY_NAME@.py": BROKEN,
    "@CANARY_DIR@/written": "written\n",
    "@RESULTS@/results.json": '{"score": 100.0, "tests": []}\n',
}


def _vandalize() -> None:
    for path, text in TARGETS.items():
        for mode in ("w", "a"):
            try:
                with open(path, mode) as f:
                    f.write(text)
            except OSError:
                pass
        with contextlib.suppress(OSError):
            os.remove(path)


_vandalize()


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Wrong, and vandalizes again."""
    _vandalize()
    return np.zeros_like(x), None


def relu_backward(dout: Any, cache: Any) -> Any:
    """Wrong."""
    return np.zeros_like(dout)
