"""Hidden tests of exercise 5, softmax and cross-entropy: random batches, huge logits, batch 1, bad labels."""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches
from grader.suites._support import expect_error, forward_pair
from solutions import softmax_ce as ref

pytestmark = [pytest.mark.exercise("softmax_ce"), pytest.mark.visibility("hidden")]

STABLE_HINT = "subtract each row's max before exponentiating, or e^x overflows"
MEAN_HINT = "the loss is the mean over the batch of -log p[label]"


def huge_logits(rng, shape=(4, 5), dtype=np.float32):
    """Logits of ±1e4 (and a few in between): e^x overflows unless the max is subtracted."""
    x = rng.choice([-1e4, 1e4], size=shape) + rng.standard_normal(shape)
    x[0] = 1e4  # a row of equal huge logits
    return x.astype(dtype)


def loss_and_grad(student, logits, labels, dloss):
    loss, cache = forward_pair(student.softmax_cross_entropy_forward, logits, labels)
    ref_loss, ref_cache = ref.softmax_cross_entropy_forward(logits, labels)
    return loss, ref_loss, student.softmax_cross_entropy_backward(dloss, cache), \
        ref.softmax_cross_entropy_backward(dloss, ref_cache)


@pytest.mark.points(0.75)
def test_softmax_of_a_random_batch(student, rng):
    """softmax of random (6, 10) logits along the last axis."""
    x = 3 * rng.standard_normal((6, 10))
    assert_array_matches("softmax", student.softmax(x), ref.softmax(x), source="softmax")


@pytest.mark.points(0.75)
def test_softmax_along_axis_0(student, rng):
    """softmax(x, axis=0) of random (5, 3, 4) values: every slice along axis 0 sums to 1."""
    x = rng.standard_normal((5, 3, 4))
    assert_array_matches("softmax", student.softmax(x, axis=0), ref.softmax(x, axis=0), source="softmax",
                         hint="reduce along the given axis with keepdims=True")


@pytest.mark.points(0.75)
def test_log_softmax_of_a_random_batch(student, rng):
    """log_softmax of random (6, 10) logits along the last axis."""
    x = 3 * rng.standard_normal((6, 10))
    assert_array_matches("log_softmax", student.log_softmax(x), ref.log_softmax(x), source="log_softmax")


@pytest.mark.points(0.5)
def test_log_softmax_along_axis_0(student, rng):
    """log_softmax(x, axis=0) of random (4, 7) values."""
    x = rng.standard_normal((4, 7))
    assert_array_matches("log_softmax", student.log_softmax(x, axis=0), ref.log_softmax(x, axis=0),
                         source="log_softmax")


@pytest.mark.points(1)
def test_softmax_of_logits_of_1e4_in_float32(student, rng):
    """softmax of float32 logits of ±1e4 stays finite and float32."""
    x = huge_logits(rng)
    assert_array_matches("softmax", student.softmax(x), ref.softmax(x), source="softmax", hint=STABLE_HINT)


@pytest.mark.points(1)
def test_log_softmax_of_logits_of_1e4_in_float32(student, rng):
    """log_softmax of float32 logits of ±1e4 stays finite and float32."""
    x = huge_logits(rng)
    assert_array_matches("log_softmax", student.log_softmax(x), ref.log_softmax(x), source="log_softmax",
                         hint=STABLE_HINT)


@pytest.mark.points(1)
def test_cross_entropy_loss_of_a_random_batch(student, rng):
    """softmax_cross_entropy_forward on random (8, 5) float64 logits."""
    logits, labels = 2 * rng.standard_normal((8, 5)), rng.integers(0, 5, 8)
    loss, _ = forward_pair(student.softmax_cross_entropy_forward, logits, labels)
    assert_array_matches("loss", loss, ref.softmax_cross_entropy_forward(logits, labels)[0],
                         source="softmax_cross_entropy_forward", hint=MEAN_HINT)


