"""Shared fixtures: seeded randomness, float64 gradient checks, and the CuPy stand-in as 'cuda'."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

import minigrad


@pytest.fixture(autouse=True)
def _seeded() -> None:
    minigrad.manual_seed(0)
    minigrad.kernels.use_kernels("solutions")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
