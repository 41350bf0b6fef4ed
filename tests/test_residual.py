"""The ResNet basic block: structure, shapes, parameter counts, state_dict, training and gradients."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradients_match, f64

import minigrad
from minigrad import nn
from solutions.residual import ResidualBlock


def test_identity_block_keeps_the_shape_and_has_no_shortcut_layers():
    block = ResidualBlock(64, 64)
    assert block.shortcut is None and ResidualBlock.expansion == 1
    x = minigrad.randn(2, 64, 8, 8)
    assert block(x).shape == (2, 64, 8, 8)
    assert block.num_parameters() == 2 * (3 * 3 * 64 * 64) + 2 * (2 * 64)  # two convs + two (γ, β)
    assert block.num_parameters() == 73_984


def test_projection_block_halves_the_size_and_projects_the_input():
    block = ResidualBlock(64, 128, stride=2)
    assert isinstance(block.shortcut, nn.Sequential) and len(block.shortcut) == 2
    projection, norm = block.shortcut
    assert isinstance(projection, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d)
    assert projection.kernel_size == (1, 1) and projection.stride == (2, 2) and projection.bias is None
    assert block(minigrad.randn(2, 64, 8, 8)).shape == (2, 128, 4, 4)
    body = 3 * 3 * 64 * 128 + 3 * 3 * 128 * 128 + 2 * (2 * 128)
    assert block.num_parameters() == body + 1 * 1 * 64 * 128 + 2 * 128


@pytest.mark.parametrize("in_channels, out_channels, stride", [(8, 16, 1), (8, 8, 2)])
def test_any_change_of_shape_gets_a_projection(in_channels, out_channels, stride):
    block = ResidualBlock(in_channels, out_channels, stride)
    assert block.shortcut is not None
    side = 3 if stride == 2 else 5  # ceil(5 / stride)
    assert block(minigrad.randn(2, in_channels, 5, 5)).shape == (2, out_channels, side, side)


def test_layers_and_state_dict_keys():
    block = ResidualBlock(4, 8, stride=2)
    for name in ("conv1", "conv2"):
        conv = getattr(block, name)
        assert isinstance(conv, nn.Conv2d) and conv.kernel_size == (3, 3) and conv.padding == (1, 1)
        assert conv.bias is None
    assert block.conv1.stride == (2, 2) and block.conv2.stride == (1, 1)
    bn = ["weight", "bias", "running_mean", "running_var"]
    expected = {"conv1.weight", "conv2.weight", "shortcut.0.weight"}
    expected |= {f"{layer}.{key}" for layer in ("bn1", "bn2", "shortcut.1") for key in bn}
    assert set(block.state_dict()) == expected
    identity_keys = {k for k in expected if not k.startswith("shortcut")}
    assert set(ResidualBlock(4, 4).state_dict()) == identity_keys


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 4, 1), (4, 6, 2)])
def test_forward_and_backward_run_in_train_and_eval(training, shape):
    block = ResidualBlock(*shape).train(training)
    x = minigrad.randn(3, shape[0], 6, 6, requires_grad=True)
    before = block.bn1.running_mean.numpy().copy()
    out = block(x)
    assert out.dtype == np.float32
    assert (out.numpy() >= 0).all()  # a ReLU comes last
    out.sum().backward()
    assert x.grad.shape == x.shape and np.isfinite(x.grad.numpy()).all()
    for name, param in block.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, name
    assert np.array_equal(block.bn1.running_mean.numpy(), before) != training  # only training updates it


@pytest.mark.parametrize("shape", [(3, 3, 1), (2, 4, 2)])
def test_block_gradients_match_central_differences_in_eval(rng, shape):
    block = ResidualBlock(*shape).double().eval()
    for _, buf in block.named_buffers():  # non-trivial running statistics
        buf.data = rng.uniform(0.5, 1.5, buf.shape) if buf.shape else buf.data
    params = list(block.parameters())
    x = f64(rng.standard_normal((2, shape[0], 4, 4)))
    assert_gradients_match(lambda x, *_: block(x), [x, *params])


def test_the_skip_connection_carries_the_input_when_the_residual_is_zero():
    block = ResidualBlock(3, 3).eval()
    block.bn2.weight.data[:] = 0.0  # F(x) = β = 0, so out = relu(0 + x)
    x = minigrad.randn(2, 3, 5, 5)
    np.testing.assert_allclose(block(x).numpy(), np.maximum(x.numpy(), 0), rtol=1e-6)
