"""Autograd around backward: grad modes, in-place safety, leaves, devices, custom Functions, memory."""

from __future__ import annotations

import gc
import weakref
from typing import ClassVar

import numpy as np
import pytest
from gradcheck import assert_gradients_match, f64

import minigrad as mg
from minigrad.autograd import Context, Function

# ----------------------------------------------------------------------------- grad modes


def test_no_grad_context_manager():
    x = mg.ones(3, requires_grad=True)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert (x * 2).requires_grad


def test_no_grad_decorator_and_wraps():
    @mg.no_grad()
    def double(t):
        """Doc."""
        assert not mg.is_grad_enabled()
        return t * 2

    x = mg.ones(3, requires_grad=True)
    assert not double(x).requires_grad
    assert mg.is_grad_enabled()
    assert double.__name__ == "double" and double.__doc__ == "Doc."
    assert double(double(x)).shape == (3,)  # re-entrant


def test_no_grad_nested_and_restored_after_exceptions():
    with mg.no_grad():
        with mg.no_grad():
            assert not mg.is_grad_enabled()
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()

    with pytest.raises(KeyError), mg.no_grad():
        raise KeyError("boom")
    assert mg.is_grad_enabled()

    @mg.no_grad()
    def fails():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        fails()
    assert mg.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = mg.ones(3, requires_grad=True)
    with mg.no_grad():
        with mg.enable_grad():
            assert mg.is_grad_enabled()
            y = x * 2
        z = x * 2
        assert not mg.is_grad_enabled()
    assert y.requires_grad and not z.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])

    @mg.enable_grad()
    def grad_on():
        return mg.is_grad_enabled()

    with mg.no_grad():
        assert grad_on()
        assert not mg.is_grad_enabled()


def test_set_grad_enabled_as_context_and_decorator():
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
        with mg.set_grad_enabled(True):
            assert mg.is_grad_enabled()
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()

    @mg.set_grad_enabled(False)
    def off():
        return mg.is_grad_enabled()

    assert off() is False and mg.is_grad_enabled()


# ----------------------------------------------------------------------------- in-place safety


def test_in_place_on_a_leaf_requiring_grad_is_refused():
    x = mg.ones(3, requires_grad=True)
    for change in (lambda: x.__iadd__(1), lambda: x.__imul__(2), lambda: x.__setitem__(0, 5.0),
                   lambda: x.fill_(0.0), lambda: x.zero_(), lambda: x.copy_(np.zeros(3))):
        with pytest.raises(RuntimeError, match="in-place change of a leaf tensor that requires grad"):
            change()
    np.testing.assert_array_equal(x.numpy(), [1, 1, 1])
    assert x._version == 0


def test_in_place_on_a_leaf_is_allowed_under_no_grad():
    x = mg.ones(3, requires_grad=True)
    with mg.no_grad():
        x += 1
        x *= 3
        x[0] = 0.0
        x -= 1
        x /= 2
    np.testing.assert_array_equal(x.numpy(), [-0.5, 2.5, 2.5])
    assert x._version == 5 and x.requires_grad and x.dtype == np.float32


def test_in_place_on_a_tensor_needed_for_backward_is_refused_until_backward_ran():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    t = y * y  # Mul saved y
    with pytest.raises(RuntimeError, match="needed by Mul for backward"):
        y += 1
    with pytest.raises(RuntimeError, match="needed by Mul"), mg.no_grad():
        y[0] = 7.0
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])
    t.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())
    y += 1  # the graph is gone: allowed now
    np.testing.assert_array_equal(y.numpy(), [3.0, 5.0])


def test_in_place_on_a_constant_input_needed_for_backward_is_refused():
    x = mg.ones(3, requires_grad=True)
    w = mg.tensor([1.0, 2.0, 3.0])
    loss = (x * w).sum()
    with pytest.raises(RuntimeError, match="needed by Mul"):
        w[1] = 0.0
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 3])
    w[1] = 0.0


