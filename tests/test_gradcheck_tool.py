"""``minigrad.testing.gradcheck``: passes every reference kernel, catches a planted wrong backward of each.

The planted bugs are the ones students write: a kernel flipped in dW, a missing 1/N, a ReLU mask left
out, a max-pool gradient spread over the whole window, an average pool that forgets to divide.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import GRAD_SETTINGS
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import GradcheckError, fake_cuda, gradcheck
from solutions import conv, pooling, relu, softmax_ce


def _inputs(rng):
    return {
        "relu": ((relu.relu_forward, relu.relu_backward), (rng.standard_normal((2, 3, 4)),), {}),
        "conv2d": ((conv.conv2d_forward, conv.conv2d_backward),
                   (rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)),
                   {"stride": (2, 1), "padding": "same", "dilation": (1, 2), "groups": 2}),
        "conv1d": ((conv.conv1d_forward, conv.conv1d_backward),
                   (rng.standard_normal((2, 3, 9)), rng.standard_normal((4, 3, 3)), rng.standard_normal(4)),
                   {"stride": 2, "padding": 1}),
        "maxpool2d": ((pooling.maxpool2d_forward, pooling.maxpool2d_backward), (rng.standard_normal((2, 2, 5, 6)),),
                      {"kernel_size": 3, "stride": 2, "padding": 1}),
        "avgpool2d": ((pooling.avgpool2d_forward, pooling.avgpool2d_backward), (rng.standard_normal((2, 2, 5, 6)),),
                      {"kernel_size": 2, "stride": 1}),
        "softmax_ce": ((softmax_ce.softmax_cross_entropy_forward, softmax_ce.softmax_cross_entropy_backward),
                       (rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])), {}),
    }


def _spread_over_the_window(inputs, options):
    """A max pool backward that spreads each window's gradient evenly over it instead of sending it to the max."""
    _, even = pooling.avgpool2d_forward(inputs[0], **options)
    return lambda dout, cache: 9 * pooling.avgpool2d_backward(dout, even)


PLANTED = {  # name -> (inputs, options) -> a wrong backward, built on the right one
    "relu": lambda inputs, options: lambda dout, cache: dout,  # the mask x > 0 left out
    "conv2d": lambda inputs, options: lambda dout, cache: (lambda dx, dw, db: (dx, dw[..., ::-1, ::-1], db))(
        *conv.conv2d_backward(dout, cache)),  # dW with the kernel flipped (a true convolution)
    "conv1d": lambda inputs, options: lambda dout, cache: (lambda dx, dw, db: (dx, dw, 2 * db))(
        *conv.conv1d_backward(dout, cache)),  # db counted twice
    "maxpool2d": _spread_over_the_window,
    "avgpool2d": lambda inputs, options: lambda dout, cache: 4 * pooling.avgpool2d_backward(dout, cache),  # no ÷ KH·KW
    "softmax_ce": lambda inputs, options: lambda dout, cache: 5 * softmax_ce.softmax_cross_entropy_backward(
        dout, cache),  # the 1/N left out (N = 5)
}


@pytest.fixture
def kernels(rng):
    return _inputs(rng)


@pytest.mark.parametrize("name", ["relu", "conv2d", "conv1d", "maxpool2d", "avgpool2d", "softmax_ce"])
def test_the_reference_kernels_pass(kernels, name):
    pair, inputs, options = kernels[name]
    result = gradcheck(pair, *inputs, **options)
    floats = [a for a in inputs if a.dtype.kind == "f"]
    assert result.ok and len(result.inputs) == len(floats)
    assert all(check.abs_error < 1e-7 for check in result.inputs)


@pytest.mark.parametrize("name", ["relu", "conv2d", "conv1d", "maxpool2d", "avgpool2d", "softmax_ce"])
def test_a_planted_wrong_backward_of_each_kernel_is_caught(kernels, name):
    (forward, _), inputs, options = kernels[name]
    wrong = PLANTED[name](inputs, options)
    with pytest.raises(GradcheckError, match="gradients are WRONG") as caught:
        gradcheck((forward, wrong), *inputs, **options)
    bad = {"conv2d": "w", "conv1d": "b", "softmax_ce": "logits"}.get(name, "x")
    assert f"\n  {bad} (" in str(caught.value) and "WRONG, worst at [" in str(caught.value)
    result = gradcheck((forward, wrong), *inputs, raise_exception=False, **options)
    assert not result and [c.name for c in result.inputs if not c.ok] == [bad]


