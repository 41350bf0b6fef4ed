"""Hidden tests of exercise 6, the residual block: structure, parameter counts, forward and backward.

The block runs in the runner on the reference kernels, so only the block itself is graded here. The
forward tests are fixed (the same weights and inputs at every seed; see ``grader.suites._support``), the
backward tests random.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches, assert_same_keys, assert_value_equals
from grader.suites._support import (
    check_each,
    fixed_rng,
    matches,
    random_residual_state,
    reference_residual,
    reference_residual_structure,
    residual_report,
)

pytestmark = [pytest.mark.exercise("residual"), pytest.mark.visibility("hidden")]

TOL = {"rtol": 1e-4, "atol": 1e-4}
IDENTITY = (4, 4, 1)
PROJECTION = (3, 6, 2)  # stride 2 with a change of channels: the dotted lines of the ResNet-34 figure
SHAPES = {"identity": IDENTITY, "projection": PROJECTION}
FORWARD_HINT = "out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); conv1 has the stride, conv2 stride 1"
PROJECTION_HINT = "the projection is a 1×1 convolution with the block's stride and no bias, then BatchNorm2d"


def structure(student, shape):
    report = residual_report(student, ["shortcut_is_none", "state_keys", "shapes", "num_params"],
                             in_channels=shape[0], out_channels=shape[1], stride=shape[2])
    return report, reference_residual_structure(*shape)


def run_block(student, rng, kind, training):
    in_channels, out_channels, stride = SHAPES[kind]
    state = random_residual_state(rng, in_channels, out_channels, stride)
    x = rng.standard_normal((3, in_channels, 6, 6)).astype(np.float32)
    side = -(-6 // stride)
    dout = rng.standard_normal((3, out_channels, side, side)).astype(np.float32)
    report = residual_report(student, ["out", "dx", "grads", "state_after"], in_channels=in_channels,
                             out_channels=out_channels, stride=stride, state=state, x=x, dout=dout,
                             training=training)
    return report, reference_residual(in_channels, out_channels, stride, state, x, dout, training)


# ----- structure -----

@pytest.mark.points(1)
def test_block_of_64_channels_has_73984_parameters(student):
    """ResidualBlock(64, 64) has 2·(3·3·64·64) + 2·(2·64) = 73,984 parameters and no shortcut."""
    report, expected = structure(student, (64, 64, 1))
    assert_value_equals("num_parameters()", report["num_params"], expected["num_params"])
    assert_value_equals("shortcut is None", report["shortcut_is_none"], True)


@pytest.mark.points(1)
def test_projection_block_parameter_count(student):
    """ResidualBlock(16, 32, stride=2) adds 1·1·16·32 + 2·32 projection parameters to its body."""
    report, expected = structure(student, (16, 32, 2))
    assert_value_equals("num_parameters()", report["num_params"], expected["num_params"], hint=PROJECTION_HINT)


@pytest.mark.points(0.5)
def test_a_change_of_channels_at_stride_1_gets_a_projection(student):
    """ResidualBlock(4, 8, stride=1) has a projection shortcut."""
    report, _ = structure(student, (4, 8, 1))
    assert_value_equals("shortcut is None", report["shortcut_is_none"], False,
                        hint="project whenever in_channels != out_channels")


@pytest.mark.points(0.5)
def test_stride_2_with_the_same_channels_gets_a_projection(student):
    """ResidualBlock(4, 4, stride=2) has a projection shortcut."""
    report, _ = structure(student, (4, 4, 2))
    assert_value_equals("shortcut is None", report["shortcut_is_none"], False, hint="project whenever stride != 1")


@pytest.mark.points(1)
def test_state_dict_keys_and_shapes(student):
    """The state_dict keys and shapes of ResidualBlock(3, 6, stride=2) and ResidualBlock(4, 4)."""
    for shape in (PROJECTION, IDENTITY):
        report, expected = structure(student, shape)
        assert_same_keys(f"the state_dict of ResidualBlock{shape}", report["state_keys"], expected["state_keys"],
                         hint="the attribute names are fixed: conv1, bn1, conv2, bn2, shortcut")
        if type(report["shapes"]) is not dict:
            raise AssertionError("the harness reported no parameter shapes")
        for key, want in expected["shapes"].items():
            assert_value_equals(f"shape of {key}", list(report["shapes"].get(key, [])), want)


# ----- forward -----

@pytest.mark.parametrize("kind, training", [
    pytest.param("identity", True, id="identity-train", marks=pytest.mark.points(1)),
    pytest.param("identity", False, id="identity-eval", marks=pytest.mark.points(1)),
    pytest.param("projection", True, id="projection-train", marks=pytest.mark.points(1.5)),
    pytest.param("projection", False, id="projection-eval", marks=pytest.mark.points(1.5)),
])
def test_block_forward_with_loaded_weights(student, kind, training):
    report, expected = run_block(student, fixed_rng(f"{kind} {training}"), kind, training)
    assert_array_matches("out", report["out"], expected["out"], source="ResidualBlock.forward", **TOL,
                         hint=FORWARD_HINT if kind == "identity" else PROJECTION_HINT)


# ----- backward -----

@pytest.mark.parametrize("kind, training", [
    pytest.param("identity", True, id="identity-train", marks=pytest.mark.points(1)),
    pytest.param("projection", True, id="projection-train", marks=pytest.mark.points(1)),
    pytest.param("projection", False, id="projection-eval", marks=pytest.mark.points(1)),
])
def test_block_backward_input_gradient(student, rng, kind, training):
    report, expected = run_block(student, rng, kind, training)
    assert_array_matches("dx", report["dx"], expected["dx"], source="ResidualBlock backward", **TOL)


@pytest.mark.parametrize("kind, training", [
    pytest.param("identity", True, id="identity-train", marks=pytest.mark.points(1)),
    pytest.param("projection", True, id="projection-train", marks=pytest.mark.points(1)),
    pytest.param("projection", False, id="projection-eval", marks=pytest.mark.points(1)),
])
def test_block_backward_parameter_gradients(student, rng, credit, kind, training):
    report, expected = run_block(student, rng, kind, training)
    grads = report["grads"]
    if type(grads) is not dict:
        raise AssertionError("the harness reported no parameter gradients")
    checks = []
    for name, want in expected["grads"].items():
        got = grads.get(name)
        if got is None:
            checks.append((name, _missing(name)))
        else:
            checks.append((name, matches(f"grad of {name}", got, want, source="ResidualBlock backward", **TOL)))
    check_each(checks, credit)


def _missing(name):
    def fail():
        raise AssertionError(f"{name} got no gradient: is it used in forward?")
    return fail


@pytest.mark.points(1)
def test_training_updates_the_running_statistics(student, rng):
    """A training-mode forward pass of ResidualBlock(3, 6, stride=2) updates every running mean and variance."""
    report, expected = run_block(student, rng, "projection", True)
    state = report["state_after"]
    if type(state) is not dict:
        raise AssertionError("the harness reported no state after the forward pass")
    for key, want in expected["state_after"].items():
        if "running" in key:
            assert_array_matches(key, state.get(key), want, **TOL,
                                 hint="every BatchNorm2d, including the shortcut's, runs in training mode")
