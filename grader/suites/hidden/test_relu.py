"""Hidden tests of exercise 1, ReLU: values, the gradient at exactly 0, dtypes, and inputs left alone.

The dtype and input tests are fixed (the same inputs at every seed; see ``grader.suites._support``).
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches, assert_result_pair
from grader.judge.reference import reference
from grader.suites._support import fixed_rng, forward_pair, unchanged_call

ref = reference("relu")

pytestmark = [pytest.mark.exercise("relu"), pytest.mark.visibility("hidden")]


def with_zeros(rng, shape, dtype=np.float64):
    """Random values, every third one exactly 0 (as after a previous ReLU), whatever the seed."""
    x = rng.standard_normal(shape)
    x.reshape(-1)[::3] = 0.0
    return x.astype(dtype)


def with_negatives(rng, shape):
    """Random values, every other one negative: zeroing them in place always shows."""
    x = rng.standard_normal(shape)
    x.reshape(-1)[::2] = -np.abs(x.reshape(-1)[::2]) - 0.1
    return x


def forward_backward(student, x, dout):
    _, cache = forward_pair(student.relu_forward, x)
    return student.relu_backward(dout, cache), ref.relu_backward(dout, ref.relu_forward(x)[1])


@pytest.mark.points(1)
def test_relu_forward_of_a_4d_batch(student, rng):
    """relu_forward on a random (3, 4, 5, 6) float64 batch."""
    x = rng.standard_normal((3, 4, 5, 6))
    out, _ = forward_pair(student.relu_forward, x)
    assert_array_matches("out", out, ref.relu_forward(x)[0], source="relu_forward")


@pytest.mark.points(1)
def test_relu_forward_keeps_float32(student):
    """relu_forward keeps a float32 input float32."""
    x = fixed_rng("float32").standard_normal((2, 8, 3)).astype(np.float32)
    out, _ = forward_pair(student.relu_forward, x)
    assert_array_matches("out", out, ref.relu_forward(x)[0], source="relu_forward")


@pytest.mark.points(0.5)
def test_relu_forward_at_exactly_zero(student, rng):
    """relu_forward maps exact zeros (and -0.0) to 0."""
    x = with_zeros(rng, (4, 10))
    x[0, :3] = -0.0
    out, _ = forward_pair(student.relu_forward, x)
    assert_array_matches("out", out, ref.relu_forward(x)[0], source="relu_forward")


@pytest.mark.points(1.5)
def test_relu_backward_of_a_4d_batch(student, rng):
    """relu_backward on a random (3, 4, 5, 6) float64 batch."""
    x, dout = rng.standard_normal((3, 4, 5, 6)), rng.standard_normal((3, 4, 5, 6))
    dx, expected = forward_backward(student, x, dout)
    assert_array_matches("dx", dx, expected, source="relu_backward")


@pytest.mark.points(1.5)
def test_relu_gradient_is_zero_at_exactly_zero(student, rng):
    """relu_backward gives 0 where x == 0 (the convention), dout where x > 0."""
    x, dout = with_zeros(rng, (2, 3, 6, 6)), rng.standard_normal((2, 3, 6, 6))
    dx, expected = forward_backward(student, x, dout)
    assert_array_matches("dx", dx, expected, source="relu_backward",
                         hint="the gradient at x == 0 must be 0: use x > 0, not x >= 0")


@pytest.mark.points(1)
def test_relu_backward_keeps_float32(student):
    """relu_backward keeps float32 gradients float32."""
    rng = fixed_rng("float32")
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    dout = rng.standard_normal((2, 3, 5)).astype(np.float32)
    dx, expected = forward_backward(student, x, dout)
    assert_array_matches("dx", dx, expected, source="relu_backward")


@pytest.mark.points(1)
def test_relu_forward_does_not_modify_its_input(student):
    """relu_forward leaves x unchanged."""
    x = with_negatives(fixed_rng("input"), (2, 3, 4, 4))
    out, _ = assert_result_pair("relu_forward", unchanged_call(student.relu_forward, ["x"], x))
    assert_array_matches("out", out, ref.relu_forward(x)[0], source="relu_forward")


@pytest.mark.points(0.5)
def test_relu_backward_does_not_modify_dout(student):
    """relu_backward leaves dout unchanged."""
    rng = fixed_rng("dout")
    x, dout = with_negatives(rng, (3, 7)), rng.uniform(0.5, 1.5, (3, 7))  # dout never 0 where x <= 0
    _, cache = forward_pair(student.relu_forward, x)
    dx = unchanged_call(student.relu_backward, ["dout"], dout, cache)
    assert_array_matches("dx", dx, ref.relu_backward(dout, ref.relu_forward(x)[1]), source="relu_backward")
