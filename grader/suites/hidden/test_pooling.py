"""Hidden tests of exercise 4, pooling: overlapping windows, leftover rows, padding, ties, float32."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches, assert_inputs_unchanged, assert_result_pair
from grader.suites._support import expect_error, forward_pair
from solutions import pooling as ref

pytestmark = [pytest.mark.exercise("pooling"), pytest.mark.visibility("hidden")]

# name: (x shape, kernel_size, stride, padding, dtype)
CASES: dict[str, tuple[Any, ...]] = {
    "overlapping_3x3_stride_2": ((2, 3, 7, 7), 3, 2, 0, np.float64),
    "stride_3_does_not_divide_the_input": ((2, 2, 8, 7), 2, 3, 0, np.float64),
    "padding_1": ((2, 2, 6, 6), 3, 2, 1, np.float64),
    "non_square_window": ((1, 3, 6, 9), (2, 3), (1, 2), (1, 1), np.float64),
    "float32": ((2, 2, 6, 6), 3, 2, 1, np.float32),
}
MAX_HINT = "the whole gradient of a window goes to its (first) max; overlapping windows add up (+=)"
AVG_HINT = "every input of a window gets dout/(KH·KW): padded zeros count, and overlapping windows add up"


def case(name, points):
    return pytest.param(name, marks=pytest.mark.points(points), id=name)


def run(student, rng, kind, name, x=None):
    """(student forward out, student dx, reference out, reference dx) for one case."""
    shape, k, s, p, dtype = CASES[name]
    x = rng.standard_normal(shape).astype(dtype) if x is None else x
    ref_forward, ref_backward = getattr(ref, f"{kind}pool2d_forward"), getattr(ref, f"{kind}pool2d_backward")
    ref_out, ref_cache = ref_forward(x, k, s, p)
    dout = rng.standard_normal(ref_out.shape).astype(dtype)
    out, cache = forward_pair(getattr(student, f"{kind}pool2d_forward"), x, k, s, p)
    return out, (lambda: getattr(student, f"{kind}pool2d_backward")(dout, cache)), ref_out, \
        ref_backward(dout, ref_cache)


# ----- max pooling -----

@pytest.mark.parametrize("name", [case(n, 0.5) for n in CASES])
def test_max_pool_forward(student, rng, name):
    out, _, ref_out, _ = run(student, rng, "max", name)
    assert_array_matches("out", out, ref_out, source="maxpool2d_forward")


@pytest.mark.parametrize("name", [case("overlapping_3x3_stride_2", 1.5), case("stride_3_does_not_divide_the_input", 1),
                                  case("padding_1", 1), case("non_square_window", 0.5), case("float32", 0.5)])
def test_max_pool_backward(student, rng, name):
    _, backward, _, ref_dx = run(student, rng, "max", name)
    assert_array_matches("dx", backward(), ref_dx, source="maxpool2d_backward", hint=MAX_HINT)


def relu_of_small_integers(rng, shape):
    """Values in {0, 1, 2} with many zeros and repeated maxima, like feature maps after a ReLU."""
    return np.maximum(rng.integers(-3, 3, size=shape), 0).astype(np.float64)


@pytest.mark.points(1)
def test_max_pool_backward_with_tied_maxima(student, rng):
    """maxpool2d_backward with ties (zeros after a ReLU): the whole gradient goes to the first max only."""
    x = relu_of_small_integers(rng, (2, 3, 6, 6))
    dout = rng.standard_normal((2, 3, 3, 3))
    _, cache = forward_pair(student.maxpool2d_forward, x, 2)
    dx = student.maxpool2d_backward(dout, cache)
    assert_array_matches("dx", dx, ref.maxpool2d_backward(dout, ref.maxpool2d_forward(x, 2)[1]),
                         source="maxpool2d_backward",
                         hint="when several inputs tie for the max, only the first (row-major) gets the gradient")


@pytest.mark.points(1)
def test_max_pool_backward_with_tied_maxima_in_overlapping_windows(student, rng):
    """maxpool2d_backward with ties and overlapping 3×3 windows at stride 1."""
    x = relu_of_small_integers(rng, (2, 2, 6, 7))
    dout = rng.standard_normal((2, 2, 4, 5))
    _, cache = forward_pair(student.maxpool2d_forward, x, 3, 1)
    dx = student.maxpool2d_backward(dout, cache)
    assert_array_matches("dx", dx, ref.maxpool2d_backward(dout, ref.maxpool2d_forward(x, 3, 1)[1]),
                         source="maxpool2d_backward",
                         hint="only the first tied max of each window gets its gradient; overlaps add up")


@pytest.mark.points(0.5)
def test_max_pool_padding_never_wins_forward(student, rng):
    """maxpool2d_forward on negative inputs with padding 1: padding must never be the max."""
    x = -rng.uniform(1, 2, (1, 2, 5, 5))
    out, _ = forward_pair(student.maxpool2d_forward, x, 3, 2, 1)
    assert_array_matches("out", out, ref.maxpool2d_forward(x, 3, 2, 1)[0], source="maxpool2d_forward",
                         hint="pad max pooling with -inf, not 0")


@pytest.mark.points(0.5)
def test_max_pool_padding_never_wins_backward(student, rng):
    """maxpool2d_backward on negative inputs with padding 1: no gradient is lost to the padding."""
    x = -rng.uniform(1, 2, (1, 2, 5, 5))
    dout = rng.standard_normal((1, 2, 3, 3))
    _, cache = forward_pair(student.maxpool2d_forward, x, 3, 2, 1)
    dx = student.maxpool2d_backward(dout, cache)
    assert_array_matches("dx", dx, ref.maxpool2d_backward(dout, ref.maxpool2d_forward(x, 3, 2, 1)[1]),
                         source="maxpool2d_backward", hint="pad max pooling with -inf, not 0")


# ----- average pooling -----

@pytest.mark.parametrize("name", [case("overlapping_3x3_stride_2", 0.5), case("padding_1", 1),
                                  case("stride_3_does_not_divide_the_input", 0.5), case("float32", 0.5)])
def test_average_pool_forward(student, rng, name):
    out, _, ref_out, _ = run(student, rng, "avg", name)
    assert_array_matches("out", out, ref_out, source="avgpool2d_forward",
                         hint="divide by KH·KW always: padded zeros count towards the mean")


@pytest.mark.parametrize("name", [case("overlapping_3x3_stride_2", 1), case("padding_1", 1),
                                  case("stride_3_does_not_divide_the_input", 0.5)])
def test_average_pool_backward(student, rng, name):
    _, backward, _, ref_dx = run(student, rng, "avg", name)
    assert_array_matches("dx", backward(), ref_dx, source="avgpool2d_backward", hint=AVG_HINT)


# ----- inputs and arguments -----

@pytest.mark.points(0.5)
def test_max_pool_forward_does_not_modify_its_input(student, rng):
    """maxpool2d_forward leaves x unchanged (3×3 windows, stride 2, padding 1)."""
    x = rng.standard_normal((2, 2, 6, 6))
    result, after = student.maxpool2d_forward.with_inputs(x, 3, 2, 1)
    assert_inputs_unchanged("maxpool2d_forward", ["x"], [x], after)
    out, _ = assert_result_pair("maxpool2d_forward", result)
    assert_array_matches("out", out, ref.maxpool2d_forward(x, 3, 2, 1)[0], source="maxpool2d_forward")


@pytest.mark.points(0.25)
def test_average_pool_backward_does_not_modify_dout(student, rng):
    """avgpool2d_backward leaves dout unchanged."""
    x, dout = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((1, 2, 3, 3))
    _, cache = forward_pair(student.avgpool2d_forward, x, 2)
    dx, after = student.avgpool2d_backward.with_inputs(dout, cache)
    assert_inputs_unchanged("avgpool2d_backward", ["dout"], [dout], after)
    assert_array_matches("dx", dx, ref.avgpool2d_backward(dout, ref.avgpool2d_forward(x, 2)[1]),
                         source="avgpool2d_backward")


@pytest.mark.points(0.25)
def test_pooling_refuses_padding_over_half_the_window(student, rng):
    """maxpool2d_forward raises a ValueError naming padding when 2·padding > kernel_size."""
    expect_error(student.maxpool2d_forward, rng.standard_normal((1, 1, 6, 6)), 2, 2, 2, mention="padding",
                 what="kernel_size=2, padding=2")
