"""Every differentiable op: forward against NumPy, backward against central differences (float64).

Property-based over shapes and broadcasting with hypothesis; values come from a
drawn seed so they are continuous (no ties for max/min, nothing on a kink),
and the tie rules are tested on purpose with hand-made inputs. The last part
checks that float32 stays float32, forward and backward, for every op.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pytest
from gradcheck import GRAD_SETTINGS, assert_forward, assert_gradients_match, f64
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd import Function

# ----------------------------------------------------------------------------- strategies


def values(data: st.DataObject, shape: tuple[int, ...], kind: str = "normal") -> np.ndarray:
    """Float64 values of ``shape`` from a drawn seed: normal, positive (0.5..2) or nonzero (|v| in 0.5..2)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    if kind == "normal":
        return rng.standard_normal(shape)
    magnitude = rng.uniform(0.5, 2.0, shape)
    if kind == "positive":
        return magnitude
    if kind == "nonzero":
        return magnitude * rng.choice([-1.0, 1.0], shape)
    raise ValueError(kind)


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
two_broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
three_broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)


# ----------------------------------------------------------------------------- arithmetic

BINARY = {
    "add": (lambda a, b: a + b, np.add, "normal", "normal"),
    "sub": (lambda a, b: a - b, np.subtract, "normal", "normal"),
    "mul": (lambda a, b: a * b, np.multiply, "normal", "normal"),
    "div": (lambda a, b: a / b, np.divide, "normal", "nonzero"),
    "pow": (lambda a, b: a**b, np.power, "positive", "normal"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@GRAD_SETTINGS
@given(data=st.data(), bshapes=two_broadcastable)
def test_binary_op_broadcasting(name, data, bshapes):
    fn, np_fn, kind_a, kind_b = BINARY[name]
    a_np = values(data, bshapes.input_shapes[0], kind_a)
    b_np = values(data, bshapes.input_shapes[1], kind_b)
    a, b = f64(a_np), f64(b_np)
    out = assert_gradients_match(fn, [a, b])
    assert out.shape == bshapes.result_shape
    assert_forward(out, np_fn(a_np, b_np), "float64")


HARD_BROADCASTS = [((2, 3), (3,)), ((1, 3, 1), (2, 1, 4)), ((4,), (2, 1, 1)), ((2, 1, 3, 1), (4, 1, 5)),
                   ((), (2, 3)), ((1, 1), (3, 2)), ((3, 1), (1,))]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize(("sa", "sb"), HARD_BROADCASTS)
def test_binary_op_explicit_broadcasts_both_ways(name, sa, sb, rng):
    fn, np_fn, kind_a, kind_b = BINARY[name]
    for first, second in ((sa, sb), (sb, sa)):
        a_np = np.abs(rng.standard_normal(first)) + 0.5 if kind_a == "positive" else rng.standard_normal(first)
        b_np = np.abs(rng.standard_normal(second)) + 0.5 if kind_b == "nonzero" else rng.standard_normal(second)
        out = assert_gradients_match(fn, [f64(a_np), f64(b_np)])
        assert_forward(out, np_fn(a_np, b_np), "float64")


SCALAR_CASES = {
    # name: (tensor-on-left fn, kind of x, scalar range)
    "add": (lambda x, c: x + c, lambda c, x: c + x, "normal", "normal"),
    "sub": (lambda x, c: x - c, lambda c, x: c - x, "normal", "normal"),
    "mul": (lambda x, c: x * c, lambda c, x: c * x, "normal", "normal"),
    "div": (lambda x, c: x / c, lambda c, x: c / x, "nonzero", "nonzero"),
    "pow": (lambda x, c: x**c, lambda c, x: c**x, "positive", "positive"),
}


@pytest.mark.parametrize("name", sorted(SCALAR_CASES))
@pytest.mark.parametrize("scalar_type", [float, np.float64, np.float32])
@GRAD_SETTINGS
@given(data=st.data(), shape=shapes, magnitude=st.floats(0.5, 2.0), negative=st.booleans())
def test_binary_op_with_scalar_on_either_side(name, scalar_type, data, shape, magnitude, negative):
    left, right, kind_x, kind_c = SCALAR_CASES[name]
    c = scalar_type(-magnitude if negative and kind_c != "positive" else magnitude)
    if name == "pow":  # x ** c needs x > 0 for any real c; c ** x needs c > 0
        c_right = scalar_type(-magnitude * 1.5 if negative else magnitude * 1.5)
    else:
        c_right = c
    x_np = values(data, shape, kind_x)
    x = f64(x_np)
    out = assert_gradients_match(lambda x: left(x, c_right), [x])
    assert_forward(out, left(x_np, float(c_right)), "float64", rtol=1e-6)
    out = assert_gradients_match(lambda x: right(c, x), [x])
    assert_forward(out, right(float(c), x_np), "float64", rtol=1e-6)


@pytest.mark.parametrize("exponent", [2, 3, -1, 0.5, 0])
def test_pow_integer_and_fractional_exponents(exponent, rng):
    base = np.abs(rng.standard_normal((3, 4))) + 0.5 if exponent == 0.5 else rng.standard_normal((3, 4)) + 0.1
    x = f64(base)
    out = assert_gradients_match(lambda x: x**exponent, [x])
    assert_forward(out, base**exponent, "float64")


def test_tensor_pow_tensor_exponent_gradient_is_log_of_base(rng):
    a, b = f64(rng.uniform(0.5, 2, (2, 3))), f64(rng.standard_normal((2, 3)))
    (a**b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), a.numpy() ** b.numpy() * np.log(a.numpy()))
    np.testing.assert_allclose(a.grad.numpy(), b.numpy() * a.numpy() ** (b.numpy() - 1))


@GRAD_SETTINGS
@given(data=st.data(), shape=shapes)
def test_negation(data, shape):
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: -x, [f64(x_np)])
    assert_forward(out, -x_np, "float64")


