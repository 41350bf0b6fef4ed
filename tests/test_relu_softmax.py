"""ReLU and softmax cross-entropy kernels: values, the gradient at 0, stability at ±1e4, errors."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradients_match, f64
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad.nn import functional as F
from solutions.relu import relu_backward, relu_forward
from solutions.softmax_ce import (
    log_softmax,
    softmax,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)

finite = st.floats(-50, 50, allow_nan=False, width=64)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), elements=finite),
       st.sampled_from([np.float32, np.float64]))
def test_relu_forward_backward(x, dtype):
    x = x.astype(dtype)
    x_copy = x.copy()
    out, cache = relu_forward(x)
    assert out.shape == x.shape and out.dtype == dtype
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0))
    dout = np.arange(x.size, dtype=dtype).reshape(x.shape) + 1
    dx = relu_backward(dout, cache)
    assert dx.dtype == dtype
    np.testing.assert_array_equal(dx, np.where(x > 0, dout, 0))
    np.testing.assert_array_equal(x, x_copy)


def test_relu_gradient_is_zero_at_exactly_zero():
    x = np.array([-1.0, -0.0, 0.0, 1e-300, 2.0])
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(relu_backward(np.ones(5), cache), [0.0, 0.0, 0.0, 1.0, 1.0])
    assert not np.signbit(out).any()  # max(0, -0.0) gives +0


def loss_and_grad(logits, labels):
    loss, cache = softmax_cross_entropy_forward(logits, labels)
    return loss, softmax_cross_entropy_backward(np.asarray(1.0, logits.dtype), cache)


def expected_grad(logits, labels):
    """(softmax - onehot)/N in float64, from the log-sum-exp of each row."""
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_is_stable_at_plus_minus_1e4(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    labels = np.array([0, 0, 1])
    loss, dlogits = loss_and_grad(logits, labels)
    assert loss.dtype == dlogits.dtype == dtype
    assert np.isfinite(loss) and np.isfinite(dlogits).all()
    # row losses: 0, 2e4 (label far below the max), log 2 (two equal maxima)
    np.testing.assert_allclose(float(loss), (0 + 2e4 + np.log(2)) / 3, rtol=1e-6)
    np.testing.assert_allclose(dlogits, expected_grad(logits, labels), atol=1e-7)
    p = softmax(logits)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    assert np.isfinite(log_softmax(logits)).all()


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 5)), elements=finite), st.data())
def test_softmax_cross_entropy_matches_its_formula(logits, data):
    labels = np.array(data.draw(st.lists(st.integers(0, logits.shape[1] - 1), min_size=len(logits),
                                         max_size=len(logits))))
    loss, dlogits = loss_and_grad(logits, labels)
    log_p = log_softmax(logits)
    np.testing.assert_allclose(np.exp(log_p), softmax(logits), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(float(loss), -log_p[np.arange(len(labels)), labels].mean(), rtol=1e-12)
    np.testing.assert_allclose(dlogits, expected_grad(logits, labels), rtol=1e-10, atol=1e-15)


def test_batch_of_one(rng):
    logits = rng.standard_normal((1, 4))
    loss, dlogits = loss_and_grad(logits, np.array([2]))
    assert loss.shape == () and dlogits.shape == (1, 4)
    np.testing.assert_allclose(dlogits, expected_grad(logits, np.array([2])), rtol=1e-12)


def test_minigrad_cross_entropy_and_relu_gradients_match_central_differences(rng):
    logits = f64(rng.standard_normal((3, 4)))
    labels = np.array([3, 0, 1])
    assert_gradients_match(lambda z: F.cross_entropy(F.relu(z) * 2 - z, labels), [logits])


@pytest.mark.parametrize("labels, error, match", [
    (np.array([0, 3]), ValueError, "labels"),
    (np.array([-1, 0]), ValueError, "labels"),
    (np.array([0.0, 1.0]), TypeError, "labels"),
    (np.array([0]), ValueError, "labels"),
])
def test_bad_labels_raise_one_line(labels, error, match):
    with pytest.raises(error, match=match) as info:
        softmax_cross_entropy_forward(np.zeros((2, 3)), labels)
    assert "\n" not in str(info.value)


def test_bad_logits_raise_one_line():
    with pytest.raises(ValueError, match="logits"):
        softmax_cross_entropy_forward(np.zeros(3), np.array([0]))
    with pytest.raises(TypeError, match="x"):
        relu_forward([1.0, -1.0])
    with pytest.raises(TypeError, match="logits"):
        minigrad.nn.functional.cross_entropy(minigrad.tensor(np.zeros((2, 3), np.int64)), [0, 1])
