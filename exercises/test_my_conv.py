"""Your own tests of your convolution (exercises/conv.py): complete them, and add more.

    python -m pytest exercises/test_my_conv.py

A test here checks a *property* every correct convolution has, so you need no reference code. Each
test skips with a message while conv2d_forward still raises NotImplementedError, and runs once you
have written it. The last one checks your backward pass numerically with ``minigrad.testing.gradcheck``
(central differences in float64, element by element: see its docstring). Ideas for more tests: a
bias adds a constant to each output map; padding "same" keeps H and W at stride 1; groups=C_in with
one filter per channel never mixes channels; the output of conv1d equals conv2d on a height-1 image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from exercises.conv import conv2d_backward, conv2d_forward, conv_output_size
from minigrad.testing import gradcheck

pytestmark = pytest.mark.student


def conv(*args: Any, **kwargs: Any) -> Any:
    """conv2d_forward's output, or a skip while the exercise is not done."""
    try:
        return conv2d_forward(*args, **kwargs)[0]
    except NotImplementedError:
        pytest.skip("conv2d_forward is not implemented yet: write it in exercises/conv.py, then run again")


def test_1x1_identity_kernel_returns_the_input() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    identity = np.eye(3).reshape(3, 3, 1, 1)  # output channel o copies input channel o
    np.testing.assert_allclose(conv(x, identity), x, rtol=1e-12)


def test_convolution_is_linear_in_the_input() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((2, 2, 6, 6))
    w = rng.standard_normal((4, 2, 3, 3))
    np.testing.assert_allclose(conv(2.0 * x - 3.0 * y, w), 2.0 * conv(x, w) - 3.0 * conv(y, w),
                               rtol=1e-10, atol=1e-12)


def test_shifting_the_input_shifts_the_output() -> None:
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 1, 8, 8)), rng.standard_normal((1, 1, 3, 3))
    # translation equivariance: f(shifted x) = shifted f(x), at stride 1 without padding
    np.testing.assert_allclose(conv(x[:, :, 1:, 2:], w), conv(x, w)[:, :, 1:, 2:], rtol=1e-12)


def test_a_single_bright_pixel_draws_the_kernel_upside_down() -> None:
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    # cross-correlation (no kernel flip): out[p, q] = w[2 - p, 2 - q]
    np.testing.assert_array_equal(conv(x, w)[0, 0], w[0, 0, ::-1, ::-1])


def test_output_shape_follows_the_formula() -> None:
    x, w = np.zeros((2, 3, 7, 9)), np.zeros((4, 3, 3, 3))
    out = conv(x, w, stride=2, padding=1)
    try:
        expected = (conv_output_size(7, 3, 2, 1), conv_output_size(9, 3, 2, 1))
    except NotImplementedError:
        pytest.skip("conv_output_size is not implemented yet: write it in exercises/conv.py")
    assert expected == ((7 - 3 + 2) // 2 + 1, (9 - 3 + 2) // 2 + 1)
    assert out.shape == (2, 4, *expected)


def test_backward_matches_central_differences() -> None:
    rng = np.random.default_rng(3)
    for options in ({}, {"stride": 2, "padding": 1}, {"padding": "same", "groups": 2}):
        groups = options.get("groups", 1)
        x, w, b = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 4 // groups, 3, 3)), rng.standard_normal(6)
        conv(x, w, b, **options)  # skips while conv2d_forward is not written
        try:
            # dL/dx, dL/dw, dL/db of L = Σ out·g (g random) against (L(v + h) - L(v - h)) / 2h, element by element
            gradcheck((conv2d_forward, conv2d_backward), x, w, b, **options)
        except NotImplementedError:
            pytest.skip("conv2d_backward is not implemented yet: write it in exercises/conv.py, then run again")
