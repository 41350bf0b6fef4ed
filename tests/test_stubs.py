"""The student handout: every stub mirrors its solution's API and raises NotImplementedError until written."""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.kernels import KERNELS

MODULES = ["relu", "conv", "pooling", "softmax_ce", "residual"]


def public_api(module):
    """Functions and classes a module defines itself, by name (imports and _private names left out)."""
    return {name: obj for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module.__name__}


@pytest.mark.parametrize("name", MODULES)
def test_stub_module_has_the_solutions_api_with_the_same_signatures(name):
    solution = public_api(importlib.import_module(f"solutions.{name}"))
    stub = public_api(importlib.import_module(f"exercises.{name}"))
    assert solution, f"solutions.{name} defines nothing public"
    assert set(stub) == set(solution), f"exercises.{name} differs: {set(stub) ^ set(solution)}"
    for attr, obj in solution.items():
        members = ["__init__", "forward"] if inspect.isclass(obj) else [None]
        for member in members:
            want = obj if member is None else getattr(obj, member)
            got = stub[attr] if member is None else getattr(stub[attr], member)
            assert inspect.signature(got) == inspect.signature(want), f"{name}.{attr} {member or ''}"
        assert inspect.getdoc(stub[attr]), f"exercises.{name}.{attr} needs a docstring"


def test_every_kernel_the_layers_call_has_a_stub():
    for kernel, module in KERNELS.items():
        assert callable(getattr(importlib.import_module(f"exercises.{module}"), kernel, None)), kernel


X = np.ones((2, 4, 6, 6))
W = np.ones((3, 4, 3, 3))
STUB_CALLS = {  # every stub function, called with valid small inputs (caches are None: never reached)
    "relu": {"relu_forward": (X,), "relu_backward": (X, None)},
    "conv": {"conv_output_size": (7, 3), "conv2d_forward": (X, W), "conv2d_backward": (X, None),
             "conv1d_forward": (X[:, :, 0], W[:, :, 0]), "conv1d_backward": (X[:, :, 0], None)},
    "pooling": {f"{kind}pool2d_{step}": (X, 2) if step == "forward" else (X, None)
                for kind in ("max", "avg", "sum", "l2") for step in ("forward", "backward")},
    "softmax_ce": {"softmax": (X[0, 0],), "log_softmax": (X[0, 0],),
                   "softmax_cross_entropy_forward": (X[0, 0], np.arange(6) % 2),
                   "softmax_cross_entropy_backward": (np.float64(1.0), None)},
}


def test_the_stub_calls_cover_every_stub_function():
    for name in MODULES:
        functions = {k for k, v in public_api(importlib.import_module(f"exercises.{name}")).items()
                     if inspect.isfunction(v)}
        assert functions == set(STUB_CALLS.get(name, {})), name


@pytest.mark.parametrize("module, function", [(m, f) for m, calls in STUB_CALLS.items() for f in calls])
def test_every_stub_function_raises_not_implemented(module, function):
    stub = getattr(importlib.import_module(f"exercises.{module}"), function)
    with pytest.raises(NotImplementedError, match=function) as info:
        stub(*STUB_CALLS[module][function])
    assert f"exercises/{module}.py" in str(info.value)  # tells the student where to write it


def test_residual_block_stub_raises_not_implemented():
    from exercises.residual import ResidualBlock

    assert ResidualBlock.expansion == 1 and issubclass(ResidualBlock, nn.Module)
    with pytest.raises(NotImplementedError, match=r"ResidualBlock\.__init__"):
        ResidualBlock(4, 4)
    block = object.__new__(ResidualBlock)
    with pytest.raises(NotImplementedError, match=r"ResidualBlock\.forward"):
        block.forward(minigrad.zeros(1, 4, 3, 3))


def test_layers_reach_the_stubs_once_the_exercises_are_chosen():
    minigrad.use_kernels("exercises")
    try:
        with pytest.raises(NotImplementedError, match="conv2d_forward"):
            nn.Conv2d(4, 3, 3)(minigrad.tensor(X, dtype="float32"))
        with pytest.raises(NotImplementedError, match="maxpool2d_forward"):
            nn.MaxPool2d(2)(minigrad.tensor(X, dtype="float32"))
    finally:
        minigrad.use_kernels("solutions")


def student_tests():
    module = importlib.import_module("exercises.test_my_conv")
    return module, [getattr(module, n) for n in dir(module) if n.startswith("test_")]


def test_student_tests_skip_on_the_stubs_and_pass_on_the_solutions(monkeypatch):
    from solutions import conv

    module, tests = student_tests()
    assert len(tests) >= 4 and module.pytestmark.name == "student"
    for test in tests:
        with pytest.raises(pytest.skip.Exception, match="not implemented yet"):
            test()
    monkeypatch.setattr(module, "conv2d_forward", conv.conv2d_forward)
    monkeypatch.setattr(module, "conv2d_backward", conv.conv2d_backward)
    monkeypatch.setattr(module, "conv_output_size", conv.conv_output_size)
    for test in tests:
        test()  # a correct convolution passes every one of them