def test_arithmetic_shape_mismatch_names_the_op():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) do not broadcast"):
        mg.ones(2, 3) + mg.ones(4)


# ----------------------------------------------------------------------------- matmul

@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["dot", "vec_mat", "mat_vec", "mat_mat", "batched", "broadcast_batch",
                                 "vec_batched", "batched_vec"]))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2, max_side=3))
    ba, bb = batch.input_shapes
    return kind, {
        "dot": ((k,), (k,)),
        "vec_mat": ((k,), (k, m)),
        "mat_vec": ((n, k), (k,)),
        "mat_mat": ((n, k), (k, m)),
        "batched": ((*ba, n, k), (*ba, k, m)),
        "broadcast_batch": ((*ba, n, k), (*bb, k, m)),
        "vec_batched": ((k,), (*bb, k, m)),
        "batched_vec": ((*ba, n, k), (k,)),
    }[kind]


@GRAD_SETTINGS
@given(data=st.data(), case=matmul_shapes())
def test_matmul_including_1d_batched_and_broadcast_batch(data, case):
    _kind, (sa, sb) = case
    a_np, b_np = values(data, sa), values(data, sb)
    out = assert_gradients_match(lambda a, b: a @ b, [f64(a_np), f64(b_np)])
    assert_forward(out, np.matmul(a_np, b_np), "float64", rtol=1e-10)


def test_matmul_function_and_method_agree(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    expected = a @ b
    for out in (mg.matmul(f64(a), f64(b)), f64(a).matmul(f64(b)), f64(a) @ f64(b)):
        assert_forward(out, expected, "float64")


def test_matmul_errors_are_one_line():
    with pytest.raises(ValueError, match=r"inner dimensions 3 and 4 differ"):
        mg.ones(2, 3) @ mg.ones(4, 5)
    with pytest.raises(ValueError, match=r"at least 1 dimension"):
        mg.matmul(mg.tensor(2.0), mg.ones(3))


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
    out = assert_gradients_match(lambda x: x.clip(low, high), [f64(x_np)])
    assert_forward(out, np.clip(x_np, low, high), "float64")
    out = assert_gradients_match(lambda x: mg.clip(x, low, high), [f64(x_np)])
    assert_forward(out, np.clip(x_np, low, high), "float64")


def test_clip_gradient_passes_inside_and_at_the_bounds_only():
    x = mg.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    out = x.clip(-1.0, 1.0)
    out.sum().backward()
    np.testing.assert_array_equal(out.numpy(), [-1, -1, 0, 1, 1])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 1, 0])
    with pytest.raises(ValueError, match=r"low=2.0 is greater than high=1.0"):
        x.clip(2.0, 1.0)


