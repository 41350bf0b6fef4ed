"""Hidden tests of exercises 2 and 3, the convolution layer: sizes, forward, backward, conv1d.

Each option of the stub (stride, padding, "same", dilation, groups, pairs of them, float32) is met alone,
with the simplest call that uses it, and in combination. The options alone, the adversarial combinations,
the inputs and the arguments are fixed tests (the same inputs at every seed; see ``grader.suites._support``),
sized so that a mix-up of the two axes or an option ignored changes the output's shape. The random cases
come on top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from grader.judge.compare import (
    assert_array_matches,
    assert_none,
    assert_result_pair,
    assert_result_tuple,
    assert_value_equals,
)
from grader.judge.reference import reference
from grader.suites._support import (
    backward_triple,
    check_each,
    expect_error,
    fixed_rng,
    forward_pair,
    matches,
    unchanged_call,
)

ref = reference("conv")

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


CASES = {  # random inputs
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
    "non_square_input_and_kernel": Case((3, 2, 5, 8), (4, 2, 2, 3)),
    "kernel_1x1": Case((2, 5, 4, 4), (3, 5, 1, 1)),
    "batch_1_no_bias": Case((1, 3, 6, 6), (2, 3, 3, 3), bias=False, options={"padding": 1}),
    "float32": Case((2, 3, 6, 6), (4, 3, 3, 3), options={"stride": 2, "padding": 1}, dtype=np.float32),
}
FIXED_CASES = {  # fixed inputs: one option alone, with an output shape the option on the other axis cannot give
    "stride_pair_alone": Case((1, 2, 7, 6), (2, 2, 3, 3), options={"stride": (2, 1)}),
    "padding_pair_alone": Case((1, 2, 5, 6), (2, 2, 3, 3), options={"padding": (0, 1)}),
    "dilation_2_alone": Case((1, 2, 7, 8), (2, 2, 3, 3), options={"dilation": 2}),
    "dilation_pair": Case((1, 2, 9, 6), (2, 2, 3, 2), options={"dilation": (2, 1)}),
    "float32_alone": Case((2, 3, 5, 5), (4, 3, 3, 3), dtype=np.float32),
    # "same" pads D·(K - 1) at stride 1: 4 here, not the K - 1 = 2 that would shrink 7×8 to 5×6
    "same_padding_dilation_2": Case((2, 2, 7, 8), (3, 2, 3, 3), options={"padding": "same", "dilation": 2}),
    "same_dilation_stride_even_kernel": Case((1, 2, 9, 8), (2, 2, 2, 3),
                                             options={"padding": "same", "dilation": 2, "stride": 2}),
    "depthwise_groups_3": Case((1, 3, 5, 5), (3, 1, 3, 3), bias=False, options={"groups": 3}),
}
BACKWARD_CASES = ["stride_2_padding_1", "stride_3_floored", "padding_2_kernel_5x5", "padding_and_stride_pairs",
                  "same_padding_kernel_3x4", "dilation_2", "groups_2", "non_square_input_and_kernel", "kernel_1x1",
                  "float32"]
FIXED_BACKWARD_CASES = ["stride_pair_alone", "dilation_2_alone", "float32_alone", "same_dilation_stride_even_kernel"]

DX_HINT = "check col2im: each column goes back to the window it came from (stride, dilation), += where " \
          "windows overlap, and the padding is cut off at the end"
DW_HINT = "check how dout is combined with the input windows: dW = dout @ X_colᵀ, reshaped to w's shape"
SIZE_HINT = "each axis has its own kernel size, stride, padding and dilation; \"same\" pads D·(K - 1) at stride 1"


# ----- conv_output_size -----

@pytest.mark.points(1)
def test_conv_output_size_floors_and_strict_refuses_a_stride_that_does_not_fit(student):
    """conv_output_size: 7×7 with a 3×3 filter (stride 1, 2, 3), AlexNet's 227/11/4, and strict=True."""
    for args, kwargs in [((7, 3), {}), ((7, 3), {"stride": 2}), ((7, 3), {"stride": 3}),
                         ((227, 11), {"stride": 4}), ((55, 3), {"stride": 2}), ((7, 3), {"padding": 1}),
                         ((32, 5), {"padding": 2}), ((8, 3), {"stride": 2, "padding": 1})]:
        call = ", ".join([*map(str, args), *(f"{k}={v}" for k, v in kwargs.items())])
        assert_value_equals(f"conv_output_size({call})", student.conv_output_size(*args, **kwargs),
                            ref.conv_output_size(*args, **kwargs))
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
                            ref.conv_output_size(*args, **kwargs))