def test_in_place_on_an_intermediate_result_is_refused_while_its_graph_lives():
    # y *= 3 would leave the graph thinking y = 2x: a silently wrong gradient
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="computed by Mul whose graph is still alive"):
        y *= 3
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_a_change_behind_autograd_s_back_is_caught_at_backward():
    lin = mg.nn.Linear(3, 2)
    out = lin(mg.ones(4, 3)).sum()
    lin.load_state_dict(lin.state_dict())  # replaces the weights the graph saved
    with pytest.raises(RuntimeError, match="changed in place after it was used"):
        out.backward()


# ----------------------------------------------------------------------------- leaves, detach, retain_grad


def test_detach_shares_data_and_stops_gradients():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.grad is None
    assert np.shares_memory(d.data, x.data)
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), x.numpy())  # d is a constant: not 2x


def test_retain_grad_on_an_intermediate():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = x * 4
    y.retain_grad()
    (y * y + z).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * y.numpy())
    assert z.grad is None
    np.testing.assert_allclose(x.grad.numpy(), 18 * x.numpy() + 4)


def test_requires_grad_only_on_float_tensors():
    with pytest.raises(TypeError, match="only float tensors can require grad; this one is int64"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="bool"):
        mg.tensor([True, False]).requires_grad_()
    with pytest.raises(TypeError, match="int64"):
        mg.arange(3).requires_grad_(True)
    assert mg.tensor([1.0]).requires_grad_().requires_grad


def test_requires_grad_cannot_be_switched_off_on_a_non_leaf():
    y = mg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only be switched off on a leaf"):
        y.requires_grad_(False)


@pytest.mark.parametrize("fn, dtype", [
    (lambda x: x > 0, np.bool_), (lambda x: x >= 0, np.bool_), (lambda x: x < 0, np.bool_),
    (lambda x: x <= 0, np.bool_), (lambda x: x == x, np.bool_), (lambda x: x != 0, np.bool_),
    (lambda x: x.argmax(), np.int64), (lambda x: x.argmin(axis=1), np.int64),
    (lambda x: mg.argmax(x, axis=-1, keepdims=True), np.int64), (lambda x: x.long(), np.int64),
    (lambda x: x.astype("int32"), np.int32), (lambda x: x.astype(bool), np.bool_),
])
def test_comparisons_and_arg_reductions_do_not_record(fn, dtype):
    x = mg.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
    out = fn(x)
    assert out.dtype == dtype
    assert not out.requires_grad and out.is_leaf


def test_argmax_argmin_values_and_first_tie():
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]])
    assert x.argmax().item() == 1
    np.testing.assert_array_equal(x.argmax(axis=1).numpy(), [1, 0])
    np.testing.assert_array_equal(x.argmin(axis=-1).numpy(), [0, 1])
    assert mg.argmin(x).item() == 4


# ----------------------------------------------------------------------------- devices


def test_mixing_devices_is_a_clear_error(cuda):
    gpu = mg.ones(2, 3, device="cuda")
    cpu = mg.ones(2, 3)
    assert gpu.device == "cuda" and cpu.device == "cpu"
    with pytest.raises(mg.DeviceError, match=r"Add: inputs are on 'cuda' and 'cpu'.*\.to\('cuda'\)"):
        gpu + cpu
    with pytest.raises(mg.DeviceError, match="MatMul: inputs are on 'cpu' and 'cuda'"):
        cpu @ gpu.T
    with pytest.raises(mg.DeviceError, match="Maximum"):
        mg.maximum(gpu, cpu)
    with pytest.raises(mg.DeviceError, match="Concatenate"):
        mg.concatenate([gpu, cpu])


def test_gradients_flow_back_across_a_device_move(cuda):
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to("cuda")
    assert y.device == "cuda" and y.requires_grad
    loss = (y * y).sum()
    assert loss.device == "cuda"
    loss.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    assert "device='cuda'" in repr(y)


# ----------------------------------------------------------------------------- custom Functions