# ----------------------------------------------------------------------------- shape ops

@GRAD_SETTINGS
@given(data=st.data(), shape=shapes)
def test_reshape(data, shape):
    size = int(np.prod(shape))
    target = data.draw(st.sampled_from([(-1,), (size,), tuple(reversed(shape)), (1, *shape), (size, 1),
                                        (-1, 1)]))
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.reshape(target), [f64(x_np)])
    assert_forward(out, x_np.reshape(target), "float64")
    out = assert_gradients_match(lambda x: x.reshape(*target), [f64(x_np)])
    assert_forward(out, x_np.reshape(target), "float64")
    assert_forward(mg.reshape(f64(x_np), target), x_np.reshape(target))
    assert_forward(f64(x_np).view(target), x_np.reshape(target))


def test_reshape_errors():
    with pytest.raises(ValueError, match=r"cannot view 6 values of shape \(2, 3\) as \(4, 2\)"):
        mg.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match="cannot view"):
        mg.ones(2, 3).reshape(-1, -1)
    with pytest.raises(TypeError, match="shape must be ints"):
        mg.ones(2, 3).reshape(2.0, 3)


@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=2, max_dims=4, max_side=3))
def test_transpose_and_permute(data, shape):
    ndim = len(shape)
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.transpose(), [f64(x_np)])
    assert_forward(out, x_np.transpose(), "float64")
    assert_forward(f64(x_np).T, x_np.T)
    i, j = data.draw(st.integers(-ndim, ndim - 1)), data.draw(st.integers(-ndim, ndim - 1))
    out = assert_gradients_match(lambda x: mg.transpose(x, i, j), [f64(x_np)])
    assert_forward(out, np.swapaxes(x_np, i, j), "float64")
    order = tuple(data.draw(st.permutations(range(ndim))))
    out = assert_gradients_match(lambda x: x.permute(*order), [f64(x_np)])
    assert_forward(out, x_np.transpose(order), "float64")
    negative = tuple(a - ndim for a in order)
    out = assert_gradients_match(lambda x: mg.permute(x, negative), [f64(x_np)])
    assert_forward(out, x_np.transpose(order), "float64")


def test_permute_and_transpose_errors():
    with pytest.raises(ValueError, match="not an ordering"):
        mg.ones(2, 3).permute(0, 0)
    with pytest.raises(ValueError, match="not an ordering"):
        mg.ones(2, 3, 4).permute(1, 0)
    with pytest.raises(ValueError, match="use permute"):
        mg.ones(2, 3, 4).transpose(2, 0, 1)


@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=3))
def test_flatten(data, shape):
    ndim = len(shape)
    start = data.draw(st.integers(0, ndim - 1))
    end = data.draw(st.integers(start, ndim - 1))
    expected_shape = (*shape[:start], int(np.prod(shape[start:end + 1])), *shape[end + 1:])
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.flatten(start, end - ndim), [f64(x_np)])
    assert_forward(out, x_np.reshape(expected_shape), "float64")
    assert_forward(mg.flatten(f64(x_np)), x_np.reshape(-1))
    assert mg.flatten(f64(2.0)).shape == (1,)


@GRAD_SETTINGS
@given(data=st.data(), shape=shapes)
def test_squeeze_and_unsqueeze(data, shape):
    ndim = len(shape)
    axis = data.draw(st.integers(-(ndim + 1), ndim))
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.unsqueeze(axis), [f64(x_np)])
    assert_forward(out, np.expand_dims(x_np, axis), "float64")
    assert_forward(mg.unsqueeze(f64(x_np), axis), np.expand_dims(x_np, axis))
    padded = np.expand_dims(x_np, axis)
    out = assert_gradients_match(lambda x: x.squeeze(axis), [f64(padded)])
    assert_forward(out, np.squeeze(padded, axis), "float64")
    out = assert_gradients_match(lambda x: mg.squeeze(x), [f64(padded)])
    assert_forward(out, np.squeeze(padded), "float64")


