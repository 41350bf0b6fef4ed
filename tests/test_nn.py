"""Modules and layers: registration, state dicts, modes, dtypes, and the math of each layer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradcheck import assert_gradients_match, f64

import minigrad as mg
from minigrad import nn
from minigrad.kernels import KernelError, override_kernels
from minigrad.nn.normalization import batch_norm


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2)
        self.scale = nn.Parameter(mg.ones(1))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def snapshot(module: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in module.state_dict().items()}


def assert_same_state(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message, f"error message spans several lines: {message!r}"
    return message


# ----------------------------------------------------------------------------- registration


def test_named_parameters_in_registration_order():
    model = TwoLayer()
    assert [n for n, _ in model.named_parameters()] == ["scale", "fc1.weight", "fc1.bias", "fc2.weight",
                                                        "fc2.bias"]
    assert [p.shape for p in model.parameters()] == [(1,), (3, 4), (3,), (2, 3), (2,)]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert model.num_parameters() == 1 + 12 + 3 + 6 + 2


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias"]
    assert len(list(model.parameters())) == 2

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(mg.ones(2))
            self.b = self.a

    assert [n for n, _ in Tied().named_parameters()] == ["a"]


def test_children_and_modules():
    model = TwoLayer()
    assert [type(c).__name__ for c in model.children()] == ["Linear", "ReLU", "Linear"]
    assert [n for n, _ in model.named_children()] == ["fc1", "act", "fc2"]
    nested = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    assert [n for n, _ in nested.named_modules()] == ["", "0", "1", "1.0", "1.1"]
    assert len(list(nested.modules())) == 5
    assert [n for n, _ in nested.named_parameters()] == ["0.weight", "0.bias", "1.1.weight", "1.1.bias"]


def test_reassigning_and_deleting_attributes_updates_the_registry():
    model = TwoLayer()
    model.fc1 = nn.Linear(4, 3, bias=False)
    assert "fc1.bias" not in dict(model.named_parameters())
    model.act = "not a module"
    assert [n for n, _ in model.named_children()] == ["fc1", "fc2"]
    del model.scale
    assert "scale" not in dict(model.named_parameters())
    model.fc2 = None
    assert [n for n, _ in model.named_children()] == ["fc1"]


def test_forgetting_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(RuntimeError, match=r"Bad.__init__ must call super\(\).__init__\(\)"):
        Bad()


def test_buffers_are_in_the_state_dict_but_not_parameters():
    bn = nn.BatchNorm1d(3)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var"]
    bn.register_buffer("unused", None)
    assert "unused" not in bn.state_dict()


def test_assigning_a_tensor_to_a_buffer_keeps_it_a_buffer():
    bn = nn.BatchNorm1d(3)
    bn.running_mean = mg.full(3, fill_value=2.0)
    assert "running_mean" in bn.state_dict()
    np.testing.assert_array_equal(bn.state_dict()["running_mean"], [2.0, 2.0, 2.0])
    assert bn.double().running_mean.dtype == np.float64
    with pytest.raises(TypeError, match="cannot assign list to buffer 'running_var'"):
        bn.running_var = [1.0, 1.0, 1.0]


def test_train_and_eval_propagate():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model[1].eval()
    assert model.training and model[0].training and not model[1][0].training and not model[1][1].training


def test_zero_grad_and_requires_grad():
    model = TwoLayer()
    model(mg.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert model.num_parameters(trainable_only=True) == 0
    assert not model(mg.randn(5, 4)).requires_grad


def test_repr_is_readable_and_nested():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Dropout(0.25), nn.Linear(3, 2, bias=False)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.25)\n"
        "    (1): Linear(in_features=3, out_features=2, bias=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.BatchNorm2d(8)) == "BatchNorm2d(8, eps=1e-05, momentum=0.1)"


def test_sequential_and_module_list():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2] and list(seq) == layers
    x = mg.randn(4, 2)
    np.testing.assert_allclose(seq(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())
    with pytest.raises(TypeError, match="Sequential: item 1 is a int, expected a Module"):
        nn.Sequential(nn.ReLU(), 3)
    ml = nn.ModuleList([nn.Linear(2, 2)]).append(nn.Linear(2, 2))
    assert len(ml) == 2 and [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    with pytest.raises(TypeError, match="ModuleList: expected a Module"):
        ml.append("x")


def test_forward_must_be_defined():
    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="NoForward must define forward"):
        NoForward()(mg.ones(1))


# ----------------------------------------------------------------------------- state dicts


def test_state_dict_round_trip_into_a_fresh_model():
    mg.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    model(mg.randn(8, 4))  # move the running statistics away from their start
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias",
                           "1.running_mean", "1.running_var"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert state["0.weight"].shape == (5, 4) and state["0.weight"].dtype == np.float32

    mg.manual_seed(2)
    fresh = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    assert not np.array_equal(fresh.state_dict()["0.weight"], state["0.weight"])
    fresh.load_state_dict(state)
    assert_same_state(fresh.state_dict(), state)
    x = mg.randn(6, 4)
    model.eval()
    fresh.eval()
    np.testing.assert_array_equal(model(x).numpy(), fresh(x).numpy())


def test_state_dict_is_a_copy():
    lin = nn.Linear(2, 2)
    state = lin.state_dict()
    state["weight"][:] = 100.0
    assert not np.any(lin.weight.numpy() == 100.0)


def test_loaded_values_are_copied_and_keep_the_module_dtype():
    lin = nn.Linear(2, 2)
    source = {"weight": np.ones((2, 2), dtype=np.float64), "bias": mg.tensor([1.0, 2.0])}
    lin.load_state_dict(source)
    assert lin.weight.dtype == np.float32
    source["weight"][0, 0] = 5.0
    assert lin.weight.numpy()[0, 0] == 1.0
    np.testing.assert_array_equal(lin.bias.numpy(), [1.0, 2.0])


@pytest.mark.parametrize("change, error, pattern", [
    (lambda s: s.pop("fc2.bias"), KeyError, r"load_state_dict: missing keys \['fc2.bias'\]"),
    (lambda s: s.update(extra=np.zeros(2)), KeyError, r"load_state_dict: unexpected keys \['extra'\]"),
    (lambda s: s.update({"fc2.bias": np.zeros(3)}), ValueError,
     r"load_state_dict: fc2.bias has shape \(3,\), this module expects \(2,\)"),
    (lambda s: s.update({"fc2.weight": np.zeros((3, 2))}), ValueError, r"fc2.weight has shape \(3, 2\)"),
    (lambda s: s.update({"fc2.bias": np.array(["a", "b"])}), TypeError, r"fc2.bias holds <U1 values"),
])
def test_load_state_dict_errors_change_nothing(change, error, pattern):
    model = TwoLayer()
    before = snapshot(model)
    state = {k: v + 1.0 for k, v in model.state_dict().items()}  # every value differs from the model's
    change(state)
    with pytest.raises(error, match=pattern) as err:
        model.load_state_dict(state)
    one_line(err)
    assert_same_state(model.state_dict(), before)


def test_load_state_dict_non_strict_loads_what_fits():
    model = TwoLayer()
    before = snapshot(model)
    model.load_state_dict({"fc1.bias": np.array([7.0, 8.0, 9.0]), "other": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(model.fc1.bias.numpy(), [7.0, 8.0, 9.0])
    np.testing.assert_array_equal(model.fc1.weight.numpy(), before["fc1.weight"])


# ----------------------------------------------------------------------------- dtypes and devices


def test_double_float_and_to_cpu():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model(mg.randn(5, 3)).sum().backward()
    assert model.double() is model
    for tensor in [*model.parameters(), *model.buffers()]:
        assert tensor.dtype == np.float64
    assert all(p.grad.dtype == np.float64 for p in model.parameters())
    out = model(mg.randn(5, 3, dtype="float64"))
    assert out.dtype == np.float64
    model.float()
    assert all(t.dtype == np.float32 for t in [*model.parameters(), *model.buffers()])
    before = snapshot(model)
    assert model.to("cpu") is model
    assert_same_state(model.state_dict(), before)
    assert all(t.device == "cpu" for t in model.parameters())
    with pytest.raises(mg.DeviceError, match="device must be"):
        model.to("tpu")


# ----------------------------------------------------------------------------- Linear, Flatten


def test_linear_shapes_parameters_and_math(rng):
    lin = nn.Linear(5, 3)
    assert lin.weight.shape == (3, 5) and lin.bias.shape == (3,)
    assert lin.num_parameters() == 5 * 3 + 3
    bound = 1 / math.sqrt(5)
    assert np.all(np.abs(lin.weight.numpy()) <= bound) and np.all(np.abs(lin.bias.numpy()) <= bound)
    x_np = rng.standard_normal((7, 5)).astype(np.float32)
    out = lin(mg.tensor(x_np))
    assert out.shape == (7, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), x_np @ lin.weight.numpy().T + lin.bias.numpy(), rtol=1e-5, atol=1e-6)
    assert lin(mg.randn(2, 4, 5)).shape == (2, 4, 3)
    assert lin(mg.randn(5)).shape == (3,)


def test_linear_without_bias():
    lin = nn.Linear(4, 2, bias=False)
    assert lin.bias is None and lin.num_parameters() == 8
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    assert list(lin.state_dict()) == ["weight"]
    x = mg.randn(3, 4)
    np.testing.assert_allclose(lin(x).numpy(), x.numpy() @ lin.weight.numpy().T, rtol=1e-6)


def test_linear_gradients(rng):
    lin = nn.Linear(4, 3).double()
    x = f64(rng.standard_normal((5, 4)))
    assert_gradients_match(lambda x, w, b: mg.nn.functional.linear(x, w, b), [x, lin.weight, lin.bias])


def test_linear_errors():
    with pytest.raises(ValueError, match="Linear: in_features must be a positive int, got 0"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match="out_features must be a positive int"):
        nn.Linear(2, 2.5)
    with pytest.raises(ValueError, match=r"linear: input has 3 features, the layer expects 4"):
        nn.Linear(4, 2)(mg.ones(2, 3))


def test_linear_float64():
    lin = nn.Linear(2, 2, dtype="float64")
    assert lin.weight.dtype == np.float64 and lin.bias.dtype == np.float64


def test_flatten(rng):
    x = f64(rng.standard_normal((2, 3, 4, 5)))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    np.testing.assert_array_equal(nn.Flatten()(x).numpy(), x.numpy().reshape(2, -1))
    assert_gradients_match(lambda x: nn.Flatten()(x), [x])


def test_identity():
    x = mg.ones(2)
    assert nn.Identity()(x) is x


# ----------------------------------------------------------------------------- Dropout


def test_dropout_in_training_zeroes_about_p_and_scales_the_rest():
    p = 0.3
    x = mg.ones(200, 100)
    out = nn.Dropout(p)(x).numpy()
    zeros = np.mean(out == 0)
    assert abs(zeros - p) < 0.02
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.03  # unbiased in expectation
    assert out.dtype == np.float32


def test_dropout_gradient_is_the_same_mask():
    x = mg.ones(50, 40, requires_grad=True)
    out = nn.Dropout(0.5)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())


def test_dropout_in_eval_and_with_p_zero_is_the_identity():
    x = mg.randn(10, 10)
    drop = nn.Dropout(0.5).eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert mg.nn.functional.dropout(x, 0.9, training=False) is x


def test_dropout_is_reproducible_with_manual_seed():
    x = mg.ones(20, 20)
    mg.manual_seed(3)
    a = nn.Dropout(0.5)(x).numpy()
    b = nn.Dropout(0.5)(x).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).numpy(), a)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\)"):
        nn.Dropout(p)


# ----------------------------------------------------------------------------- BatchNorm


@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (16, 3)), (nn.BatchNorm1d, (8, 3, 5)),
                                        (nn.BatchNorm2d, (4, 3, 5, 6))])
def test_batchnorm_training_normalises_each_channel(cls, shape, rng):
    x_np = rng.standard_normal(shape) * np.array([1.0, 5.0, 0.1]).reshape((1, 3) + (1,) * (len(shape) - 2)) + 3
    bn = cls(3)
    out = bn(mg.tensor(x_np, dtype="float32"))
    assert out.shape == shape and out.dtype == np.float32
    axes = (0, *range(2, len(shape)))
    np.testing.assert_allclose(out.numpy().mean(axis=axes), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.numpy().var(axis=axes), 1.0, rtol=1e-3)


def test_batchnorm_affine_parameters_shift_and_scale(rng):
    bn = nn.BatchNorm1d(2)
    with mg.no_grad():
        bn.weight.copy_(np.array([2.0, 3.0]))
        bn.bias.copy_(np.array([-1.0, 1.0]))
    out = bn(mg.tensor(rng.standard_normal((32, 2)))).numpy()
    np.testing.assert_allclose(out.mean(axis=0), [-1.0, 1.0], atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), [2.0, 3.0], rtol=1e-3)


def test_batchnorm_running_statistics_use_momentum_and_the_unbiased_variance(rng):
    bn = nn.BatchNorm2d(2, momentum=0.25)
    batches = [rng.standard_normal((4, 2, 3, 3)) * 2 + 1 for _ in range(3)]
    mean, var = np.zeros(2), np.ones(2)
    for b in batches:
        bn(mg.tensor(b, dtype="float64"))
        mean = 0.75 * mean + 0.25 * b.mean(axis=(0, 2, 3))
        var = 0.75 * var + 0.25 * b.var(axis=(0, 2, 3), ddof=1)
        np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-5)
        np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-5)
    assert bn.running_mean.dtype == np.float32 and not bn.running_mean.requires_grad


def test_batchnorm_eval_uses_the_running_statistics(rng):
    bn = nn.BatchNorm1d(3, eps=1e-3)
    bn.load_state_dict({"weight": np.array([1.0, 2.0, 0.5]), "bias": np.array([0.0, 1.0, -1.0]),
                        "running_mean": np.array([0.5, -1.0, 2.0]), "running_var": np.array([4.0, 0.25, 1.0])})
    bn.eval()
    x_np = rng.standard_normal((5, 3))
    out = bn(mg.tensor(x_np, dtype="float64"))
    expected = (x_np - [0.5, -1.0, 2.0]) / np.sqrt(np.array([4.0, 0.25, 1.0]) + 1e-3) * [1.0, 2.0, 0.5] \
        + [0.0, 1.0, -1.0]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
    before = snapshot(bn)
    bn(mg.tensor(x_np * 10))
    assert_same_state(bn.state_dict(), before)  # eval never updates the running statistics
    assert bn(mg.ones(1, 3)).shape == (1, 3)  # one sample is fine in eval


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 2, 4)])
def test_batchnorm_training_backward_matches_central_differences(shape, rng):
    x = f64(rng.standard_normal(shape) * 2 + 1)
    gamma = f64(rng.uniform(0.5, 2.0, 3))
    beta = f64(rng.standard_normal(3))
    out = assert_gradients_match(lambda x, g, b: batch_norm(x, None, None, g, b, training=True), [x, gamma, beta])
    assert out._ctx.function.__name__ == "BatchNormTrain"  # the fused backward is what was checked


@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm2d, (3, 3, 2, 4))])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_module_gradients(cls, shape, training, rng):
    bn = cls(3).double()
    with mg.no_grad():
        bn.weight.copy_(rng.uniform(0.5, 2.0, 3))
        bn.bias.copy_(rng.standard_normal(3))
        bn.running_var.copy_(rng.uniform(0.5, 2.0, 3))
    bn.train(training)
    x = f64(rng.standard_normal(shape))
    assert_gradients_match(lambda x, w, b: bn(x), [x, bn.weight, bn.bias])


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input of 4 dims with 3 channels"):
        nn.BatchNorm2d(3)(mg.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*got \(2, 4\)"):
        nn.BatchNorm1d(3)(mg.ones(2, 4))
    with pytest.raises(ValueError, match="training needs more than one value per channel"):
        nn.BatchNorm1d(3)(mg.ones(1, 3))
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        nn.BatchNorm1d(0)


# ----------------------------------------------------------------------------- pooling, activations, losses


def test_global_avg_pool(rng):
    x = f64(rng.standard_normal((2, 3, 4, 5)))
    out = nn.GlobalAvgPool2d()(x)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.numpy(), x.numpy().mean(axis=(2, 3)))
    assert_gradients_match(lambda x: nn.GlobalAvgPool2d()(x), [x])
    with pytest.raises(ValueError, match=r"GlobalAvgPool2d: expected \(N, C, H, W\) input, got shape \(2, 3\)"):
        nn.GlobalAvgPool2d()(mg.ones(2, 3))


def test_relu_layer_values_and_gradient():
    x = mg.tensor([[-1.0, 0.0, 2.0], [3.0, -4.0, 0.5]], requires_grad=True)
    out = nn.ReLU()(x)
    np.testing.assert_array_equal(out.numpy(), [[0, 0, 2], [3, 0, 0.5]])
    assert out.dtype == np.float32
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 1], [1, 0, 1]])


def test_relu_layer_calls_the_active_kernels():
    import solutions.relu as ref

    calls = []

    def spy_forward(x):
        calls.append(("forward", x.shape))
        return ref.relu_forward(x)

    def spy_backward(dout, cache):
        calls.append(("backward", dout.shape))
        return ref.relu_backward(dout, cache)

    x = mg.tensor([[-1.0, 2.0]], requires_grad=True)
    with override_kernels(relu_forward=spy_forward, relu_backward=spy_backward):
        nn.ReLU()(x).sum().backward()
    assert calls == [("forward", (1, 2)), ("backward", (1, 2))]
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0]])

    # the layer's result really is the kernel's: a different kernel changes it
    def doubling(x):
        return x * 2, None

    with override_kernels(relu_forward=doubling):
        np.testing.assert_array_equal(nn.ReLU()(mg.tensor([-1.0, 2.0])).numpy(), [-2.0, 4.0])
    calls.clear()
    nn.ReLU()(mg.tensor([1.0]))
    assert calls == []  # the override ended with the block


def test_cross_entropy_layer_calls_the_active_kernels():
    import solutions.softmax_ce as ref

    calls = []

    def spy_forward(logits, labels):
        calls.append("forward")
        return ref.softmax_cross_entropy_forward(logits, labels)

    def spy_backward(dloss, cache):
        calls.append("backward")
        return ref.softmax_cross_entropy_backward(dloss, cache)

    logits = mg.randn(4, 3, requires_grad=True)
    with override_kernels(softmax_cross_entropy_forward=spy_forward, softmax_cross_entropy_backward=spy_backward):
        nn.CrossEntropyLoss()(logits, mg.tensor([0, 2, 1, 1])).backward()
    assert calls == ["forward", "backward"]
    assert logits.grad.shape == (4, 3)


def test_use_kernels_selects_the_source():
    mg.use_kernels("solutions")
    assert mg.active_kernels() == "solutions"
    with pytest.raises(KernelError, match="cannot import kernel package 'no_such_kernels'"):
        mg.use_kernels("no_such_kernels")
    assert mg.active_kernels() == "solutions"


def test_cross_entropy_values_and_gradient(rng):
    logits_np = rng.standard_normal((5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    logits = f64(logits_np)
    loss = nn.CrossEntropyLoss()(logits, labels)
    assert loss.shape == () and loss.dtype == np.float64
    shifted = logits_np - logits_np.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert loss.item() == pytest.approx(-log_p[np.arange(5), labels].mean())
    loss.backward()
    onehot = np.eye(4)[labels]
    np.testing.assert_allclose(logits.grad.numpy(), (np.exp(log_p) - onehot) / 5, rtol=1e-10)
    assert_gradients_match(lambda z: nn.CrossEntropyLoss()(z, mg.tensor(labels)), [f64(logits_np)])
    assert nn.CrossEntropyLoss()(mg.randn(3, 4), [0, 1, 2]).dtype == np.float32


def test_cross_entropy_is_stable_for_huge_logits():
    logits = mg.tensor([[1e4, -1e4, 0.0], [0.0, 0.0, 1e4]], requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, mg.tensor([0, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(logits.grad.numpy()))
    assert loss.item() == pytest.approx(5e3, rel=1e-6)


@pytest.mark.parametrize("layer, reference", [(nn.Sigmoid, lambda a: 1 / (1 + np.exp(-a))), (nn.Tanh, np.tanh)])
def test_sigmoid_and_tanh_layers(layer, reference, rng):
    x = f64(rng.standard_normal((3, 4)) * 2)
    out = layer()(x)
    np.testing.assert_allclose(out.numpy(), reference(x.numpy()), rtol=1e-12)
    assert_gradients_match(lambda x: layer()(x), [x])
    assert layer()(mg.randn(2)).dtype == np.float32


def test_mse_loss(rng):
    p_np, t_np = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    p = f64(p_np)
    loss = nn.MSELoss()(p, f64(t_np, requires_grad=False))
    assert loss.shape == () and loss.item() == pytest.approx(np.mean((p_np - t_np) ** 2))
    loss.backward()
    np.testing.assert_allclose(p.grad.numpy(), 2 * (p_np - t_np) / p_np.size)
    assert nn.MSELoss()(f64(p_np), t_np).item() == pytest.approx(loss.item())
    assert_gradients_match(lambda p, t: nn.MSELoss()(p, t), [f64(p_np), f64(t_np)])


def test_a_small_network_trains_end_to_end_on_its_gradients(rng):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    x = mg.tensor(rng.standard_normal((64, 2)))
    y = mg.tensor(x.numpy()[:, :1] * 2 - x.numpy()[:, 1:])
    first = None
    for _ in range(200):
        loss = nn.MSELoss()(model(x), y)
        first = first if first is not None else loss.item()
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert loss.item() < 0.1 * first
