"""Hidden tests of exercise 5, softmax and cross-entropy: random batches, logits of ±1e4, dtypes, inputs, labels.

The stability, dtype, input and label tests are fixed (the same inputs at every seed, see
``grader.suites._support``): the batch of huge logits holds a row near +1e4, one near -1e4, an ordinary
row and one spanning 2e4, so any shift other than each row's own max (none, the batch-wide max, the max
along the wrong axis) and log(softmax(x)) give inf or NaN. The random batches come on top.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches, assert_result_pair
from grader.judge.reference import reference
from grader.suites._support import expect_error, fixed_rng, forward_pair, unchanged_call

ref = reference("softmax_ce")

pytestmark = [pytest.mark.exercise("softmax_ce"), pytest.mark.visibility("hidden")]

STABLE_HINT = "subtract each row's own max (along the axis) before exponentiating, or e^x over- or underflows"
MEAN_HINT = "the loss is the mean over the batch of -log p[label]"
FLOAT32_HINT = "float32 logits must give float32 results: do not upcast"
# float32 numbers near 1e4 are 1e-3 apart: a correct x - (m + log Σ e^(x - m)) may be off by that much
HUGE_TOL = {"rtol": 2e-3, "atol": 2e-3}

SCALES = np.array([
    [1e4, 1e4 - 1, 1e4 - 3, 1e4 + 2, 1e4 - 0.5],     # near +1e4: e^x overflows without a shift
    [-1e4, -1e4 + 2, -1e4 - 1, -1e4 + 0.5, -1e4],    # near -1e4: 0/0 without a shift or with the batch's max
    [0.0, 1.5, -2.0, 3.0, 0.25],                      # ordinary: the batch's max of 1e4 underflows it to 0/0
    [1e4, -1e4, 0.0, 1e4 - 1, 5.0],                   # spans 2e4: log(softmax) has log(0) = -inf
])
SCALE_LABELS = np.array([3, 0, 1, 1])  # row 3's label is its -1e4 entry: a loss of 2e4, finite


def very_different_scales():
    """SCALES (rows whose scales differ by 1e4 both ways) plus a little fixed noise, in float32."""
    return (SCALES + fixed_rng("scales").uniform(-0.25, 0.25, SCALES.shape)).astype(np.float32)


def ordinary(name, shape, dtype=np.float64):
    """Fixed standard-normal logits."""
    return fixed_rng(name).standard_normal(shape).astype(dtype)


def loss_and_grad(student, logits, labels, dloss):
    """(student loss, reference loss, student dlogits, reference dlogits) for one batch."""
    loss, cache = forward_pair(student.softmax_cross_entropy_forward, logits, labels)
    ref_loss, ref_cache = ref.softmax_cross_entropy_forward(logits, labels)
    return loss, ref_loss, student.softmax_cross_entropy_backward(dloss, cache), \
        ref.softmax_cross_entropy_backward(dloss, ref_cache)


# ----- softmax and log_softmax -----

@pytest.mark.points(0.5)
def test_softmax_of_a_random_batch(student, rng):
    """softmax of random (6, 10) logits along the last axis."""
    x = 3 * rng.standard_normal((6, 10))
    assert_array_matches("softmax", student.softmax(x), ref.softmax(x), source="softmax")


@pytest.mark.points(0.5)
def test_softmax_along_axis_0(student, rng):
    """softmax(x, axis=0) of random (5, 3, 4) values: every slice along axis 0 sums to 1."""
    x = rng.standard_normal((5, 3, 4))
    assert_array_matches("softmax", student.softmax(x, axis=0), ref.softmax(x, axis=0), source="softmax",
                         hint="reduce along the given axis with keepdims=True")


@pytest.mark.points(0.5)
def test_log_softmax_of_a_random_batch(student, rng):
    """log_softmax of random (6, 10) logits along the last axis."""
    x = 3 * rng.standard_normal((6, 10))
    assert_array_matches("log_softmax", student.log_softmax(x), ref.log_softmax(x), source="log_softmax")


@pytest.mark.points(0.5)
def test_log_softmax_along_axis_0(student, rng):
    """log_softmax(x, axis=0) of random (4, 7) values."""
    x = rng.standard_normal((4, 7))
    assert_array_matches("log_softmax", student.log_softmax(x, axis=0), ref.log_softmax(x, axis=0),
                         source="log_softmax", hint="reduce along the given axis with keepdims=True")


@pytest.mark.points(0.25)
def test_softmax_keeps_float32(student):
    """softmax of ordinary float32 logits is float32."""
    x = ordinary("softmax float32", (3, 5), np.float32)
    assert_array_matches("softmax", student.softmax(x), ref.softmax(x), source="softmax", hint=FLOAT32_HINT)


@pytest.mark.points(0.25)
def test_log_softmax_keeps_float32(student):
    """log_softmax of ordinary float32 logits is float32."""
    x = ordinary("log_softmax float32", (3, 5), np.float32)
    assert_array_matches("log_softmax", student.log_softmax(x), ref.log_softmax(x), source="log_softmax",
                         hint=FLOAT32_HINT)


@pytest.mark.points(1)
def test_softmax_of_logits_of_1e4_in_float32(student):
    """softmax of float32 rows near +1e4, near -1e4, ordinary and spanning 2e4: finite, float32, each row's max."""
    x = very_different_scales()
    assert_array_matches("softmax", student.softmax(x), ref.softmax(x), source="softmax", hint=STABLE_HINT,
                         **HUGE_TOL)


