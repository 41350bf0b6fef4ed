"""The README's Python examples run as written, in order, as one session would run them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_examples_run_and_compute_what_they_say():
    assert len(BLOCKS) >= 2
    namespace: dict = {}
    for index, block in enumerate(BLOCKS):
        exec(compile(block, f"README.md example {index}", "exec"), namespace)
    x, w = namespace["x"], namespace["w"]
    assert x.grad.shape == (2, 2) and w.grad.dtype == np.float32
    y = namespace["y"]  # the custom Function example: y = x³ at x = 2
    np.testing.assert_allclose(y.numpy(), [8.0])
