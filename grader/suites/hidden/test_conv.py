"""Hidden tests of exercises 2 and 3, the convolution layer: sizes, forward, backward, conv1d."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from grader.judge.compare import (
    assert_array_matches,
    assert_inputs_unchanged,
    assert_none,
    assert_result_pair,
    assert_result_tuple,
    assert_value_equals,
)
from grader.suites._support import backward_triple, check_each, expect_error, forward_pair, matches
from solutions.conv import conv1d_backward as ref_conv1d_backward
from solutions.conv import conv1d_forward as ref_conv1d_forward
from solutions.conv import conv2d_backward as ref_conv2d_backward
from solutions.conv import conv2d_forward as ref_conv2d_forward
from solutions.conv import conv_output_size as ref_conv_output_size

pytestmark = [pytest.mark.exercise("conv"), pytest.mark.visibility("hidden")]


@dataclass(frozen=True)
class Case:
    x: tuple[int, ...]
    w: tuple[int, ...]
    bias: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    dtype: Any = np.float64

    def arrays(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        x = rng.standard_normal(self.x).astype(self.dtype)
        w = rng.standard_normal(self.w).astype(self.dtype)
        b = rng.standard_normal(self.w[0]).astype(self.dtype) if self.bias else None
        return x, w, b


CASES = {
    "stride_1_no_padding": Case((2, 3, 7, 7), (4, 3, 3, 3)),
    "stride_2_padding_1": Case((2, 3, 8, 8), (4, 3, 3, 3), options={"stride": 2, "padding": 1}),
    "stride_3_floored": Case((2, 2, 7, 7), (3, 2, 3, 3), options={"stride": 3}),
    "padding_2_kernel_5x5": Case((2, 2, 6, 5), (3, 2, 5, 5), options={"padding": 2}),
    "padding_and_stride_pairs": Case((1, 3, 6, 9), (2, 3, 3, 3), options={"stride": (1, 2), "padding": (1, 2)}),
    "same_padding_kernel_3x4": Case((2, 2, 6, 7), (3, 2, 3, 4), options={"padding": "same"}),
    "same_padding_stride_2": Case((2, 2, 7, 8), (2, 2, 3, 3), options={"stride": 2, "padding": "same"}),
    "valid_padding": Case((2, 2, 5, 5), (2, 2, 3, 3), options={"padding": "valid"}),
    "dilation_2": Case((2, 2, 9, 9), (3, 2, 3, 3), options={"dilation": 2, "padding": 2}),
    "groups_2": Case((2, 4, 6, 6), (6, 2, 3, 3), options={"groups": 2, "padding": 1}),
    "depthwise_groups_3": Case((1, 3, 5, 5), (3, 1, 3, 3), bias=False, options={"groups": 3}),
    "non_square_input_and_kernel": Case((3, 2, 5, 8), (4, 2, 2, 3)),
    "kernel_1x1": Case((2, 5, 4, 4), (3, 5, 1, 1)),
    "batch_1_no_bias": Case((1, 3, 6, 6), (2, 3, 3, 3), bias=False, options={"padding": 1}),
    "float32": Case((2, 3, 6, 6), (4, 3, 3, 3), options={"stride": 2, "padding": 1}, dtype=np.float32),
}
BACKWARD_CASES = ["stride_2_padding_1", "stride_3_floored", "padding_2_kernel_5x5", "padding_and_stride_pairs",
                  "same_padding_kernel_3x4", "dilation_2", "groups_2", "non_square_input_and_kernel", "kernel_1x1",
                  "float32"]

DX_HINT = "check col2im: each column goes back to the window it came from (stride, dilation), += where " \
          "windows overlap, and the padding is cut off at the end"
DW_HINT = "check how dout is combined with the input windows: dW = dout @ X_colᵀ, reshaped to w's shape"


# ----- conv_output_size -----

@pytest.mark.points(1)
def test_conv_output_size_floors_and_strict_refuses_a_stride_that_does_not_fit(student):
    """conv_output_size: 7×7 with a 3×3 filter (stride 1, 2, 3), AlexNet's 227/11/4, and strict=True."""
    for args, kwargs in [((7, 3), {}), ((7, 3), {"stride": 2}), ((7, 3), {"stride": 3}),
                         ((227, 11), {"stride": 4}), ((55, 3), {"stride": 2}), ((7, 3), {"padding": 1}),
                         ((32, 5), {"padding": 2}), ((8, 3), {"stride": 2, "padding": 1})]:
        call = ", ".join([*map(str, args), *(f"{k}={v}" for k, v in kwargs.items())])
        assert_value_equals(f"conv_output_size({call})", student.conv_output_size(*args, **kwargs),
                            ref_conv_output_size(*args, **kwargs))
    expect_error(student.conv_output_size, 7, 3, stride=3, strict=True, mention="stride",
                 what="7, 3, stride=3, strict=True")


