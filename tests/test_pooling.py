"""The reference pooling kernels against naive loops, the tie and padding rules, autograd and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import reference_loops as ref
from gradcheck import assert_gradients_match, f64
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import nn
from minigrad.autograd import Function
from solutions import pooling
from solutions._checks import add_windows

KINDS = ("max", "avg", "sum", "l2")
small = st.integers(1, 3)


def kernels(kind):
    return getattr(pooling, f"{kind}pool2d_forward"), getattr(pooling, f"{kind}pool2d_backward")


@st.composite
def pool_cases(draw):
    kernel = (draw(small), draw(small))
    stride = draw(st.one_of(st.none(), small, st.tuples(small, small)))  # stride < kernel: windows overlap
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    h = draw(st.integers(max(1, kernel[0] - 2 * padding[0]), 7))
    w = draw(st.integers(max(1, kernel[1] - 2 * padding[1]), 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # Few distinct values: many windows hold several equal maxima, so the tie rule is exercised.
    x = rng.integers(-2, 3, size=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)).astype(np.float64)
    if draw(st.booleans()):
        x += rng.standard_normal(x.shape)
    s = kernel if stride is None else (stride, stride) if isinstance(stride, int) else stride
    return x, kernel, stride, padding, s, rng


@settings(max_examples=60, deadline=None)
@given(kernel=st.tuples(small, small), stride=st.tuples(small, small), dilation=st.tuples(small, small),
       out_hw=st.tuples(small, small), seed=st.integers(0, 2**32 - 1))
def test_add_windows_into_a_fresh_array_assigns_only_where_windows_are_disjoint(kernel, stride, dilation, out_hw,
                                                                               seed):
    dwin = np.random.default_rng(seed).standard_normal((2, 1, *kernel, *out_hw))
    size = [s * (o - 1) + d * (k - 1) + 1 for k, s, d, o in zip(kernel, stride, dilation, out_hw)]
    added = add_windows(np.zeros((2, 1, *size)), dwin, stride, dilation)
    fresh = add_windows(np.zeros((2, 1, *size)), dwin, stride, dilation, fresh=True)
    np.testing.assert_allclose(fresh, added, rtol=1e-15, atol=0)
    np.testing.assert_allclose(fresh.sum(), dwin.sum(), rtol=1e-12)  # nothing lost to an overwrite


@settings(max_examples=40, deadline=None)
@given(pool_cases(), st.sampled_from(KINDS))
def test_pooling_matches_loops_forward_and_backward(case, kind):
    x, kernel, stride, padding, s, rng = case
    forward, backward = kernels(kind)
    x_copy = x.copy()
    out, cache = forward(x, kernel, stride, padding)
    h_out = (x.shape[2] + 2 * padding[0] - kernel[0]) // s[0] + 1
    w_out = (x.shape[3] + 2 * padding[1] - kernel[1]) // s[1] + 1
    assert out.shape == (*x.shape[:2], h_out, w_out) and out.dtype == np.float64
    dout = rng.standard_normal(out.shape)
    ref_out, ref_dx = ref.pool2d(kind, x, kernel, s, padding, dout=dout)
    ref.assert_matches(out, ref_out)
    dx = backward(dout, cache)
    assert dx.shape == x.shape and dx.dtype == np.float64
    ref.assert_matches(dx, ref_dx)
    np.testing.assert_array_equal(x, x_copy)
    assert not np.shares_memory(out, x) and not np.shares_memory(dx, dout)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(rng, kind):
    forward, backward = kernels(kind)
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    out, cache = forward(x, 3, 2, 1)
    dx = backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == np.float32
    ref_out, ref_dx = ref.pool2d(kind, x, (3, 3), (2, 2), (1, 1), dout=np.ones(out.shape))
    ref.assert_matches(out, ref_out, rtol=1e-6)
    ref.assert_matches(dx, ref_dx, rtol=1e-6)


def test_max_pool_tie_sends_the_whole_gradient_to_the_first_max_in_row_major_order():
    x = np.array([[0.0, 5.0, 5.0],
                  [5.0, 1.0, 5.0],
                  [2.0, 2.0, 2.0]])[None, None]
    out, cache = pooling.maxpool2d_forward(x, 2, stride=1)  # overlapping 2×2 windows
    np.testing.assert_array_equal(out[0, 0], [[5.0, 5.0], [5.0, 5.0]])
    dx = pooling.maxpool2d_backward(np.array([[1.0, 10.0], [100.0, 1000.0]])[None, None], cache)
    # windows: (0,0) -> first 5 at (0,1); (0,1) -> (0,1); (1,0) -> (1,0); (1,1) -> (1,2)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 11.0, 0.0], [100.0, 0.0, 1000.0], [0.0, 0.0, 0.0]])


def test_overlapping_windows_accumulate_on_a_shared_maximum():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # the max of all four 2×2 windows
    out, cache = pooling.maxpool2d_forward(x, 2, stride=1)
    dx = pooling.maxpool2d_backward(np.full(out.shape, 0.5), cache)
    assert dx[0, 0, 1, 1] == 2.0 and dx.sum() == 2.0


def test_max_pads_with_minus_inf_and_average_counts_padded_zeros():
    x = -np.ones((1, 1, 2, 2))
    out, cache = pooling.maxpool2d_forward(x, 2, padding=1)  # each window holds one real value
    np.testing.assert_array_equal(out[0, 0], -np.ones((2, 2)))
    np.testing.assert_array_equal(pooling.maxpool2d_backward(np.ones((1, 1, 2, 2)), cache), np.ones(x.shape))
    out, cache = pooling.avgpool2d_forward(-x, 2, padding=1)
    np.testing.assert_array_equal(out[0, 0], np.full((2, 2), 0.25))  # 1 real value / (2·2)
    dx = pooling.avgpool2d_backward(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx, np.full(x.shape, 0.25))


def test_stride_defaults_to_the_kernel_and_a_partial_last_window_is_dropped():
    x = np.arange(35.0).reshape(1, 1, 5, 7)
    out, _ = pooling.maxpool2d_forward(x, 2)
    assert out.shape == (1, 1, 2, 3)  # floor((5 - 2)/2) + 1, floor((7 - 2)/2) + 1
    np.testing.assert_array_equal(out[0, 0], x[0, 0, 1:4:2, 1:6:2])


def test_l2_pool_of_an_all_zero_window_has_zero_gradient():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, :, 2:] = [[3.0, 0.0], [0.0, 4.0]]
    out, cache = pooling.l2pool2d_forward(x, 2)
    np.testing.assert_array_equal(out[0, 0], [[0.0, 5.0]])
    dx = pooling.l2pool2d_backward(np.ones(out.shape), cache)
    np.testing.assert_allclose(dx[0, 0], [[0.0, 0.0, 0.6, 0.0], [0.0, 0.0, 0.0, 0.8]])


@pytest.mark.parametrize("layer, fn", [(nn.MaxPool2d(3, 2, 1), "max"),
                                       (nn.AvgPool2d((2, 3), 1, (1, 0)), "avg")])
def test_minigrad_pool_layers_use_the_kernels_backward(rng, layer, fn):
    forward, backward = kernels(fn)
    x = np.round(rng.standard_normal((2, 3, 6, 5)), 1)  # rounded: ties occur
    out, cache = forward(x, layer.kernel_size, layer.stride, layer.padding)
    weights = rng.standard_normal(out.shape)
    xt = minigrad.tensor(x, requires_grad=True)
    out_t = layer(xt)
    (out_t * minigrad.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(out_t.numpy(), out)
    np.testing.assert_array_equal(xt.grad.numpy(), backward(weights, cache))


def as_function(kind, **options):
    """The kernel pair as a minigrad op, for the central-difference check of every kind."""
    forward, backward = kernels(kind)

    class Pool(Function):
        @staticmethod
        def forward(ctx, x):
            out, ctx.cache = forward(x, **options)
            return out

        @staticmethod
        def backward(ctx, grad):
            return backward(grad, ctx.cache)

    return Pool.apply


@pytest.mark.parametrize("kind", KINDS)
def test_pool_gradients_match_central_differences(rng, kind):
    x = f64(rng.standard_normal((2, 2, 5, 4)))  # continuous values: no ties, max is differentiable
    assert_gradients_match(as_function(kind, kernel_size=3, stride=(2, 1), padding=1), [x])


X = np.zeros((2, 3, 4, 4))


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("args, error, name", [
    ((X[0], 2), ValueError, "x"),
    ((X.astype(np.int32), 2), TypeError, "x"),
    ((X, 5), ValueError, "kernel_size"),
    ((X, 0), ValueError, "kernel_size"),
    ((X, 2, 0), ValueError, "stride"),
    ((X, 2, (1, 2.0)), TypeError, "stride"),
    ((X, 2, 2, -1), ValueError, "padding"),
    ((X, 3, 1, 2), ValueError, "padding"),
])
def test_bad_input_raises_one_line_naming_the_argument(kind, args, error, name):
    forward, _ = kernels(kind)
    with pytest.raises(error, match=name) as info:
        forward(*args)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kind", KINDS)
def test_backward_rejects_a_dout_of_the_wrong_shape(kind):
    forward, backward = kernels(kind)
    _, cache = forward(X, 2)
    with pytest.raises(ValueError, match="dout"):
        backward(np.zeros((2, 3, 3, 3)), cache)