@pytest.mark.points(1)
def test_log_softmax_of_logits_of_1e4_in_float32(student):
    """log_softmax of float32 rows near +1e4, near -1e4, ordinary and spanning 2e4: finite everywhere."""
    x = very_different_scales()
    assert_array_matches("log_softmax", student.log_softmax(x), ref.log_softmax(x), source="log_softmax",
                         hint=STABLE_HINT + "; and log(softmax) is -inf where softmax underflows: use "
                         "(x - m) - log Σ e^(x - m)", **HUGE_TOL)


@pytest.mark.points(0.5)
def test_softmax_along_axis_0_of_logits_of_1e4_in_float32(student):
    """softmax(x, axis=0) of float32 columns near +1e4, near -1e4, ordinary and spanning 2e4."""
    x = very_different_scales().T.copy()
    assert_array_matches("softmax", student.softmax(x, axis=0), ref.softmax(x, axis=0), source="softmax",
                         hint="shift by the max along the given axis", **HUGE_TOL)


@pytest.mark.points(0.5)
def test_log_softmax_along_axis_0_of_logits_of_1e4_in_float32(student):
    """log_softmax(x, axis=0) of float32 columns near +1e4, near -1e4, ordinary and spanning 2e4."""
    x = very_different_scales().T.copy()
    assert_array_matches("log_softmax", student.log_softmax(x, axis=0), ref.log_softmax(x, axis=0),
                         source="log_softmax", hint="shift by the max along the given axis", **HUGE_TOL)


# ----- the loss -----

@pytest.mark.points(0.75)
def test_cross_entropy_loss_of_a_random_batch(student, rng):
    """softmax_cross_entropy_forward on random (8, 5) float64 logits."""
    logits, labels = 2 * rng.standard_normal((8, 5)), rng.integers(0, 5, 8)
    loss, _ = forward_pair(student.softmax_cross_entropy_forward, logits, labels)
    assert_array_matches("loss", loss, ref.softmax_cross_entropy_forward(logits, labels)[0],
                         source="softmax_cross_entropy_forward", hint=MEAN_HINT)


@pytest.mark.points(0.5)
def test_cross_entropy_loss_keeps_float32(student):
    """softmax_cross_entropy_forward returns a float32 0-d loss for float32 logits."""
    logits, labels = ordinary("loss float32", (6, 4), np.float32), np.array([0, 3, 1, 2, 2, 0])
    loss, _ = forward_pair(student.softmax_cross_entropy_forward, logits, labels)
    assert_array_matches("loss", loss, ref.softmax_cross_entropy_forward(logits, labels)[0],
                         source="softmax_cross_entropy_forward",
                         hint="return xp.asarray(loss, dtype=logits.dtype), a 0-d array")


@pytest.mark.points(1)
def test_cross_entropy_loss_of_logits_of_1e4_in_float32(student):
    """softmax_cross_entropy_forward on float32 rows of very different scales, one label at -1e4: finite."""
    logits = very_different_scales()
    loss, _ = forward_pair(student.softmax_cross_entropy_forward, logits, SCALE_LABELS)
    assert_array_matches("loss", loss, ref.softmax_cross_entropy_forward(logits, SCALE_LABELS)[0],
                         source="softmax_cross_entropy_forward", hint=STABLE_HINT + "; take -log p from "
                         "log_softmax, not log(softmax)", **HUGE_TOL)


@pytest.mark.points(0.25)
def test_cross_entropy_loss_of_a_batch_of_1(student, rng):
    """softmax_cross_entropy_forward on a single row."""
    logits, labels = rng.standard_normal((1, 6)), np.array([4])
    loss, _ = forward_pair(student.softmax_cross_entropy_forward, logits, labels)
    assert_array_matches("loss", loss, ref.softmax_cross_entropy_forward(logits, labels)[0],
                         source="softmax_cross_entropy_forward")


# ----- the gradient -----

@pytest.mark.points(0.75)
def test_cross_entropy_gradient_of_a_random_batch(student, rng):
    """softmax_cross_entropy_backward on random (8, 5) float64 logits, dloss = 1."""
    logits, labels = 2 * rng.standard_normal((8, 5)), rng.integers(0, 5, 8)
    _, _, dlogits, expected = loss_and_grad(student, logits, labels, np.float64(1.0))
    assert_array_matches("dlogits", dlogits, expected, source="softmax_cross_entropy_backward",
                         hint="dlogits = dloss · (softmax - onehot) / N")


