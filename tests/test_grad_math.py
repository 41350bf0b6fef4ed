"""Float64 gradient checks over whole tensors: reductions and elementwise math (tie rules too)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gradcheck import (
    GRAD_SETTINGS,
    assert_forward,
    assert_gradients_match,
    f64,
    nonscalar_shapes,
    shapes,
    three_broadcastable,
    two_broadcastable,
    values,
)
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

# ----------------------------------------------------------------------------- reductions

@st.composite
def axis_and_shape(draw):
    shape = draw(nonscalar_shapes)
    ndim = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                          hnp.valid_tuple_axes(ndim, min_size=1)))
    return shape, axis


def _count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes]))


REDUCTIONS = {
    "sum": (lambda x, axis, keepdims, ddof: x.sum(axis=axis, keepdims=keepdims),
            lambda a, axis, keepdims, ddof: a.sum(axis=axis, keepdims=keepdims)),
    "mean": (lambda x, axis, keepdims, ddof: x.mean(axis=axis, keepdims=keepdims),
             lambda a, axis, keepdims, ddof: a.mean(axis=axis, keepdims=keepdims)),
    "max": (lambda x, axis, keepdims, ddof: x.max(axis=axis, keepdims=keepdims),
            lambda a, axis, keepdims, ddof: a.max(axis=axis, keepdims=keepdims)),
    "min": (lambda x, axis, keepdims, ddof: x.min(axis=axis, keepdims=keepdims),
            lambda a, axis, keepdims, ddof: a.min(axis=axis, keepdims=keepdims)),
    "var": (lambda x, axis, keepdims, ddof: x.var(axis=axis, keepdims=keepdims, ddof=ddof),
            lambda a, axis, keepdims, ddof: a.var(axis=axis, keepdims=keepdims, ddof=ddof)),
    "std": (lambda x, axis, keepdims, ddof: x.std(axis=axis, keepdims=keepdims, ddof=ddof),
            lambda a, axis, keepdims, ddof: a.std(axis=axis, keepdims=keepdims, ddof=ddof)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@GRAD_SETTINGS
@given(data=st.data(), case=axis_and_shape(), keepdims=st.booleans(), ddof=st.sampled_from([0, 1]))
def test_reduction_axes_and_keepdims(name, data, case, keepdims, ddof):
    shape, axis = case
    count = _count(shape, axis)
    if name in ("var", "std"):
        assume(count - ddof > 0)
        if name == "std":
            assume(count >= 2)  # std of one value is 0, where sqrt has no derivative
    fn, np_fn = REDUCTIONS[name]
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: fn(x, axis, keepdims, ddof), [f64(x_np)])
    assert_forward(out, np_fn(x_np, axis, keepdims, ddof), "float64", rtol=1e-10)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_of_a_0d_tensor(name):
    fn, _ = REDUCTIONS[name]
    x = f64(1.5)
    out = fn(x, None, False, 0)
    assert out.shape == ()
    if name not in ("var", "std"):
        assert_gradients_match(lambda x: fn(x, None, False, 0), [x])


def test_module_level_reductions_match_methods(rng):
    x_np = rng.standard_normal((3, 4))
    for name in ("sum", "mean", "max", "min", "var", "std"):
        assert_forward(getattr(mg, name)(f64(x_np), axis=1), getattr(np, name)(x_np, axis=1), "float64")


def test_reduction_axis_errors():
    x = mg.ones(2, 3)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="repeats an axis"):
        x.mean(axis=(1, -1))
    with pytest.raises(TypeError, match="axis must be an int"):
        x.max(axis=1.0)
    with pytest.raises(ValueError, match="no degrees of freedom"):
        mg.ones(1, 3).var(axis=0, ddof=1)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_gradient_is_split_equally_among_ties(name):
    x = mg.tensor([[1.0, 3.0, 3.0, 2.0],
                   [5.0, 5.0, 5.0, 0.0],
                   [-1.0, 4.0, -1.0, -1.0]], dtype="float64", requires_grad=True)
    getattr(x, name)().backward()
    expected = np.zeros((3, 4))
    if name == "max":
        expected[1, :3] = 1 / 3  # 5.0 three times
    else:
        expected[2, [0, 2, 3]] = 1 / 3  # -1.0 three times
    np.testing.assert_allclose(x.grad.numpy(), expected)

    # per row, with an upstream gradient and keepdims
    x.grad = None
    g = np.array([[2.0], [3.0], [6.0]])
    (getattr(x, name)(axis=1, keepdims=True) * f64(g, requires_grad=False)).sum().backward()
    data = x.numpy()
    extreme = getattr(data, name)(axis=1, keepdims=True)
    hits = data == extreme
    np.testing.assert_allclose(x.grad.numpy(), g * hits / hits.sum(axis=1, keepdims=True))
    assert x.grad.numpy().sum() == pytest.approx(g.sum())


# ----------------------------------------------------------------------------- elementwise

UNARY = {
    "exp": (lambda x: x.exp(), np.exp, "normal"),
    "log": (lambda x: x.log(), np.log, "positive"),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, "positive"),
    "abs": (lambda x: x.abs(), np.abs, "nonzero"),
    "abs_builtin": (lambda x: abs(x), np.abs, "nonzero"),
    "tanh": (lambda x: x.tanh(), np.tanh, "normal"),
    "sigmoid": (lambda x: x.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), "normal"),
    "mg.exp": (lambda x: mg.exp(x), np.exp, "normal"),
    "mg.log": (lambda x: mg.log(x), np.log, "positive"),
    "mg.sqrt": (lambda x: mg.sqrt(x), np.sqrt, "positive"),
    "mg.abs": (lambda x: mg.abs(x), np.abs, "nonzero"),
    "mg.tanh": (lambda x: mg.tanh(x), np.tanh, "normal"),
    "mg.sigmoid": (lambda x: mg.sigmoid(x), lambda a: 1 / (1 + np.exp(-a)), "normal"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@GRAD_SETTINGS
@given(data=st.data(), shape=shapes)
def test_unary_elementwise(name, data, shape):
    fn, np_fn, kind = UNARY[name]
    x_np = values(data, shape, kind) * (3 if name.endswith("sigmoid") else 1)
    out = assert_gradients_match(fn, [f64(x_np)])
    assert_forward(out, np_fn(x_np), "float64", rtol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_is_stable_at_extremes(dtype):
    x = mg.tensor([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype=dtype, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out = x.sigmoid()
        out.sum().backward()
    assert out.dtype == np.dtype(dtype)
    y = out.numpy()
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(x.grad.numpy()))
    assert y[0] == 0.0 and y[-1] == 1.0 and y[3] == 0.5
    assert np.all(np.diff(y) >= 0)
    np.testing.assert_allclose(x.grad.numpy()[[0, 3, 6]], [0.0, 0.25, 0.0])


def test_abs_gradient_at_zero_is_zero():
    x = mg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@GRAD_SETTINGS
@given(data=st.data(), bshapes=two_broadcastable)
def test_maximum_minimum_broadcasting(name, data, bshapes):
    a_np, b_np = values(data, bshapes.input_shapes[0]), values(data, bshapes.input_shapes[1])
    assume(np.all(np.abs(np.subtract(a_np, b_np)) > 1e-4))  # no ties (tested separately)
    out = assert_gradients_match(lambda a, b: getattr(mg, name)(a, b), [f64(a_np), f64(b_np)])
    assert_forward(out, getattr(np, name)(a_np, b_np), "float64")
    out = assert_gradients_match(lambda a, b: getattr(a, name)(b), [f64(a_np), f64(b_np)])
    assert_forward(out, getattr(np, name)(a_np, b_np), "float64")


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_with_a_scalar(name, rng):
    x_np = rng.standard_normal((3, 4))
    x_np[np.abs(x_np) < 1e-3] = 0.5
    for c in (0.0, np.float64(0.0), 0):
        out = assert_gradients_match(lambda x, c=c: getattr(mg, name)(x, c), [f64(x_np)])
        assert_forward(out, getattr(np, name)(x_np, 0.0), "float64")
        out = assert_gradients_match(lambda x, c=c: getattr(mg, name)(c, x), [f64(x_np)])
        assert_forward(out, getattr(np, name)(x_np, 0.0), "float64")


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_split_the_gradient_at_ties(name):
    a = mg.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    b = mg.tensor([1.0, 5.0, 0.0], dtype="float64", requires_grad=True)
    g = mg.tensor([2.0, 4.0, 8.0], dtype="float64")
    (getattr(mg, name)(a, b) * g).sum().backward()
    a_wins = [1.0, 0.0, 1.0] if name == "maximum" else [1.0, 1.0, 0.0]
    a_share = np.array([0.5, *a_wins[1:]])
    np.testing.assert_allclose(a.grad.numpy(), g.numpy() * a_share)
    np.testing.assert_allclose(b.grad.numpy(), g.numpy() * (1 - a_share))
    # broadcast tie: a scalar tensor tied with two entries collects half of each
    s = mg.tensor(2.0, dtype="float64", requires_grad=True)
    x = mg.tensor([2.0, 2.0, 7.0 if name == "maximum" else -7.0], dtype="float64", requires_grad=True)
    getattr(mg, name)(x, s).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5, 1.0])
    assert s.grad.item() == pytest.approx(1.0)


@GRAD_SETTINGS
@given(data=st.data(), bshapes=three_broadcastable)
def test_where_broadcasting(data, bshapes):
    sc, sa, sb = bshapes.input_shapes
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    cond_np = rng.random(sc) > 0.5
    a_np, b_np = values(data, sa), values(data, sb)
    cond = mg.tensor(cond_np)
    out = assert_gradients_match(lambda a, b: mg.where(cond, a, b), [f64(a_np), f64(b_np)])
    assert_forward(out, np.where(cond_np, a_np, b_np), "float64")
    out = assert_gradients_match(lambda a: mg.where(cond, a, 0.0), [f64(a_np)])
    assert_forward(out, np.where(cond_np, a_np, 0.0), "float64")
    out = assert_gradients_match(lambda b: mg.where(cond_np, np.float64(1.5), b), [f64(b_np)])
    assert_forward(out, np.where(cond_np, 1.5, b_np), "float64")


@GRAD_SETTINGS
@given(data=st.data(), shape=shapes, low=st.one_of(st.none(), st.floats(-1.0, -0.01)),
       high=st.one_of(st.none(), st.floats(0.01, 1.0)))
def test_clip_away_from_the_bounds(data, shape, low, high):
    x_np = values(data, shape)
    for bound in (low, high):
        if bound is not None:
            near = np.abs(x_np - bound) < 1e-3
            x_np = np.where(near, x_np + 0.01, x_np)
    want = x_np if low is None and high is None else np.clip(x_np, low, high)  # NumPy < 2.1 refuses no bounds
    out = assert_gradients_match(lambda x: x.clip(low, high), [f64(x_np)])
    assert_forward(out, want, "float64")
    out = assert_gradients_match(lambda x: mg.clip(x, low, high), [f64(x_np)])
    assert_forward(out, want, "float64")


def test_clip_gradient_passes_inside_and_at_the_bounds_only():
    x = mg.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    out = x.clip(-1.0, 1.0)
    out.sum().backward()
    np.testing.assert_array_equal(out.numpy(), [-1, -1, 0, 1, 1])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 1, 0])
    with pytest.raises(ValueError, match=r"low=2.0 is greater than high=1.0"):
        x.clip(2.0, 1.0)


def test_clip_without_bounds_is_a_copy_on_every_numpy():
    x = mg.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    out = mg.clip(x)
    out.sum().backward()
    assert out.dtype == x.dtype and not np.shares_memory(out.numpy(), x.numpy())
    np.testing.assert_array_equal(out.numpy(), x.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1, 1])
