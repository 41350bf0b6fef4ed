"""Public tests of exercise 6, the residual block (run them with ``grader check``).

The block runs in the runner on the reference kernels, so only the block itself is graded here.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge.compare import assert_array_matches, assert_same_keys, assert_value_equals
from grader.suites._support import (
    random_residual_state,
    reference_residual,
    reference_residual_structure,
    residual_report,
)

pytestmark = pytest.mark.exercise("residual")

TOL = {"rtol": 1e-4, "atol": 1e-4}


@pytest.mark.points(1)
def test_identity_block_has_no_shortcut_and_the_right_parameters(student):
    """ResidualBlock(4, 4): shortcut is None, state_dict keys conv1/bn1/conv2/bn2, 2·(3·3·4·4) + 2·(2·4) parameters."""
    report = residual_report(student, ["shortcut_is_none", "state_keys", "num_params"],
                             in_channels=4, out_channels=4, stride=1)
    expected = reference_residual_structure(4, 4, 1)
    assert_value_equals("shortcut is None", report["shortcut_is_none"], True,
                        hint="no projection when the shape does not change")
    assert_same_keys("state_dict", report["state_keys"], expected["state_keys"],
                     hint="the attribute names are fixed: conv1, bn1, conv2, bn2, shortcut")
    assert_value_equals("num_parameters()", report["num_params"], expected["num_params"], reveal=True)


@pytest.mark.points(1)
def test_projection_block_has_a_1x1_convolution_and_batch_norm_shortcut(student):
    """ResidualBlock(4, 8, stride=2): the shortcut is Sequential(Conv2d 1×1, BatchNorm2d)."""
    report = residual_report(student, ["shortcut_is_none", "state_keys", "num_params"],
                             in_channels=4, out_channels=8, stride=2)
    expected = reference_residual_structure(4, 8, 2)
    assert_value_equals("shortcut is None", report["shortcut_is_none"], False,
                        hint="stride 2 or a change of channels needs a projection shortcut")
    assert_same_keys("state_dict", report["state_keys"], expected["state_keys"],
                     hint="shortcut = nn.Sequential(nn.Conv2d(..., 1, stride, bias=False), nn.BatchNorm2d(...))")
    assert_value_equals("num_parameters()", report["num_params"], expected["num_params"], reveal=True)


def run_block(student, rng, training):
    state = random_residual_state(rng, 4, 4, 1)
    x = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
    dout = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
    report = residual_report(student, ["out", "dx", "grads"], in_channels=4, out_channels=4, stride=1,
                             state=state, x=x, dout=dout, training=training)
    return report, reference_residual(4, 4, 1, state, x, dout, training)


@pytest.mark.points(1)
def test_identity_block_forward_in_training_mode(student, rng):
    """ResidualBlock(4, 4) forward with loaded weights, training mode: relu(F(x) + x)."""
    report, expected = run_block(student, rng, True)
    assert_array_matches("out", report["out"], expected["out"], source="ResidualBlock.forward", reveal=True, **TOL,
                         hint="out = relu(bn2(conv2(relu(bn1(conv1(x))))) + x)")


@pytest.mark.points(1)
def test_identity_block_backward_in_training_mode(student, rng):
    """ResidualBlock(4, 4) backward with loaded weights, training mode: the gradient of x."""
    report, expected = run_block(student, rng, True)
    assert_array_matches("dx", report["dx"], expected["dx"], source="ResidualBlock backward", reveal=True, **TOL,
                         hint="build the block from minigrad layers so autograd can differentiate it")

