"""One seeded source of randomness for the whole kit.

Random numbers are drawn on the host from one ``numpy.random.Generator`` and
then moved to the tensor's device, so ``manual_seed(s)`` gives the same
initial weights, dropout masks and shuffles on the CPU and on a GPU.
"""

from __future__ import annotations

import numpy as np

__all__ = ["get_generator", "manual_seed", "initial_seed"]

_seed: int | None = None
_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the kit's generator; returns it."""
    global _generator, _seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    return _generator


def initial_seed() -> int | None:
    """The last seed given to :func:`manual_seed` (None if never seeded)."""
    return _seed


def get_generator() -> np.random.Generator:
    """The generator every random op draws from."""
    return _generator