def test_squeeze_of_a_non_unit_axis_is_an_error():
    with pytest.raises(ValueError, match="not of size 1"):
        mg.ones(2, 3).squeeze(1)


@st.composite
def broadcast_target(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    shape = tuple(draw(st.sampled_from([1, n])) for n in shape)  # plenty of 1s to broadcast
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    target = (*lead, *(draw(st.integers(1, 3)) if n == 1 else n for n in shape))
    return shape, target


@GRAD_SETTINGS
@given(data=st.data(), case=broadcast_target())
def test_broadcast_to(data, case):
    shape, target = case
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.broadcast_to(target), [f64(x_np)])
    assert_forward(out, np.broadcast_to(x_np, target), "float64")
    out = assert_gradients_match(lambda x: mg.broadcast_to(x, *target), [f64(x_np)])
    assert out.shape == target


def test_broadcast_to_error():
    with pytest.raises(ValueError, match=r"\(2, 3\) does not broadcast to \(4, 3\)"):
        mg.ones(2, 3).broadcast_to(4, 3)


# ----------------------------------------------------------------------------- indexing

SHAPE = (4, 5, 3)
INDICES = {
    "int": 1,
    "negative int": -1,
    "ints": (1, 2),
    "three ints": (3, -1, 0),
    "slice": slice(1, 3),
    "negative step": slice(None, None, -1),
    "strided negative step": (slice(None), slice(4, 0, -2)),
    "ellipsis": (Ellipsis, 1),
    "none": (None, 1, Ellipsis, None),
    "int none reversed": (1, None, slice(None, None, -1)),
    "empty slice": slice(2, 2),
    "list": [3, 1],
    "repeated list": [0, 0, 1],
    "int array": np.array([0, 2, 2]),
    "2d int array": np.array([[0, 1], [1, 3]]),
    "paired arrays": (np.array([0, 1, 1]), np.array([4, 4, 0])),
    "slice and list": (slice(None), [0, 0, 3]),
    "slice and negative list": (slice(1, None), [-1, 0, -1], 2),
    "bool mask": np.array([True, False, True, True]),
    "bool mask last axis": (Ellipsis, np.array([True, False, True])),
    "full bool mask": "full mask",
    "int tensor": "int tensor",
    "bool tensor": "bool tensor",
}


def _index(name: str, x_np: np.ndarray):
    index = INDICES[name]
    if not isinstance(index, str):
        return index, index
    if index == "full mask":
        return x_np > 0, x_np > 0
    if index == "int tensor":
        return mg.tensor([0, 3, 3]), np.array([0, 3, 3])
    return mg.tensor(np.array([False, True, True, False])), np.array([False, True, True, False])


@pytest.mark.parametrize("name", list(INDICES))
def test_indexing(name, rng):
    x_np = rng.standard_normal(SHAPE)
    index, np_index = _index(name, x_np)
    out = assert_gradients_match(lambda x: x[index], [f64(x_np)])
    assert_forward(out, x_np[np_index], "float64")


@pytest.mark.parametrize("index", [[0, 0, 1], [2, 2, 2, 0], np.array([1, 1]), (Ellipsis, [0, 0])])
def test_repeated_indices_accumulate(index):
    x = mg.tensor(np.arange(12.0).reshape(3, 4), dtype="float64", requires_grad=True)
    out = x[index]
    g = np.arange(1.0, out.size + 1).reshape(out.shape)
    (out * mg.tensor(g, dtype="float64")).sum().backward()
    expected = np.zeros((3, 4))
    np.add.at(expected, index if not isinstance(index, list) else np.array(index), g)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    if isinstance(index, list) and index == [0, 0, 1]:
        np.testing.assert_array_equal(x.grad.numpy()[0], g[0] + g[1])


@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_basic_indices_property(data, shape):
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x[index], [f64(x_np)])
    assert_forward(out, x_np[index], "float64")


@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_integer_array_indices_property(data, shape):
    index = data.draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2,
                                                                                       max_side=4)))
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x[index], [f64(x_np)])
    assert_forward(out, x_np[index], "float64")


def test_index_out_of_range_is_one_line():
    with pytest.raises(IndexError, match=r"for a tensor of shape \(4,\)"):
        mg.ones(4)[7]


# ----------------------------------------------------------------------------- joining and padding