@pytest.mark.points(0.25)
def test_conv_output_size_refuses_a_kernel_larger_than_the_input(student):
    """conv_output_size raises a ValueError naming kernel_size when the kernel is larger than the padded input."""
    expect_error(student.conv_output_size, 3, 5, mention="kernel_size", what="3, 5")


@pytest.mark.points(0.25)
def test_conv_output_size_refuses_sizes_strides_and_dilations_below_1_and_negative_padding(student):
    """conv_output_size raises a ValueError naming the argument for size 0, stride 0, dilation 0, padding -1."""
    for args, kwargs, name in [((0, 3), {}, "size"), ((7, 3), {"stride": 0}, "stride"),
                               ((7, 3), {"dilation": 0}, "dilation"), ((7, 3), {"padding": -1}, "padding")]:
        call = ", ".join([*map(str, args), *(f"{k}={v}" for k, v in kwargs.items())])
        expect_error(student.conv_output_size, *args, mention=name, what=call, **kwargs)


# ----- conv2d forward and backward -----

def forward(student, rng, case):
    """conv2d_forward's out for ``case`` (a fixed case ignores ``rng``), checked against the reference."""
    c = CASES.get(case) or FIXED_CASES[case]
    x, w, b = c.arrays(fixed_rng(case) if case in FIXED_CASES else rng)
    out, _ = forward_pair(student.conv2d_forward, x, w, b, **c.options)
    assert_array_matches("out", out, ref.conv2d_forward(x, w, b, **c.options)[0], source="conv2d_forward",
                         hint=SIZE_HINT)


@pytest.mark.points(0.35)
@pytest.mark.parametrize("case", list(CASES))
def test_conv2d_forward(student, rng, case):
    forward(student, rng, case)


@pytest.mark.points(0.35)
@pytest.mark.parametrize("case", list(FIXED_CASES))
def test_conv2d_forward_fixed(student, case):
    forward(student, None, case)


def backward(student, rng, case):
    """((dx, dw, db) of the submission, (dx, dw, db) of the reference) for ``case``."""
    c = CASES.get(case) or FIXED_CASES[case]
    rng = fixed_rng(case) if case in FIXED_CASES else rng
    x, w, b = c.arrays(rng)
    ref_out, ref_cache = ref.conv2d_forward(x, w, b, **c.options)
    dout = rng.standard_normal(ref_out.shape).astype(c.dtype)
    _, cache = forward_pair(student.conv2d_forward, x, w, b, **c.options)
    return backward_triple(student.conv2d_backward, dout, cache), ref.conv2d_backward(dout, ref_cache)


DB_HINT = "db[o] is the sum of dout[:, o] over the batch and all positions"


def check_gradient(student, rng, case, index):
    """Check one of conv2d_backward's (dx, dw, db) for ``case``."""
    name, hint = (("dx", DX_HINT), ("dw", DW_HINT), ("db", DB_HINT))[index]
    got, expected = backward(student, rng, case)
    assert_array_matches(name, got[index], expected[index], source="conv2d_backward", hint=hint)


@pytest.mark.points(0.4)
@pytest.mark.parametrize("case", BACKWARD_CASES)
def test_conv2d_backward_dx(student, rng, case):
    check_gradient(student, rng, case, 0)


@pytest.mark.points(0.4)
@pytest.mark.parametrize("case", FIXED_BACKWARD_CASES)
def test_conv2d_backward_dx_fixed(student, case):
    check_gradient(student, None, case, 0)