class ScaledMul(Function):
    """out = a * b * scale, with a non-tensor ``scale`` and a keyword option."""

    calls: ClassVar[list[tuple[bool, ...]]] = []

    @staticmethod
    def forward(ctx: Context, a, b, scale, *, offset=0.0):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale + offset

    @staticmethod
    def backward(ctx: Context, grad):
        a, b = ctx.saved_arrays
        ScaledMul.calls.append(ctx.needs_input_grad)
        ga = grad * b * ctx.scale if ctx.needs_input_grad[0] else None
        gb = grad * a * ctx.scale if ctx.needs_input_grad[1] else None
        return ga, gb, None


def test_custom_function_end_to_end(rng):
    a_np, b_np = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    out = assert_gradients_match(lambda a, b: ScaledMul.apply(a, b, 2.5, offset=1.0), [f64(a_np), f64(b_np)])
    np.testing.assert_allclose(out.numpy(), a_np * b_np * 2.5 + 1.0)


def test_custom_function_needs_input_grad_and_constants():
    ScaledMul.calls.clear()
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0])  # a constant
    out = ScaledMul.apply(a, b, 2.0)
    assert out.requires_grad
    assert out._ctx.needs_input_grad == (True, False, False)
    out.sum().backward()
    assert ScaledMul.calls == [(True, False, False)]
    np.testing.assert_allclose(a.grad.numpy(), [6.0, 8.0])
    assert b.grad is None


def test_custom_function_records_nothing_without_grad():
    a, b = mg.ones(2), mg.ones(2)
    out = ScaledMul.apply(a, b, 3.0)
    assert not out.requires_grad and out._ctx is None
    np.testing.assert_array_equal(out.numpy(), [3.0, 3.0])
    with mg.no_grad():
        out = ScaledMul.apply(mg.ones(2, requires_grad=True), b, 3.0)
    assert not out.requires_grad and out._ctx is None


def test_custom_function_with_a_single_input_may_return_a_bare_array():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_arrays
            return 3 * x * x * grad

    assert_gradients_match(lambda x: Cube.apply(x), [f64([[1.0, -2.0], [0.5, 3.0]])])


def test_custom_function_backward_with_a_wrong_shape_is_a_clear_error():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum(axis=0)

        @staticmethod
        def backward(ctx, grad):
            return grad  # should have been broadcast back to x's shape

    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadShape.backward returned a gradient of shape \(3,\) "
                                           r"for an input of shape \(2, 3\)"):
        BadShape.apply(x).sum().backward()


def test_custom_function_backward_with_a_wrong_count_is_a_clear_error():
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match=r"TooMany.backward returned 2 gradients for 1 inputs"):
        TooMany.apply(mg.ones(2, requires_grad=True)).sum().backward()


def test_function_base_class_methods_are_abstract():
    with pytest.raises(NotImplementedError):
        Function.apply(mg.ones(2))


# ----------------------------------------------------------------------------- memory


def test_backward_releases_the_contexts_and_frees_intermediates():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 2
    b = a.exp()
    loss = (b * a).sum()
    ctx_refs = [weakref.ref(t._ctx) for t in (a, b, loss)]
    a_ref, b_ref = weakref.ref(a), weakref.ref(b)
    del a, b
    gc.collect()
    assert a_ref() is not None and b_ref() is not None  # the graph holds them
    loss.backward()
    gc.collect()
    assert a_ref() is None and b_ref() is None  # freed while `loss` is still alive
    assert loss._ctx.released
    assert loss._ctx.saved_arrays == () and loss._ctx.inputs == ()
    assert all(r() is None for r in ctx_refs[:2])


def test_released_contexts_of_kept_intermediates():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    z = (y * y).sum()
    ctx_ref = weakref.ref(y._ctx)
    assert not ctx_ref().released and ctx_ref().saved_arrays
    z.backward()
    ctx = ctx_ref()
    assert ctx is not None and ctx.released
    assert ctx.saved_arrays == () and ctx.inputs == ()


def test_retain_graph_keeps_the_contexts():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = y.sum()
    z.backward(retain_graph=True)
    assert not y._ctx.released and len(y._ctx.saved_arrays) == 1
    z.backward()
    assert y._ctx.released
