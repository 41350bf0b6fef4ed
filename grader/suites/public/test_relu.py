"""Public tests of exercise 1, ReLU (run them with ``grader check``)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches
from grader.judge.reference import reference
from grader.suites._support import forward_pair

ref = reference("relu")

pytestmark = pytest.mark.exercise("relu")

SMALL = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])


@pytest.mark.points(0.5)
def test_relu_forward_of_a_small_row(student):
    """relu_forward of [-2, -0.5, 0, 0.5, 3] is [0, 0, 0, 0.5, 3]."""
    out, _ = forward_pair(student.relu_forward, SMALL)
    assert_array_matches("out", out, ref.relu_forward(SMALL)[0], source="relu_forward", reveal=True,
                         hint="out = max(0, x) elementwise")


@pytest.mark.points(0.5)
def test_relu_backward_of_a_small_row(student):
    """relu_backward passes dout where x > 0 and blocks it elsewhere."""
    dout = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    _, cache = forward_pair(student.relu_forward, SMALL)
    dx = student.relu_backward(dout, cache)
    assert_array_matches("dx", dx, ref.relu_backward(dout, ref.relu_forward(SMALL)[1]), source="relu_backward",
                         reveal=True, hint="dx = dout where x > 0, else 0")


@pytest.mark.points(0.5)
def test_relu_forward_of_a_random_batch(student, rng):
    """relu_forward on a random (2, 3, 4, 4) float64 batch."""
    x = rng.standard_normal((2, 3, 4, 4))
    out, _ = forward_pair(student.relu_forward, x)
    assert_array_matches("out", out, ref.relu_forward(x)[0], source="relu_forward", reveal=True)


@pytest.mark.points(0.5)
def test_relu_backward_of_a_random_batch(student, rng):
    """relu_backward on a random (2, 3, 4, 4) float64 batch."""
    x, dout = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 3, 4, 4))
    _, cache = forward_pair(student.relu_forward, x)
    dx = student.relu_backward(dout, cache)
    assert_array_matches("dx", dx, ref.relu_backward(dout, ref.relu_forward(x)[1]), source="relu_backward",
                         reveal=True)