@pytest.mark.points(0.4)
@pytest.mark.parametrize("case", BACKWARD_CASES)
def test_conv2d_backward_dw(student, rng, case):
    check_gradient(student, rng, case, 1)


@pytest.mark.points(0.4)
@pytest.mark.parametrize("case", FIXED_BACKWARD_CASES)
def test_conv2d_backward_dw_fixed(student, case):
    check_gradient(student, None, case, 1)


@pytest.mark.points(0.15)
@pytest.mark.parametrize("case", BACKWARD_CASES)
def test_conv2d_backward_db(student, rng, case):
    check_gradient(student, rng, case, 2)


@pytest.mark.points(0.15)
@pytest.mark.parametrize("case", FIXED_BACKWARD_CASES)
def test_conv2d_backward_db_fixed(student, case):
    check_gradient(student, None, case, 2)


@pytest.mark.points(0.25)
def test_conv2d_backward_db_is_none_without_bias(student, rng):
    """conv2d_backward returns db = None when the forward pass had no bias."""
    (_, _, db), _ = backward(student, rng, "batch_1_no_bias")
    assert_none("db", db, source="conv2d_backward", why="the forward pass had b=None")


# ----- inputs are never modified -----

@pytest.mark.points(0.5)
def test_conv2d_forward_does_not_modify_its_inputs(student, rng):
    """conv2d_forward leaves x, w and b unchanged (padding 1, stride 2)."""
    x, w, b = CASES["stride_2_padding_1"].arrays(rng)
    result = unchanged_call(student.conv2d_forward, ["x", "w", "b"], x, w, b, stride=2, padding=1)
    out, _ = assert_result_pair("conv2d_forward", result)
    assert_array_matches("out", out, ref.conv2d_forward(x, w, b, stride=2, padding=1)[0], source="conv2d_forward")


@pytest.mark.points(0.5)
def test_conv2d_forward_alone_does_not_modify_its_inputs(student):
    """conv2d_forward(x, w), the simplest call, leaves x and w unchanged."""
    x, w, _ = CASES["stride_1_no_padding"].arrays(fixed_rng("inputs"))
    out, _ = assert_result_pair("conv2d_forward", unchanged_call(student.conv2d_forward, ["x", "w"], x, w))
    assert_array_matches("out", out, ref.conv2d_forward(x, w)[0], source="conv2d_forward")


def unchanged_dout(student, rng, case):
    """conv2d_backward's dx for ``case`` (drawn from ``rng``) after checking that it left dout unchanged, and the
    reference dx."""
    c = CASES[case]
    x, w, b = c.arrays(rng)
    ref_out, ref_cache = ref.conv2d_forward(x, w, b, **c.options)
    dout = rng.standard_normal(ref_out.shape)
    _, cache = forward_pair(student.conv2d_forward, x, w, b, **c.options)
    dx, _, _ = assert_result_tuple("conv2d_backward", unchanged_call(student.conv2d_backward, ["dout"], dout, cache),
                                   ("dx", "dw", "db"))
    return dx, ref.conv2d_backward(dout, ref_cache)[0]


@pytest.mark.points(0.25)
def test_conv2d_backward_does_not_modify_dout(student, rng):
    """conv2d_backward leaves dout unchanged (groups 2, padding 1)."""
    dx, expected = unchanged_dout(student, rng, "groups_2")
    assert_array_matches("dx", dx, expected, source="conv2d_backward")


@pytest.mark.points(0.25)
def test_conv2d_backward_alone_does_not_modify_dout(student):
    """conv2d_backward after the simplest forward call (stride 1, no padding) leaves dout unchanged."""
    dx, expected = unchanged_dout(student, fixed_rng("dout"), "stride_1_no_padding")
    assert_array_matches("dx", dx, expected, source="conv2d_backward")


# ----- arguments -----

@pytest.mark.points(0.25)
def test_conv2d_forward_refuses_a_channel_mismatch(student):
    """conv2d_forward raises a one-line ValueError or TypeError when w's channels do not match x's."""
    x, w = np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3))
    expect_error(student.conv2d_forward, x, w, error=("ValueError", "TypeError"),
                 what="x with 3 channels, w expecting 4")


