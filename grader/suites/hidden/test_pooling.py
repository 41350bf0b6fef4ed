"""Hidden tests of exercise 4, pooling: windows, strides and padding alone and combined, ties, overlap, dtypes.

Every rule of the stub is met on its own with the simplest call (a non-square window without padding, a
per-axis stride, float32 without padding ...) as well as combined with the others. Those cases, the ties,
the shared peak, the inputs and the arguments are fixed tests (the same inputs at every seed); where a bug
could hide behind lucky data their input is built so that it cannot: ramps put each window's max at its
far corner, tie patterns fix which max is first, a single peak is shared by overlapping windows. The
random cases come on top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches, assert_result_pair
from grader.judge.reference import reference
from grader.suites._support import expect_error, fixed_rng, forward_pair, unchanged_call

ref = reference("pooling")

pytestmark = [pytest.mark.exercise("pooling"), pytest.mark.visibility("hidden")]


@dataclass(frozen=True)
class Case:
    shape: tuple[int, int, int, int]
    kernel: Any
    stride: Any = None      # None: leave it out of the call (it defaults to the window)
    padding: Any = 0        # 0: leave it out of the call
    dtype: Any = np.float64
    ramp: bool = False      # values rising in row-major order: each window's max sits at its bottom-right

    def x(self, rng: np.random.Generator) -> np.ndarray:
        if self.ramp:
            x = np.arange(np.prod(self.shape), dtype=np.float64).reshape(self.shape) + rng.uniform(0, 0.5, self.shape)
        else:
            x = rng.standard_normal(self.shape)
        return x.astype(self.dtype)

    def options(self) -> dict[str, Any]:
        options = {} if self.stride is None else {"stride": self.stride}
        return options | ({"padding": self.padding} if self.padding else {})


CASES = {  # random inputs
    "overlapping_3x3_stride_2": Case((2, 3, 7, 7), 3, 2),
    "stride_3_does_not_divide_the_input": Case((2, 2, 8, 7), 2, 3),
    "padding_1": Case((2, 2, 6, 6), 3, 2, 1),
    "non_square_window": Case((1, 3, 6, 9), (2, 3), (1, 2), (1, 1)),
    "float32": Case((2, 2, 6, 6), 3, 2, 1, np.float32),
}
FIXED_CASES = {  # each feature alone, fixed inputs: e.g. a 2×3 window gives (3, 2), never a square window's (3, 3)
    "non_square_window_alone": Case((1, 2, 6, 8), (2, 3), ramp=True),
    "stride_pair_alone": Case((1, 2, 5, 6), 2, (1, 2), ramp=True),
    "padding_pair_alone": Case((1, 2, 7, 6), 3, 2, (0, 1), ramp=True),
    "float32_alone": Case((2, 2, 6, 6), 2, dtype=np.float32),
}
MAX_HINT = "the whole gradient of a window goes to its (first) max; overlapping windows add up (+=)"
AVG_HINT = "every input of a window gets dout/(KH·KW): padded zeros count, and overlapping windows add up"
SIZE_HINT = "H_out from KH, stride and padding along the height; W_out from KW, stride and padding along the width"


def case(name, points):
    return pytest.param(name, marks=pytest.mark.points(points), id=name)


def run(student, rng, kind, name):
    """(student out, a call of the student's backward, reference out, reference dx) for one case.

    ``rng`` is the test's for a random case; a fixed case draws from :func:`fixed_rng` instead.
    """
    c = CASES.get(name) or FIXED_CASES[name]
    rng = fixed_rng(name) if name in FIXED_CASES else rng
    x = c.x(rng)
    ref_out, ref_cache = getattr(ref, f"{kind}pool2d_forward")(x, c.kernel, **c.options())
    dout = rng.standard_normal(ref_out.shape).astype(c.dtype)
    out, cache = forward_pair(getattr(student, f"{kind}pool2d_forward"), x, c.kernel, **c.options())
    return out, (lambda: getattr(student, f"{kind}pool2d_backward")(dout, cache)), ref_out, \
        getattr(ref, f"{kind}pool2d_backward")(dout, ref_cache)


def max_backward(student, x, dout, *args):
    """(student dx, reference dx) of max pooling ``x`` with ``args`` (kernel, stride ...)."""
    _, cache = forward_pair(student.maxpool2d_forward, x, *args)
    return student.maxpool2d_backward(dout, cache), ref.maxpool2d_backward(dout, ref.maxpool2d_forward(x, *args)[1])


# ----- max pooling -----

@pytest.mark.parametrize("name", [
    case("overlapping_3x3_stride_2", 0.5), case("stride_3_does_not_divide_the_input", 0.5), case("padding_1", 0.5),
    case("non_square_window", 0.25), case("float32", 0.25)])
def test_max_pool_forward(student, rng, name):
    out, _, ref_out, _ = run(student, rng, "max", name)
    assert_array_matches("out", out, ref_out, source="maxpool2d_forward", hint=SIZE_HINT)


@pytest.mark.parametrize("name", [case("non_square_window_alone", 0.5), case("stride_pair_alone", 0.5),
                                  case("padding_pair_alone", 0.5), case("float32_alone", 0.5)])
def test_max_pool_forward_fixed(student, name):
    out, _, ref_out, _ = run(student, None, "max", name)
    assert_array_matches("out", out, ref_out, source="maxpool2d_forward", hint=SIZE_HINT)


@pytest.mark.parametrize("name", [
    case("overlapping_3x3_stride_2", 0.75), case("stride_3_does_not_divide_the_input", 0.5), case("padding_1", 0.75),
    case("non_square_window", 0.5), case("float32", 0.25)])
def test_max_pool_backward(student, rng, name):
    _, backward, _, ref_dx = run(student, rng, "max", name)
    assert_array_matches("dx", backward(), ref_dx, source="maxpool2d_backward", hint=MAX_HINT)


@pytest.mark.parametrize("name", [case("non_square_window_alone", 0.5), case("float32_alone", 0.5)])
def test_max_pool_backward_fixed(student, name):
    _, backward, _, ref_dx = run(student, None, "max", name)
    assert_array_matches("dx", backward(), ref_dx, source="maxpool2d_backward", hint=MAX_HINT)


# 2×2 windows whose maxima tie in every way: first in row-major order at (0, 1) but in column-major order
# at (1, 0); all four equal; the bottom row; a diagonal; negative; all zero (after a ReLU); three of four
TIE_BLOCKS = [[[0, 3], [3, 0]], [[3, 3], [3, 3]], [[0, 0], [3, 3]], [[3, 0], [0, 3]],
              [[-1, -1], [-1, -2]], [[0, 0], [0, 0]], [[2, 5], [5, 5]], [[1, 2], [3, 4]]]
TIES = np.block([[np.array(b, float) for b in TIE_BLOCKS[:4]], [np.array(b, float) for b in TIE_BLOCKS[4:]]])
# plateaus shared by overlapping 3×3 windows
PLATEAUS = np.array([[0, 1, 1, 0, 2, 2, 0],
                     [1, 1, 0, 0, 2, 0, 1],
                     [0, 0, 0, 3, 3, 0, 0],
                     [2, 0, 3, 3, 0, 1, 1],
                     [2, 2, 0, 0, 0, 1, 0],
                     [0, 1, 0, 2, 2, 0, 0]], dtype=np.float64)


@pytest.mark.points(1)
def test_max_pool_backward_with_tied_maxima(student):
    """maxpool2d_backward on 2×2 windows whose maxima tie in every pattern: only the first (row-major) max gets dout."""
    rng = fixed_rng("ties")
    x = TIES + rng.integers(-2, 3, (2, 2, 1, 1)).astype(np.float64)  # a constant per map keeps every tie
    dout = rng.uniform(0.5, 1.5, (2, 2, 2, 4))
    dx, expected = max_backward(student, x, dout, 2)
    assert_array_matches("dx", dx, expected, source="maxpool2d_backward",
                         hint="when several inputs tie for the max, only the first (row-major) gets the gradient")


@pytest.mark.points(0.75)
def test_max_pool_backward_with_tied_maxima_in_overlapping_windows(student):
    """maxpool2d_backward on plateaus of tied maxima shared by overlapping 3×3 windows at stride 1."""
    x = np.stack([np.stack([PLATEAUS, PLATEAUS[::-1]]), np.stack([PLATEAUS[:, ::-1], PLATEAUS[::-1, ::-1]])])
    dout = fixed_rng("plateaus").uniform(0.5, 1.5, (2, 2, 4, 5))
    dx, expected = max_backward(student, x, dout, 3, 1)
    assert_array_matches("dx", dx, expected, source="maxpool2d_backward",
                         hint="only the first tied max of each window gets its gradient; overlaps add up")


@pytest.mark.points(0.5)
def test_max_pool_backward_overlapping_windows_share_a_peak(student):
    """maxpool2d_backward, 3×3 windows at stride 1 around a single peak: its gradient is the sum of 9 windows'."""
    rng = fixed_rng("peak")
    rows, cols = np.indices((6, 6))
    x = np.stack([-abs(rows - 2) - abs(cols - 3), -abs(rows - 3) - abs(cols - 2)]).astype(np.float64)[None]
    x += rng.uniform(0, 0.25, x.shape)  # the peak stays the only max of every window that holds it
    dx, expected = max_backward(student, x, rng.uniform(0.5, 1.5, (1, 2, 4, 4)), 3, 1)
    assert_array_matches("dx", dx, expected, source="maxpool2d_backward",
                         hint="windows that share their max add their gradients there (+=, not =)")


@pytest.mark.points(0.25)
def test_max_pool_padding_never_wins_forward(student):
    """maxpool2d_forward on negative inputs with padding 1: padding must never be the max."""
    x = -fixed_rng("negative").uniform(1, 2, (1, 2, 5, 5))
    out, _ = forward_pair(student.maxpool2d_forward, x, 3, 2, 1)
    assert_array_matches("out", out, ref.maxpool2d_forward(x, 3, 2, 1)[0], source="maxpool2d_forward",
                         hint="pad max pooling with -inf, not 0")


@pytest.mark.points(0.25)
def test_max_pool_padding_never_wins_backward(student):
    """maxpool2d_backward on negative inputs with padding 1: no gradient is lost to the padding."""
    rng = fixed_rng("negative")
    x = -rng.uniform(1, 2, (1, 2, 5, 5))
    dx, expected = max_backward(student, x, rng.uniform(0.5, 1.5, (1, 2, 3, 3)), 3, 2, 1)
    assert_array_matches("dx", dx, expected, source="maxpool2d_backward", hint="pad max pooling with -inf, not 0")


# ----- average pooling -----

AVG_FORWARD_HINT = "divide by KH·KW always: padded zeros count towards the mean"


@pytest.mark.parametrize("name", [
    case("overlapping_3x3_stride_2", 0.25), case("padding_1", 0.25), case("stride_3_does_not_divide_the_input", 0.25),
    case("float32", 0.25)])
def test_average_pool_forward(student, rng, name):
    out, _, ref_out, _ = run(student, rng, "avg", name)
    assert_array_matches("out", out, ref_out, source="avgpool2d_forward", hint=AVG_FORWARD_HINT)


@pytest.mark.parametrize("name", [case("non_square_window_alone", 0.25), case("padding_pair_alone", 0.25),
                                  case("float32_alone", 0.25)])
def test_average_pool_forward_fixed(student, name):
    out, _, ref_out, _ = run(student, None, "avg", name)
    assert_array_matches("out", out, ref_out, source="avgpool2d_forward", hint=AVG_FORWARD_HINT)


@pytest.mark.parametrize("name", [
    case("overlapping_3x3_stride_2", 0.5), case("padding_1", 0.5), case("stride_3_does_not_divide_the_input", 0.25)])
def test_average_pool_backward(student, rng, name):
    _, backward, _, ref_dx = run(student, rng, "avg", name)
    assert_array_matches("dx", backward(), ref_dx, source="avgpool2d_backward", hint=AVG_HINT)


@pytest.mark.parametrize("name", [case("non_square_window_alone", 0.25), case("float32_alone", 0.25)])
def test_average_pool_backward_fixed(student, name):
    _, backward, _, ref_dx = run(student, None, "avg", name)
    assert_array_matches("dx", backward(), ref_dx, source="avgpool2d_backward", hint=AVG_HINT)


# ----- inputs are never modified -----

@pytest.mark.points(0.25)
def test_max_pool_forward_does_not_modify_its_input(student, rng):
    """maxpool2d_forward leaves x unchanged (3×3 windows, stride 2, padding 1)."""
    x = rng.standard_normal((2, 2, 6, 6))
    out, _ = assert_result_pair("maxpool2d_forward", unchanged_call(student.maxpool2d_forward, ["x"], x, 3, 2, 1))
    assert_array_matches("out", out, ref.maxpool2d_forward(x, 3, 2, 1)[0], source="maxpool2d_forward")


@pytest.mark.points(0.25)
def test_max_pool_forward_alone_does_not_modify_its_input(student):
    """maxpool2d_forward(x, 2), the simplest call, leaves x unchanged."""
    x = fixed_rng("max input").standard_normal((2, 2, 4, 6))
    out, _ = assert_result_pair("maxpool2d_forward", unchanged_call(student.maxpool2d_forward, ["x"], x, 2))
    assert_array_matches("out", out, ref.maxpool2d_forward(x, 2)[0], source="maxpool2d_forward")


@pytest.mark.points(0.25)
def test_average_pool_forward_does_not_modify_its_input(student):
    """avgpool2d_forward(x, 2), the simplest call, leaves x unchanged."""
    x = fixed_rng("avg input").standard_normal((2, 2, 4, 6))
    out, _ = assert_result_pair("avgpool2d_forward", unchanged_call(student.avgpool2d_forward, ["x"], x, 2))
    assert_array_matches("out", out, ref.avgpool2d_forward(x, 2)[0], source="avgpool2d_forward")


@pytest.mark.points(0.25)
def test_max_pool_backward_does_not_modify_dout(student):
    """maxpool2d_backward leaves dout unchanged."""
    rng = fixed_rng("max dout")
    x, dout = rng.standard_normal((1, 2, 6, 6)), rng.uniform(0.5, 1.5, (1, 2, 3, 3))
    _, cache = forward_pair(student.maxpool2d_forward, x, 2)
    dx = unchanged_call(student.maxpool2d_backward, ["dout"], dout, cache)
    assert_array_matches("dx", dx, ref.maxpool2d_backward(dout, ref.maxpool2d_forward(x, 2)[1]),
                         source="maxpool2d_backward")


@pytest.mark.points(0.25)
def test_average_pool_backward_does_not_modify_dout(student):
    """avgpool2d_backward leaves dout unchanged."""
    rng = fixed_rng("avg dout")
    x, dout = rng.standard_normal((1, 2, 6, 6)), rng.uniform(0.5, 1.5, (1, 2, 3, 3))
    _, cache = forward_pair(student.avgpool2d_forward, x, 2)
    dx = unchanged_call(student.avgpool2d_backward, ["dout"], dout, cache)
    assert_array_matches("dx", dx, ref.avgpool2d_backward(dout, ref.avgpool2d_forward(x, 2)[1]),
                         source="avgpool2d_backward")


# ----- arguments -----

@pytest.mark.points(0.25)
def test_pooling_refuses_padding_over_half_the_window(student):
    """maxpool2d_forward raises a ValueError naming padding when 2·padding > kernel_size."""
    expect_error(student.maxpool2d_forward, np.ones((1, 1, 6, 6)), 2, 2, 2, mention="padding",
                 what="kernel_size=2, padding=2")


@pytest.mark.points(0.25)
def test_pooling_refuses_padding_over_half_the_window_along_either_axis(student):
    """Max and average pooling raise a ValueError naming padding for padding (0, 2) and (2, 0) with a 3×3 window."""
    x = np.ones((1, 1, 7, 7))
    expect_error(student.maxpool2d_forward, x, 3, 1, (0, 2), mention="padding",
                 what="kernel_size=3, padding=(0, 2)")
    expect_error(student.avgpool2d_forward, x, 3, 1, (2, 0), mention="padding",
                 what="kernel_size=3, padding=(2, 0)")


@pytest.mark.points(0.25)
def test_pooling_refuses_a_window_larger_than_the_input(student):
    """maxpool2d_forward raises a ValueError naming kernel_size for a 4×4 window on a 3×3 input."""
    expect_error(student.maxpool2d_forward, np.ones((1, 1, 3, 3)), 4, mention="kernel_size",
                 what="kernel_size=4 on a 3×3 input")
