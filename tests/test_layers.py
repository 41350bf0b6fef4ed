"""nn layers: Linear, Flatten, Dropout, BatchNorm, pooling, activations and losses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradcheck import assert_gradients_match, f64
from nn_helpers import assert_same_state, snapshot

import minigrad as mg
from minigrad import nn
from minigrad.kernels import KernelError, override_kernels
from minigrad.nn.normalization import batch_norm

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
