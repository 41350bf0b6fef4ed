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


@pytest.fixture
def cuda():
    """The CuPy stand-in serving the "cuda" device for one test (minigrad's GPU code path on the CPU)."""
    from minigrad.testing import fake_cuda

    with fake_cuda() as module:
        yield module


@pytest.fixture
def fast_init(monkeypatch: pytest.MonkeyPatch) -> None:
    """Zero-fill instead of drawing random weights: building VGG16 drops from seconds to a fraction."""
    from minigrad import nn

    def zero(tensor, *args, **kwargs):
        tensor.data.fill(0)
        return tensor

    monkeypatch.setattr(nn.init, "kaiming_uniform_", zero)
    monkeypatch.setattr(nn.init, "uniform_", zero)