def test_the_worst_element_is_the_one_planted(rng):
    x = rng.standard_normal((2, 3, 4))

    def off_by_one_element(dout, cache):
        dx = relu.relu_backward(dout, cache)
        dx[1, 2, 3] += 0.5
        return dx

    result = gradcheck((relu.relu_forward, off_by_one_element), x, raise_exception=False)
    (check,) = result.inputs
    assert check.worst_index == (1, 2, 3) and check.abs_error == pytest.approx(0.5, abs=1e-6)
    assert check.analytic - check.numeric == pytest.approx(0.5, abs=1e-6)
    assert "worst at [1, 2, 3]" in str(result)


class Cube(mg.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return ctx.scale * 3 * x ** 2 * grad, None


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return ctx.scale * 3 * x * grad, None  # x, not x²


def test_a_function_and_a_function_of_tensors(rng):
    x = mg.tensor(rng.standard_normal((3, 4)), dtype="float32", requires_grad=True)  # checked on a float64 copy
    assert gradcheck(Cube, x, 2.0).inputs[0].name == "x"
    with pytest.raises(GradcheckError, match=r"gradcheck WrongCube: gradients are WRONG"):
        gradcheck(WrongCube, x, 2.0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    assert [c.name for c in gradcheck(lambda a, b: (a @ b).tanh().sum(dim=1), a, b).inputs] == ["a", "b"]
    assert x.grad is None and x.dtype == np.float32  # the caller's tensor is left as it was


def test_a_float64_tensor_is_perturbed_in_place_so_closures_see_it(rng):
    layer = mg.nn.Linear(3, 2).double()
    x = mg.tensor(rng.standard_normal((4, 3)), dtype="float64", requires_grad=True)
    layer.weight.grad = mg.ones(2, 3, dtype="float64")
    before = layer.weight.numpy()
    result = gradcheck(lambda x, w: layer(x), x, layer.weight)  # layer reads its own weight
    assert result.ok and [c.name for c in result.inputs] == ["x", "w"]
    np.testing.assert_array_equal(layer.weight.numpy(), before)  # restored exactly
    np.testing.assert_array_equal(layer.weight.grad.numpy(), np.ones((2, 3)))  # its .grad kept


def test_kernel_rules_are_reported(rng):
    x = rng.standard_normal((2, 3))

    def in_place(x):
        x *= 2
        return x, None

    def float32(x):
        return x.astype(np.float32), None

    result = gradcheck((in_place, lambda d, c: d), x, raise_exception=False)
    assert "changed their input x in place" in result.problem and not result
    result = gradcheck((float32, lambda d, c: d), x, raise_exception=False)
    assert "gave a float32 output" in result.problem
    result = gradcheck((relu.relu_forward, lambda d, c: (d, d)), x, raise_exception=False)
    assert "2 gradient(s) for the 1 float input(s) x" in result.problem
    result = gradcheck((relu.relu_forward, lambda d, c: d[:1]), x, raise_exception=False)
    assert "its gradient has shape (1, 3), not the input's (2, 3)" in str(result)


@pytest.mark.parametrize("fn, inputs, kwargs, error, text", [
    ("conv", (np.zeros(2),), {}, TypeError, "fn must be a (forward, backward) pair"),
    ((conv.conv2d_forward,), (np.zeros(2),), {}, TypeError, "a kernel pair is a tuple (forward, backward)"),
    (Cube, (np.zeros(2), 1.0), {"eps": 0.0}, ValueError, "eps must be a positive float"),
])
def test_bad_arguments_are_one_line_errors(fn, inputs, kwargs, error, text):
    with pytest.raises(error) as caught:
        gradcheck(fn, *inputs, **kwargs)
    assert text in str(caught.value) and "\n" not in str(caught.value)


def test_on_the_gpu_code_path(rng):
    with fake_cuda() as cp:
        x, w = cp.asarray(rng.standard_normal((1, 2, 4, 4))), cp.asarray(rng.standard_normal((3, 2, 3, 3)))
        assert gradcheck((conv.conv2d_forward, conv.conv2d_backward), x, w, padding=1)
        assert gradcheck(Cube, mg.tensor(rng.standard_normal(3), device="cuda", requires_grad=True), 1.0)


@GRAD_SETTINGS
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(3, 6), w=st.integers(3, 6),
       k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 1), seed=st.integers(0, 2**16))
def test_the_reference_convolution_passes_for_all_small_shapes(n, c, h, w, k, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x, weight = rng.standard_normal((n, c, h, w)), rng.standard_normal((2, c, k, k))
    assert gradcheck((conv.conv2d_forward, conv.conv2d_backward), x, weight, rng.standard_normal(2),
                     stride=stride, padding=padding)
