"""Layers run whichever kernel source is active, and a correct student package trains exactly like the solutions."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.kernels import KernelError, active_kernels, get_kernel, override_kernels, use_kernels

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


@pytest.fixture
def student_package(tmp_path, monkeypatch):
    """A copy of the solutions under another package name: what a student with correct code has."""
    package = tmp_path / "student_kernels"
    shutil.copytree(SOLUTIONS, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "student_kernels"
    for name in [m for m in sys.modules if m == "student_kernels" or m.startswith("student_kernels.")]:
        del sys.modules[name]


def _train_steps(source: str) -> tuple[list[float], dict[str, np.ndarray]]:
    use_kernels(source)
    mg.manual_seed(7)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 6, 3, padding="same"), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                          nn.Linear(6 * 2 * 2, 3))
    opt = mg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = mg.randn(6, 1, 8, 8)
    y = mg.tensor([0, 1, 2, 2, 1, 0])
    losses = []
    for _ in range(4):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, model.state_dict()


def test_a_correct_student_package_trains_exactly_like_the_solutions(student_package):
    reference_losses, reference_state = _train_steps("solutions")
    student_losses, student_state = _train_steps(student_package)
    assert active_kernels() == student_package
    assert get_kernel("conv2d_forward").__module__ == "student_kernels.conv"
    assert student_losses == reference_losses
    for key, value in reference_state.items():
        np.testing.assert_array_equal(student_state[key], value)
    use_kernels("solutions")
    assert get_kernel("conv2d_forward").__module__ == "solutions.conv"


def test_layers_call_the_active_kernels():
    calls = []

    from solutions.relu import relu_backward, relu_forward

    def spy_forward(x):
        calls.append("forward")
        return relu_forward(x)

    def spy_backward(dout, cache):
        calls.append("backward")
        return relu_backward(dout, cache)

    x = mg.randn(3, 4, requires_grad=True)
    with override_kernels(relu_forward=spy_forward, relu_backward=spy_backward):
        nn.ReLU()(x).sum().backward()
    assert calls == ["forward", "backward"]
    np.testing.assert_array_equal(x.grad.numpy(), (x.numpy() > 0).astype(np.float32))


def test_environment_variable_chooses_the_default(monkeypatch):
    import minigrad.kernels as kernels

    monkeypatch.setattr(kernels, "_source", None)
    monkeypatch.setenv("MINIGRAD_KERNELS", "exercises")
    assert active_kernels() == "exercises"
    monkeypatch.setattr(kernels, "_source", None)
    monkeypatch.delenv("MINIGRAD_KERNELS")
    assert active_kernels() == "solutions"


def test_stub_kernels_say_what_to_implement():
    use_kernels("exercises")
    with pytest.raises(NotImplementedError):
        nn.ReLU()(mg.randn(2, 2))


def test_bad_kernel_sources_are_one_line_errors():
    with pytest.raises(KernelError, match="cannot import kernel package 'no_such_pkg'"):
        use_kernels("no_such_pkg")
    with pytest.raises(KernelError, match="source must be a package name"):
        use_kernels("")
    with pytest.raises(KernelError, match="unknown kernel"):
        get_kernel("conv3d_forward")
    with pytest.raises(KernelError, match="unknown kernels"):
        override_kernels(conv3d_forward=print)


def test_a_kernel_returning_the_wrong_thing_is_named():
    with override_kernels(relu_forward=lambda x: x), pytest.raises(KernelError, match=r"must return \(out, cache\)"):
        nn.ReLU()(mg.randn(2))


def test_a_conv_backward_kernel_is_told_which_gradients_are_needed():
    from solutions.conv import conv2d_backward

    asked = []

    def spy(dout, cache, needs_input_grad=(True, True, True)):
        asked.append(needs_input_grad)
        return conv2d_backward(dout, cache, needs_input_grad)

    layer = nn.Conv2d(2, 3, 3).double()
    data = mg.randn(2, 2, 5, 5).double()          # a first layer's input: no dx wanted
    with override_kernels(conv2d_backward=spy):
        layer(data).sum().backward()
        assert asked == [(False, True, True)]
        assert layer.weight.grad is not None and layer.bias.grad is not None
        layer.zero_grad()
        layer.weight.requires_grad_(False)        # a frozen weight: no dw wanted
        x = mg.tensor(data.numpy(), requires_grad=True)
        layer(x).sum().backward()
    assert asked[1] == (True, False, True)
    assert layer.weight.grad is None and layer.bias.grad is not None
    x_again = mg.tensor(data.numpy(), requires_grad=True)
    layer(x_again).sum().backward()               # no spy: the full backward, for comparison
    np.testing.assert_array_equal(x.grad.numpy(), x_again.grad.numpy())


def test_a_backward_kernel_without_needs_input_grad_computes_everything():
    from solutions.conv import conv2d_backward

    def plain(dout, cache):                       # a student's kernel: the argument is optional
        return conv2d_backward(dout, cache)

    layer = nn.Conv2d(2, 3, 3)
    with override_kernels(conv2d_backward=plain):
        layer(mg.randn(1, 2, 4, 4)).sum().backward()
    assert layer.weight.grad is not None


def test_a_backward_kernel_dropping_a_needed_gradient_is_named():
    from solutions.conv import conv2d_backward

    def lazy(dout, cache, needs_input_grad=(True, True, True)):
        _, dw, db = conv2d_backward(dout, cache)
        return None, dw, db

    x = mg.randn(1, 2, 4, 4, requires_grad=True)
    with override_kernels(conv2d_backward=lazy), pytest.raises(KernelError, match="returned None for x") as info:
        nn.Conv2d(2, 3, 3)(x).sum().backward()
    assert "\n" not in str(info.value)


def test_an_unhashable_callable_kernel_still_works():
    from solutions.relu import relu_backward

    class Backward:
        __hash__ = None  # an object with __eq__ and no hash, as a student might write

        def __eq__(self, other):
            return self is other

        def __call__(self, dout, cache):
            return relu_backward(dout, cache)

    x = mg.randn(3, requires_grad=True)
    with override_kernels(relu_backward=Backward()):
        nn.ReLU()(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (x.numpy() > 0).astype(np.float32))
