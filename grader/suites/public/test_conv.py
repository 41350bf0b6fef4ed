"""Public tests of exercises 2 and 3, the convolution layer (run them with ``grader check``)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches, assert_value_equals
from grader.judge.reference import reference
from grader.suites._support import backward_triple, expect_error, forward_pair

ref = reference("conv")

pytestmark = pytest.mark.exercise("conv")

IMAGE_5X5 = np.array([[3, 3, 2, 1, 0],
                      [0, 0, 1, 3, 1],
                      [3, 1, 2, 2, 3],
                      [2, 0, 0, 2, 2],
                      [2, 0, 0, 0, 1]], dtype=np.float64)[None, None]
BOX_3X3 = np.full((1, 1, 3, 3), 1 / 9)


@pytest.mark.points(1)
def test_conv_output_size_of_the_7x7_input_with_a_3x3_filter(student):
    """conv_output_size: 7×7 input, 3×3 filter gives 5 at stride 1, 3 at stride 2; stride 3 strict raises."""
    assert_value_equals("conv_output_size(7, 3)", student.conv_output_size(7, 3), 5, reveal=True)
    assert_value_equals("conv_output_size(7, 3, stride=2)", student.conv_output_size(7, 3, stride=2), 3,
                        reveal=True)
    assert_value_equals("conv_output_size(32, 5, padding=2)", student.conv_output_size(32, 5, padding=2), 32,
                        reveal=True, hint="W_out = (W - F + 2P)/S + 1")
    expect_error(student.conv_output_size, 7, 3, stride=3, strict=True, mention="stride",
                 what="7, 3, stride=3, strict=True")


@pytest.mark.points(1.5)
def test_box_blur_of_the_5x5_image(student):
    """conv2d_forward: the 3×3 box blur (all weights 1/9) of the lecture's 5×5 image."""
    out, _ = forward_pair(student.conv2d_forward, IMAGE_5X5, BOX_3X3)
    assert_array_matches("out", out, ref.conv2d_forward(IMAGE_5X5, BOX_3X3)[0], source="conv2d_forward",
                         reveal=True, hint="out[0, 0, 0, 0] is the mean of the top-left 3×3 window, 1.67")


def small_case(rng):
    x = rng.standard_normal((2, 3, 5, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    return x, w, b


@pytest.mark.points(1.5)
def test_conv2d_forward_with_padding_1_and_a_bias(student, rng):
    """conv2d_forward: x (2, 3, 5, 5), w (4, 3, 3, 3), bias, padding 1."""
    x, w, b = small_case(rng)
    out, _ = forward_pair(student.conv2d_forward, x, w, b, padding=1)
    assert_array_matches("out", out, ref.conv2d_forward(x, w, b, padding=1)[0], source="conv2d_forward",
                         reveal=True, hint="pad x with one ring of zeros, then add b[o] to every output of filter o")


def backward_case(student, rng):
    x, w, b = small_case(rng)
    _, cache = forward_pair(student.conv2d_forward, x, w, b, padding=1)
    ref_out, ref_cache = ref.conv2d_forward(x, w, b, padding=1)
    dout = rng.standard_normal(ref_out.shape)
    got = backward_triple(student.conv2d_backward, dout, cache)
    return got, ref.conv2d_backward(dout, ref_cache)


@pytest.mark.points(0.75)
def test_conv2d_backward_dx_with_padding_1(student, rng):
    """conv2d_backward: dx for x (2, 3, 5, 5), w (4, 3, 3, 3), padding 1."""
    (dx, _, _), (ref_dx, _, _) = backward_case(student, rng)
    assert_array_matches("dx", dx, ref_dx, source="conv2d_backward", reveal=True,
                         hint="dX_col = Wᵀ @ dout, then add each column back into its window and cut the padding off")


@pytest.mark.points(0.75)
def test_conv2d_backward_dw_with_padding_1(student, rng):
    """conv2d_backward: dw for x (2, 3, 5, 5), w (4, 3, 3, 3), padding 1."""
    (_, dw, _), (_, ref_dw, _) = backward_case(student, rng)
    assert_array_matches("dw", dw, ref_dw, source="conv2d_backward", reveal=True,
                         hint="dW = dout @ X_colᵀ, reshaped to w's shape")


@pytest.mark.points(0.5)
def test_conv2d_backward_db_with_padding_1(student, rng):
    """conv2d_backward: db for x (2, 3, 5, 5), w (4, 3, 3, 3), padding 1."""
    (_, _, db), (_, _, ref_db) = backward_case(student, rng)
    assert_array_matches("db", db, ref_db, source="conv2d_backward", reveal=True,
                         hint="db[o] is the sum of dout[:, o] over the batch and all positions")


@pytest.mark.points(1)
def test_conv1d_forward_of_a_signal(student, rng):
    """conv1d_forward: x (2, 2, 9), w (3, 2, 3), bias, padding 1."""
    x, w, b = rng.standard_normal((2, 2, 9)), rng.standard_normal((3, 2, 3)), rng.standard_normal(3)
    out, _ = forward_pair(student.conv1d_forward, x, w, b, padding=1)
    assert_array_matches("out", out, ref.conv1d_forward(x, w, b, padding=1)[0], source="conv1d_forward",
                         reveal=True, hint="call conv2d_forward on x[:, :, None, :] and w[:, :, None, :]")
