"""Public tests of exercise 5, softmax and cross-entropy (run them with ``grader check``)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches
from grader.judge.reference import reference
from grader.suites._support import forward_pair

ref = reference("softmax_ce")

pytestmark = pytest.mark.exercise("softmax_ce")

LOGITS = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
LABELS = np.array([2, 0])


@pytest.mark.points(0.75)
def test_softmax_of_two_rows(student):
    """softmax([[1, 2, 3], [0, 0, 0]]): each row sums to 1; the second is [1/3, 1/3, 1/3]."""
    assert_array_matches("softmax", student.softmax(LOGITS), ref.softmax(LOGITS), source="softmax", reveal=True,
                         hint="e^(x - max) / Σ e^(x - max), along the last axis")


@pytest.mark.points(0.75)
def test_log_softmax_of_two_rows(student):
    """log_softmax([[1, 2, 3], [0, 0, 0]]): the second row is log(1/3) three times."""
    assert_array_matches("log_softmax", student.log_softmax(LOGITS), ref.log_softmax(LOGITS),
                         source="log_softmax", reveal=True, hint="(x - m) - log Σ e^(x - m)")


@pytest.mark.points(0.75)
def test_cross_entropy_loss_of_two_rows(student):
    """softmax_cross_entropy_forward: the mean of -log p[label] over two rows, as a 0-d array."""
    loss, _ = forward_pair(student.softmax_cross_entropy_forward, LOGITS, LABELS)
    assert_array_matches("loss", loss, ref.softmax_cross_entropy_forward(LOGITS, LABELS)[0],
                         source="softmax_cross_entropy_forward", reveal=True,
                         hint="the mean (not the sum) over the batch, returned as a 0-d array")


@pytest.mark.points(0.75)
def test_cross_entropy_gradient_of_two_rows(student):
    """softmax_cross_entropy_backward: (softmax - onehot) / N for two rows."""
    _, cache = forward_pair(student.softmax_cross_entropy_forward, LOGITS, LABELS)
    dlogits = student.softmax_cross_entropy_backward(np.float64(1.0), cache)
    expected = ref.softmax_cross_entropy_backward(np.float64(1.0), ref.softmax_cross_entropy_forward(LOGITS, LABELS)[1])
    assert_array_matches("dlogits", dlogits, expected, source="softmax_cross_entropy_backward", reveal=True,
                         hint="dlogits = dloss · (softmax - onehot) / N")