@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
       n_parts=st.integers(1, 3))
def test_concatenate(data, shape, n_parts):
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim, ndim - 1))
    parts_np = []
    for _ in range(n_parts):
        part_shape = list(shape)
        part_shape[axis] = data.draw(st.integers(1, 3))
        parts_np.append(values(data, tuple(part_shape)))
    out = assert_gradients_match(lambda *ps: mg.concatenate(list(ps), axis=axis), [f64(p) for p in parts_np])
    assert_forward(out, np.concatenate(parts_np, axis=axis), "float64")


@GRAD_SETTINGS
@given(data=st.data(), shape=shapes, n_parts=st.integers(1, 3))
def test_stack(data, shape, n_parts):
    ndim = len(shape)
    axis = data.draw(st.integers(-(ndim + 1), ndim))
    parts_np = [values(data, shape) for _ in range(n_parts)]
    out = assert_gradients_match(lambda *ps: mg.stack(ps, axis=axis), [f64(p) for p in parts_np])
    assert_forward(out, np.stack(parts_np, axis=axis), "float64")


def test_concatenate_and_stack_errors():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(2, 4\) differ outside axis 0"):
        mg.concatenate([mg.ones(2, 3), mg.ones(2, 4)])
    with pytest.raises(ValueError, match="needs at least one tensor"):
        mg.concatenate([])
    with pytest.raises(ValueError, match="all tensors need one shape"):
        mg.stack([mg.ones(2), mg.ones(3)])


def test_concatenate_with_a_constant_part(rng):
    a = f64(rng.standard_normal((2, 3)))
    b = f64(rng.standard_normal((1, 3)), requires_grad=False)
    out = assert_gradients_match(lambda a: mg.concatenate([b, a, b]), [a])
    assert out.shape == (4, 3)


@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
       value=st.floats(-2, 2))
def test_pad(data, shape, value):
    widths = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in shape)
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: mg.pad(x, widths, value), [f64(x_np)])
    assert_forward(out, np.pad(x_np, widths, constant_values=value), "float64")
    out = assert_gradients_match(lambda x: x.pad(1), [f64(x_np)])
    assert_forward(out, np.pad(x_np, 1), "float64")


def test_pad_error():
    with pytest.raises(ValueError, match="pad_width must give"):
        mg.pad(mg.ones(2, 2), ((1, 1),))
    with pytest.raises(ValueError, match="pad_width must give"):
        mg.pad(mg.ones(2), ((-1, 1),))


# ----------------------------------------------------------------------------- casts

@GRAD_SETTINGS
@given(data=st.data(), shape=shapes)
def test_astype_float64_identity_gradcheck(data, shape):
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.astype("float64") * 2, [f64(x_np)])
    assert_forward(out, 2 * x_np, "float64")
    out = assert_gradients_match(lambda x: x.double(), [f64(x_np)])
    assert_forward(out, x_np, "float64")


def test_cast_between_float_dtypes_sends_the_gradient_back_in_the_input_dtype(rng):
    x32 = mg.tensor(rng.standard_normal((2, 3)), dtype="float32", requires_grad=True)
    g = rng.standard_normal((2, 3))
    y = x32.astype(mg.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * f64(g, requires_grad=False)).sum().backward()
    assert x32.grad.dtype == np.float32
    np.testing.assert_array_equal(x32.grad.numpy(), g.astype(np.float32))

    x64 = f64(rng.standard_normal(3))
    z = x64.float()
    assert z.dtype == np.float32
    (z * 3).sum().backward()
    assert x64.grad.dtype == np.float64
    np.testing.assert_allclose(x64.grad.numpy(), 3.0)


def test_cast_to_integer_leaves_the_graph():
    x = mg.tensor([1.7, -2.2], requires_grad=True)
    n = x.long()
    assert n.dtype == np.int64 and not n.requires_grad
    np.testing.assert_array_equal(n.numpy(), [1, -2])
    with pytest.raises(TypeError, match="dtype must be one of"):
        x.astype("complex64")


# ----------------------------------------------------------------------------- float32 stays float32

class Probe(Function):
    """Identity that records the dtype of the gradient reaching it (what the next op sent back)."""

    seen: ClassVar[list[np.dtype]] = []

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        Probe.seen.append(grad.dtype)
        return grad


