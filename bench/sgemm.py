"""This machine's single-precision matrix-multiply rate: the ceiling for convolution done as GEMM."""

from __future__ import annotations

import numpy as np

from bench.timing import median_seconds


def run(n: int = 2048) -> dict[str, float]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    seconds = median_seconds(lambda: a @ b, repeats=5)
    return {"n": n, "seconds": seconds, "gflops": 2 * n**3 / seconds / 1e9}