@pytest.mark.points(0.5)
def test_conv_output_size_with_dilation_and_padding_modes(student):
    """conv_output_size with dilation and with padding "same" and "valid"."""
    for args, kwargs in [((9, 3), {"dilation": 2}), ((9, 3), {"dilation": 2, "padding": 2}),
                         ((7, 3), {"padding": "same"}), ((7, 3), {"stride": 2, "padding": "same"}),
                         ((7, 3), {"padding": "valid"}), ((10, 4), {"stride": 3, "padding": "same"})]:
        call = ", ".join([*map(str, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        assert_value_equals(f"conv_output_size({call})", student.conv_output_size(*args, **kwargs),
                            ref_conv_output_size(*args, **kwargs))


@pytest.mark.points(0.25)
def test_conv_output_size_refuses_a_kernel_larger_than_the_input(student):
    """conv_output_size raises a ValueError naming kernel_size when the kernel is larger than the padded input."""
    expect_error(student.conv_output_size, 3, 5, mention="kernel_size", what="3, 5")


# ----- conv2d forward and backward -----

@pytest.mark.points(0.5)
@pytest.mark.parametrize("case", list(CASES))
def test_conv2d_forward(student, rng, case):
    c = CASES[case]
    x, w, b = c.arrays(rng)
    out, _ = forward_pair(student.conv2d_forward, x, w, b, **c.options)
    assert_array_matches("out", out, ref_conv2d_forward(x, w, b, **c.options)[0], source="conv2d_forward")


def backward(student, rng, case):
    c = CASES[case]
    x, w, b = c.arrays(rng)
    ref_out, ref_cache = ref_conv2d_forward(x, w, b, **c.options)
    dout = rng.standard_normal(ref_out.shape).astype(c.dtype)
    _, cache = forward_pair(student.conv2d_forward, x, w, b, **c.options)
    return backward_triple(student.conv2d_backward, dout, cache), ref_conv2d_backward(dout, ref_cache)


@pytest.mark.points(0.6)
@pytest.mark.parametrize("case", BACKWARD_CASES)
def test_conv2d_backward_dx(student, rng, case):
    (dx, _, _), (ref_dx, _, _) = backward(student, rng, case)
    assert_array_matches("dx", dx, ref_dx, source="conv2d_backward", hint=DX_HINT)


@pytest.mark.points(0.6)
@pytest.mark.parametrize("case", BACKWARD_CASES)
def test_conv2d_backward_dw(student, rng, case):
    (_, dw, _), (_, ref_dw, _) = backward(student, rng, case)
    assert_array_matches("dw", dw, ref_dw, source="conv2d_backward", hint=DW_HINT)


@pytest.mark.points(0.2)
@pytest.mark.parametrize("case", BACKWARD_CASES)
def test_conv2d_backward_db(student, rng, case):
    (_, _, db), (_, _, ref_db) = backward(student, rng, case)
    assert_array_matches("db", db, ref_db, source="conv2d_backward",
                         hint="db[o] is the sum of dout[:, o] over the batch and all positions")


@pytest.mark.points(0.5)
def test_conv2d_backward_db_is_none_without_bias(student, rng):
    """conv2d_backward returns db = None when the forward pass had no bias."""
    (_, _, db), _ = backward(student, rng, "batch_1_no_bias")
    assert_none("db", db, source="conv2d_backward", why="the forward pass had b=None")


@pytest.mark.points(1)
def test_conv2d_forward_does_not_modify_its_inputs(student, rng):
    """conv2d_forward leaves x, w and b unchanged (padding 1, stride 2)."""
    x, w, b = CASES["stride_2_padding_1"].arrays(rng)
    result, after = student.conv2d_forward.with_inputs(x, w, b, stride=2, padding=1)
    assert_inputs_unchanged("conv2d_forward", ["x", "w", "b"], [x, w, b], after)
    out, _ = assert_result_pair("conv2d_forward", result)
    assert_array_matches("out", out, ref_conv2d_forward(x, w, b, stride=2, padding=1)[0], source="conv2d_forward")


@pytest.mark.points(0.5)
def test_conv2d_backward_does_not_modify_dout(student, rng):
    """conv2d_backward leaves dout unchanged."""
    x, w, b = CASES["groups_2"].arrays(rng)
    options = CASES["groups_2"].options
    ref_out, ref_cache = ref_conv2d_forward(x, w, b, **options)
    dout = rng.standard_normal(ref_out.shape)
    _, cache = forward_pair(student.conv2d_forward, x, w, b, **options)
    result, after = student.conv2d_backward.with_inputs(dout, cache)
    assert_inputs_unchanged("conv2d_backward", ["dout"], [dout], after)
    dx, _, _ = assert_result_tuple("conv2d_backward", result, ("dx", "dw", "db"))
    assert_array_matches("dx", dx, ref_conv2d_backward(dout, ref_cache)[0], source="conv2d_backward")


@pytest.mark.points(0.25)
def test_conv2d_forward_refuses_a_channel_mismatch(student, rng):
    """conv2d_forward raises a one-line ValueError or TypeError when w's channels do not match x's."""
    x, w = rng.standard_normal((1, 3, 5, 5)), rng.standard_normal((2, 4, 3, 3))
    expect_error(student.conv2d_forward, x, w, error=("ValueError", "TypeError"),
                 what="x with 3 channels, w expecting 4")


# ----- conv1d -----

CONV1D = {"stride": 2, "padding": 1, "dilation": 2}


@pytest.mark.points(0.75)
def test_conv1d_forward_with_stride_padding_and_dilation(student, rng):
    """conv1d_forward: x (2, 3, 15), w (4, 3, 3), bias, stride 2, padding 1, dilation 2."""
    x, w, b = rng.standard_normal((2, 3, 15)), rng.standard_normal((4, 3, 3)), rng.standard_normal(4)
    out, _ = forward_pair(student.conv1d_forward, x, w, b, **CONV1D)
    assert_array_matches("out", out, ref_conv1d_forward(x, w, b, **CONV1D)[0], source="conv1d_forward")


@pytest.mark.points(0.5)
def test_conv1d_forward_with_same_padding_and_no_bias(student, rng):
    """conv1d_forward: x (1, 2, 10), w (3, 2, 4), no bias, padding "same"."""
    x, w = rng.standard_normal((1, 2, 10)), rng.standard_normal((3, 2, 4))
    out, _ = forward_pair(student.conv1d_forward, x, w, None, padding="same")
    assert_array_matches("out", out, ref_conv1d_forward(x, w, None, padding="same")[0], source="conv1d_forward")


@pytest.mark.points(1.25)
def test_conv1d_backward_dx_dw_db(student, rng, credit):
    """conv1d_backward: dx, dw and db (a third of the points each), stride 2, padding 1, dilation 2."""
    x, w, b = rng.standard_normal((2, 3, 15)), rng.standard_normal((4, 3, 3)), rng.standard_normal(4)
    ref_out, ref_cache = ref_conv1d_forward(x, w, b, **CONV1D)
    dout = rng.standard_normal(ref_out.shape)
    _, cache = forward_pair(student.conv1d_forward, x, w, b, **CONV1D)
    dx, dw, db = backward_triple(student.conv1d_backward, dout, cache)
    ref_dx, ref_dw, ref_db = ref_conv1d_backward(dout, ref_cache)
    check_each([("dx", matches("dx", dx, ref_dx, source="conv1d_backward")),
                ("dw", matches("dw", dw, ref_dw, source="conv1d_backward")),
                ("db", matches("db", db, ref_db, source="conv1d_backward"))], credit)
