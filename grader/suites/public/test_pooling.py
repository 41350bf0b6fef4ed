"""Public tests of exercise 4, max and average pooling (run them with ``grader check``)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches
from grader.judge.reference import reference
from grader.suites._support import forward_pair

ref = reference("pooling")

pytestmark = pytest.mark.exercise("pooling")

POOL_4X4 = np.array([[4, 3, 1, 5],
                     [1, 3, 4, 8],
                     [4, 5, 4, 3],
                     [6, 5, 9, 4]], dtype=np.float64)[None, None]
DOUT_2X2 = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]


@pytest.mark.points(1)
def test_max_pool_of_the_4x4_example(student):
    """maxpool2d_forward: a 2×2 max pool with stride 2 turns the lecture's 4×4 example into [[4, 8], [6, 9]]."""
    out, _ = forward_pair(student.maxpool2d_forward, POOL_4X4, 2, 2)
    assert_array_matches("out", out, ref.maxpool2d_forward(POOL_4X4, 2, 2)[0], source="maxpool2d_forward",
                         reveal=True, hint="each output is the max of one 2×2 window")


@pytest.mark.points(1)
def test_max_pool_backward_of_the_4x4_example(student):
    """maxpool2d_backward: each window's gradient goes to the position of its maximum."""
    _, cache = forward_pair(student.maxpool2d_forward, POOL_4X4, 2, 2)
    dx = student.maxpool2d_backward(DOUT_2X2, cache)
    expected = ref.maxpool2d_backward(DOUT_2X2, ref.maxpool2d_forward(POOL_4X4, 2, 2)[1])
    assert_array_matches("dx", dx, expected, source="maxpool2d_backward", reveal=True,
                         hint="dx is zero except at each window's max, which receives that window's dout")


@pytest.mark.points(1)
def test_average_pool_of_a_random_batch(student, rng):
    """avgpool2d_forward: 2×2 windows, stride 2, on a random (2, 3, 4, 6) batch."""
    x = rng.standard_normal((2, 3, 4, 6))
    out, _ = forward_pair(student.avgpool2d_forward, x, 2)
    assert_array_matches("out", out, ref.avgpool2d_forward(x, 2)[0], source="avgpool2d_forward", reveal=True,
                         hint="stride defaults to kernel_size")


@pytest.mark.points(1)
def test_average_pool_backward_of_a_random_batch(student, rng):
    """avgpool2d_backward: 2×2 windows, stride 2: every input gets dout/4."""
    x = rng.standard_normal((2, 3, 4, 6))
    dout = rng.standard_normal((2, 3, 2, 3))
    _, cache = forward_pair(student.avgpool2d_forward, x, 2)
    dx = student.avgpool2d_backward(dout, cache)
    expected = ref.avgpool2d_backward(dout, ref.avgpool2d_forward(x, 2)[1])
    assert_array_matches("dx", dx, expected, source="avgpool2d_backward", reveal=True)