@pytest.mark.points(0.25)
def test_conv2d_forward_refuses_groups_that_do_not_divide_the_channels(student):
    """conv2d_forward raises a ValueError naming groups when groups does not divide the output channels."""
    x, w = np.ones((1, 4, 5, 5)), np.ones((3, 2, 3, 3))
    expect_error(student.conv2d_forward, x, w, groups=2, mention="groups", what="3 filters in groups=2")


@pytest.mark.points(0.25)
def test_conv2d_forward_refuses_a_stride_of_0_and_negative_padding(student):
    """conv2d_forward raises a ValueError naming stride for stride 0 and naming padding for padding -1."""
    x, w = np.ones((1, 2, 5, 5)), np.ones((2, 2, 3, 3))
    expect_error(student.conv2d_forward, x, w, stride=0, mention="stride", what="stride=0")
    expect_error(student.conv2d_forward, x, w, padding=-1, mention="padding", what="padding=-1")


# ----- conv1d -----

CONV1D = {"stride": 2, "padding": 1, "dilation": 2}


@pytest.mark.points(0.5)
def test_conv1d_forward_with_stride_padding_and_dilation(student, rng):
    """conv1d_forward: x (2, 3, 15), w (4, 3, 3), bias, stride 2, padding 1, dilation 2."""
    x, w, b = rng.standard_normal((2, 3, 15)), rng.standard_normal((4, 3, 3)), rng.standard_normal(4)
    out, _ = forward_pair(student.conv1d_forward, x, w, b, **CONV1D)
    assert_array_matches("out", out, ref.conv1d_forward(x, w, b, **CONV1D)[0], source="conv1d_forward")


@pytest.mark.points(0.5)
def test_conv1d_forward_with_same_padding_and_no_bias(student, rng):
    """conv1d_forward: x (1, 2, 10), w (3, 2, 4), no bias, padding "same"."""
    x, w = rng.standard_normal((1, 2, 10)), rng.standard_normal((3, 2, 4))
    out, _ = forward_pair(student.conv1d_forward, x, w, None, padding="same")
    assert_array_matches("out", out, ref.conv1d_forward(x, w, None, padding="same")[0], source="conv1d_forward")


@pytest.mark.points(0.25)
def test_conv1d_forward_with_same_padding_and_dilation_keeps_float32(student):
    """conv1d_forward: float32 x (2, 2, 11), w (3, 2, 3), bias, padding "same", dilation 2."""
    rng = fixed_rng("conv1d")
    x, w, b = (rng.standard_normal(shape).astype(np.float32) for shape in ((2, 2, 11), (3, 2, 3), (3,)))
    out, _ = forward_pair(student.conv1d_forward, x, w, b, padding="same", dilation=2)
    assert_array_matches("out", out, ref.conv1d_forward(x, w, b, padding="same", dilation=2)[0],
                         source="conv1d_forward", hint='"same" pads D·(K - 1) in all at stride 1')


@pytest.mark.points(1.25)
def test_conv1d_backward_dx_dw_db(student, rng, credit):
    """conv1d_backward: dx, dw and db (a third of the points each), stride 2, padding 1, dilation 2."""
    x, w, b = rng.standard_normal((2, 3, 15)), rng.standard_normal((4, 3, 3)), rng.standard_normal(4)
    ref_out, ref_cache = ref.conv1d_forward(x, w, b, **CONV1D)
    dout = rng.standard_normal(ref_out.shape)
    _, cache = forward_pair(student.conv1d_forward, x, w, b, **CONV1D)
    dx, dw, db = backward_triple(student.conv1d_backward, dout, cache)
    ref_dx, ref_dw, ref_db = ref.conv1d_backward(dout, ref_cache)
    check_each([("dx", matches("dx", dx, ref_dx, source="conv1d_backward")),
                ("dw", matches("dw", dw, ref_dw, source="conv1d_backward")),
                ("db", matches("db", db, ref_db, source="conv1d_backward"))], credit)
