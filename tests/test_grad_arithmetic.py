"""Float64 gradient checks over whole tensors: arithmetic with broadcasting, and matmul."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import (
    GRAD_SETTINGS,
    assert_forward,
    assert_gradients_match,
    f64,
    shapes,
    two_broadcastable,
    values,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

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
