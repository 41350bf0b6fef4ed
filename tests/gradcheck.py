"""Central-difference gradient checks over whole float64 tensors, shared by the test modules.

    from gradcheck import assert_gradients_match
    x = minigrad.tensor(rng.standard_normal((3, 4)), dtype="float64", requires_grad=True)
    assert_gradients_match(lambda x: x.exp(), [x])

``assert_gradients_match`` runs ``f`` once, back-propagates ``(f(*inputs) * g).sum()`` for a
random upstream ``g`` and checks every input's ``.grad`` (shape, dtype), then compares the
values with central differences on every element of every input through
``minigrad.testing.gradcheck``, the checker students use too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing import gradcheck

# One setting for every property-based gradient check: few, small examples keep the suite fast.
GRAD_SETTINGS = settings(max_examples=25, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def f64(array: Any, requires_grad: bool = True) -> mg.Tensor:
    """A float64 tensor copy of ``array`` (requiring grad by default)."""
    return mg.tensor(np.asarray(array, dtype=np.float64), dtype="float64", requires_grad=requires_grad)


def assert_gradients_match(f: Callable[..., Any], inputs: Sequence[mg.Tensor], eps: float = 1e-6,
                           rtol: float = 1e-5, atol: float = 1e-6, seed: int = 0) -> mg.Tensor:
    """Check ``backward`` of ``f`` against central differences; returns ``f(*inputs)``.

    Every input must be a float64 tensor requiring grad. The values are compared by
    ``minigrad.testing.gradcheck`` (a random upstream gradient, so a wrong transpose or a
    missing broadcast sum cannot hide behind an all-ones upstream); here, on top, every
    input's ``.grad`` must exist with the input's shape and dtype and not require grad itself.
    """
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        assert isinstance(x, mg.Tensor) and x.requires_grad, f"input {i} must be a tensor requiring grad"
        assert x.dtype == np.float64, f"input {i} must be float64 for a gradient check, got {x.dtype}"
        x.grad = None
    out = f(*inputs)
    assert out.dtype == np.float64, f"float64 inputs gave a {out.dtype} output"
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    (out * mg.tensor(upstream, dtype=out.dtype)).sum().backward()
    for i, x in enumerate(inputs):
        grad = x.grad
        assert grad is not None, f"input {i} of shape {x.shape} got no gradient"
        assert grad.shape == x.shape, f"input {i}: gradient shape {grad.shape} != input shape {x.shape}"
        assert grad.dtype == x.dtype, f"input {i}: gradient dtype {grad.dtype} != input dtype {x.dtype}"
        assert not grad.requires_grad, f"input {i}: a gradient must not require grad itself"
    gradcheck(f, *inputs, eps=eps, rtol=rtol, atol=atol, seed=seed)
    return out


def assert_forward(out: mg.Tensor, expected: Any, dtype: Any = None, rtol: float = 1e-12,
                   atol: float = 1e-12) -> None:
    """Shape, then dtype, then values of a forward result against a NumPy reference."""
    expected = np.asarray(expected)
    assert isinstance(out, mg.Tensor), f"expected a Tensor, got {type(out).__name__}"
    assert out.shape == expected.shape, f"shape {out.shape} != expected {expected.shape}"
    if dtype is not None:
        assert out.dtype == np.dtype(dtype), f"dtype {out.dtype} != expected {np.dtype(dtype)}"
    np.testing.assert_allclose(out.numpy(), expected, rtol=rtol, atol=atol)


# ----- hypothesis strategies shared by the gradient-check files -----

def values(data: st.DataObject, shape: tuple[int, ...], kind: str = "normal") -> np.ndarray:
    """Float64 values of ``shape`` from a drawn seed: normal, positive (0.5..2) or nonzero (|v| in 0.5..2)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    if kind == "normal":
        return rng.standard_normal(shape)
    magnitude = rng.uniform(0.5, 2.0, shape)
    if kind == "positive":
        return magnitude
    if kind == "nonzero":
        return magnitude * rng.choice([-1.0, 1.0], shape)
    raise ValueError(kind)


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
two_broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
three_broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)