def _positive32(shape, seed):
    return mg.tensor(np.random.default_rng(seed).uniform(0.5, 2.0, shape), dtype="float32", requires_grad=True)


F32_OPS = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x**y, "neg": lambda x, y: -x,
    "add float": lambda x, y: x + 2.5, "radd float": lambda x, y: 2.5 + x,
    "rsub int": lambda x, y: 3 - x, "mul np.float64": lambda x, y: x * np.float64(2),
    "rmul np.float64": lambda x, y: np.float64(2) * x, "div np.float64": lambda x, y: x / np.float64(3),
    "rdiv np.float64": lambda x, y: np.float64(3) / x, "sub np.float32": lambda x, y: x - np.float32(1),
    "rsub np.float64": lambda x, y: np.float64(1) - x, "add np.int64": lambda x, y: x + np.int64(2),
    "pow float": lambda x, y: x**2.5, "pow int": lambda x, y: x**2, "pow np.float64": lambda x, y: x ** np.float64(2),
    "rpow float": lambda x, y: 2.0**x, "rpow np.float64": lambda x, y: np.float64(2) ** x,
    "matmul": lambda x, y: x @ y.T, "matmul vec": lambda x, y: x[0] @ y[0],
    "sum": lambda x, y: x.sum(axis=1), "mean": lambda x, y: x.mean(), "max": lambda x, y: x.max(axis=0),
    "min": lambda x, y: x.min(), "var": lambda x, y: x.var(axis=1, ddof=1), "std": lambda x, y: x.std(),
    "exp": lambda x, y: x.exp(), "log": lambda x, y: x.log(), "sqrt": lambda x, y: x.sqrt(),
    "abs": lambda x, y: x.abs(), "tanh": lambda x, y: x.tanh(), "sigmoid": lambda x, y: x.sigmoid(),
    "maximum": lambda x, y: mg.maximum(x, y), "minimum": lambda x, y: mg.minimum(x, y),
    "maximum np.float64": lambda x, y: mg.maximum(x, np.float64(1.0)),
    "minimum float": lambda x, y: x.minimum(1.0),
    "where": lambda x, y: mg.where(x > y, x, y),
    "where np.float64": lambda x, y: mg.where(x > 1, x, np.float64(0.0)),
    "clip": lambda x, y: x.clip(0.8, 1.5), "clip np.float64": lambda x, y: x.clip(np.float64(0.8), np.float64(1.5)),
    "reshape": lambda x, y: x.reshape(-1), "transpose": lambda x, y: x.T, "permute": lambda x, y: x.permute(1, 0),
    "flatten": lambda x, y: x.flatten(), "squeeze": lambda x, y: x[None].squeeze(0),
    "unsqueeze": lambda x, y: x.unsqueeze(1), "broadcast_to": lambda x, y: x.broadcast_to(4, 2, 3),
    "getitem slice": lambda x, y: x[:, ::-1], "getitem list": lambda x, y: x[[0, 0, 1]],
    "getitem mask": lambda x, y: x[x > 1], "concatenate": lambda x, y: mg.concatenate([x, y], axis=1),
    "stack": lambda x, y: mg.stack([x, y]), "pad": lambda x, y: mg.pad(x, 1, value=np.float64(0.5)),
    "astype float32": lambda x, y: x.astype("float32"), "float": lambda x, y: x.float(),
    "to cpu": lambda x, y: x.to("cpu"),
}


@pytest.mark.parametrize("name", list(F32_OPS))
def test_float32_in_float32_out_forward_and_backward(name):
    x, y = _positive32((2, 3), 0), _positive32((2, 3), 1)
    Probe.seen.clear()
    out = F32_OPS[name](Probe.apply(x), Probe.apply(y))
    assert out.dtype == np.float32, f"{name}: float32 inputs gave a {out.dtype} output"
    assert out.requires_grad
    out.backward(mg.ones_like(out))
    assert Probe.seen, f"{name}: no gradient reached the inputs"
    assert all(d == np.float32 for d in Probe.seen), f"{name}: gradients reached the inputs as {Probe.seen}"
    assert x.grad is not None and x.grad.dtype == np.float32