@pytest.mark.points(0.5)
def test_cross_entropy_gradient_scales_with_dloss(student):
    """softmax_cross_entropy_backward with an upstream gradient dloss = 2.5."""
    logits, labels = ordinary("dloss", (3, 4)), np.array([2, 0, 3])
    _, _, dlogits, expected = loss_and_grad(student, logits, labels, np.float64(2.5))
    assert_array_matches("dlogits", dlogits, expected, source="softmax_cross_entropy_backward",
                         hint="multiply by dloss")


@pytest.mark.points(0.25)
def test_cross_entropy_gradient_keeps_float32(student):
    """softmax_cross_entropy_backward on ordinary float32 logits returns float32 dlogits."""
    logits, labels = ordinary("gradient float32", (5, 3), np.float32), np.array([1, 0, 2, 2, 1])
    _, _, dlogits, expected = loss_and_grad(student, logits, labels, np.float32(1.0))
    assert_array_matches("dlogits", dlogits, expected, source="softmax_cross_entropy_backward",
                         hint="build the one-hot matrix in logits' dtype (xp.zeros(..., dtype=...))")


@pytest.mark.points(0.75)
def test_cross_entropy_gradient_of_logits_of_1e4_in_float32(student):
    """softmax_cross_entropy_backward on float32 rows of very different scales: finite and float32."""
    logits = very_different_scales()
    _, _, dlogits, expected = loss_and_grad(student, logits, SCALE_LABELS, np.float32(1.0))
    assert_array_matches("dlogits", dlogits, expected, source="softmax_cross_entropy_backward", hint=STABLE_HINT,
                         **HUGE_TOL)


@pytest.mark.points(0.25)
def test_cross_entropy_gradient_of_a_batch_of_1(student, rng):
    """softmax_cross_entropy_backward on a single row."""
    logits, labels = rng.standard_normal((1, 6)), np.array([1])
    _, _, dlogits, expected = loss_and_grad(student, logits, labels, np.float64(1.0))
    assert_array_matches("dlogits", dlogits, expected, source="softmax_cross_entropy_backward")


# ----- inputs are never modified -----

def positive_logits(name):
    """Fixed logits in [1, 2): every row's max is > 0, so subtracting it in place always shows."""
    return fixed_rng(name).uniform(1, 2, (4, 6))


@pytest.mark.points(0.25)
def test_softmax_does_not_modify_its_input(student):
    """softmax leaves x unchanged."""
    x = positive_logits("softmax input")
    result = unchanged_call(student.softmax, ["x"], x)
    assert_array_matches("softmax", result, ref.softmax(x), source="softmax")


@pytest.mark.points(0.25)
def test_log_softmax_does_not_modify_its_input(student):
    """log_softmax leaves x unchanged."""
    x = positive_logits("log_softmax input")
    result = unchanged_call(student.log_softmax, ["x"], x)
    assert_array_matches("log_softmax", result, ref.log_softmax(x), source="log_softmax")


@pytest.mark.points(0.25)
def test_cross_entropy_does_not_modify_the_logits_or_labels(student):
    """softmax_cross_entropy_forward leaves logits and labels unchanged."""
    logits, labels = positive_logits("loss input"), np.array([5, 0, 2, 2])
    result = unchanged_call(student.softmax_cross_entropy_forward, ["logits", "labels"], logits, labels)
    loss, _ = assert_result_pair("softmax_cross_entropy_forward", result)
    assert_array_matches("loss", loss, ref.softmax_cross_entropy_forward(logits, labels)[0],
                         source="softmax_cross_entropy_forward")


# ----- labels -----

@pytest.mark.points(0.25)
def test_cross_entropy_refuses_labels_out_of_range(student):
    """softmax_cross_entropy_forward raises a ValueError for a label >= the number of classes."""
    expect_error(student.softmax_cross_entropy_forward, ordinary("labels", (3, 4)), np.array([0, 4, 1]),
                 what="labels [0, 4, 1] for 4 classes")


@pytest.mark.points(0.25)
def test_cross_entropy_refuses_negative_labels(student):
    """softmax_cross_entropy_forward raises a ValueError for a negative label (it would index from the end)."""
    expect_error(student.softmax_cross_entropy_forward, ordinary("labels", (3, 4)), np.array([0, -1, 2]),
                 what="labels [0, -1, 2] for 4 classes")


@pytest.mark.points(0.25)
def test_cross_entropy_refuses_float_labels(student):
    """softmax_cross_entropy_forward raises a TypeError for float labels."""
    expect_error(student.softmax_cross_entropy_forward, ordinary("labels", (3, 4)), np.array([0.0, 1.0, 2.0]),
                 error="TypeError", what="float labels")