@pytest.mark.points(0.75)
def test_cross_entropy_loss_keeps_float32(student, rng):
    """softmax_cross_entropy_forward returns a float32 0-d loss for float32 logits."""
    logits, labels = rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 4, 6)
    loss, _ = forward_pair(student.softmax_cross_entropy_forward, logits, labels)
    assert_array_matches("loss", loss, ref.softmax_cross_entropy_forward(logits, labels)[0],
                         source="softmax_cross_entropy_forward",
                         hint="return xp.asarray(loss, dtype=logits.dtype), a 0-d array")


@pytest.mark.points(1.5)
def test_cross_entropy_loss_of_logits_of_1e4_in_float32(student, rng):
    """softmax_cross_entropy_forward on float32 logits of ±1e4: a finite loss."""
    logits, labels = huge_logits(rng), rng.integers(0, 5, 4)
    loss, _ = forward_pair(student.softmax_cross_entropy_forward, logits, labels)
    assert_array_matches("loss", loss, ref.softmax_cross_entropy_forward(logits, labels)[0],
                         source="softmax_cross_entropy_forward", hint=STABLE_HINT)


@pytest.mark.points(0.5)
def test_cross_entropy_loss_of_a_batch_of_1(student, rng):
    """softmax_cross_entropy_forward on a single row."""
    logits, labels = rng.standard_normal((1, 6)), np.array([4])
    loss, _ = forward_pair(student.softmax_cross_entropy_forward, logits, labels)
    assert_array_matches("loss", loss, ref.softmax_cross_entropy_forward(logits, labels)[0],
                         source="softmax_cross_entropy_forward")


@pytest.mark.points(1)
def test_cross_entropy_gradient_of_a_random_batch(student, rng):
    """softmax_cross_entropy_backward on random (8, 5) float64 logits, dloss = 1."""
    logits, labels = 2 * rng.standard_normal((8, 5)), rng.integers(0, 5, 8)
    _, _, dlogits, expected = loss_and_grad(student, logits, labels, np.float64(1.0))
    assert_array_matches("dlogits", dlogits, expected, source="softmax_cross_entropy_backward",
                         hint="dlogits = dloss · (softmax - onehot) / N")


@pytest.mark.points(0.5)
def test_cross_entropy_gradient_scales_with_dloss(student, rng):
    """softmax_cross_entropy_backward with an upstream gradient dloss = 2.5."""
    logits, labels = rng.standard_normal((3, 4)), rng.integers(0, 4, 3)
    _, _, dlogits, expected = loss_and_grad(student, logits, labels, np.float64(2.5))
    assert_array_matches("dlogits", dlogits, expected, source="softmax_cross_entropy_backward",
                         hint="multiply by dloss")


@pytest.mark.points(0.75)
def test_cross_entropy_gradient_of_logits_of_1e4_in_float32(student, rng):
    """softmax_cross_entropy_backward on float32 logits of ±1e4: finite and float32."""
    logits, labels = huge_logits(rng), rng.integers(0, 5, 4)
    _, _, dlogits, expected = loss_and_grad(student, logits, labels, np.float32(1.0))
    assert_array_matches("dlogits", dlogits, expected, source="softmax_cross_entropy_backward", hint=STABLE_HINT)


@pytest.mark.points(0.5)
def test_cross_entropy_gradient_of_a_batch_of_1(student, rng):
    """softmax_cross_entropy_backward on a single row."""
    logits, labels = rng.standard_normal((1, 6)), np.array([1])
    _, _, dlogits, expected = loss_and_grad(student, logits, labels, np.float64(1.0))
    assert_array_matches("dlogits", dlogits, expected, source="softmax_cross_entropy_backward")


@pytest.mark.points(0.5)
def test_cross_entropy_refuses_labels_out_of_range(student, rng):
    """softmax_cross_entropy_forward raises a ValueError for a label >= the number of classes."""
    expect_error(student.softmax_cross_entropy_forward, rng.standard_normal((3, 4)), np.array([0, 4, 1]),
                 what="labels [0, 4, 1] for 4 classes")


@pytest.mark.points(0.25)
def test_cross_entropy_refuses_float_labels(student, rng):
    """softmax_cross_entropy_forward raises a TypeError for float labels."""
    expect_error(student.softmax_cross_entropy_forward, rng.standard_normal((3, 4)), np.array([0.0, 1.0, 2.0]),
                 error="TypeError", what="float labels")
