"""``x ** c`` at x = 0: the power rule's edge cases follow torch (issue 14).

b·a^(b-1) at a = 0 is 0·∞ = NaN for b = 0 if written as is; a^0 is the constant 1, so its slope is 0.
The other exponents keep the formula's value: b = 1 gives 1, b = 2 gives 0, b = 0.5 gives +inf (as
``sqrt`` does). A RuntimeWarning from minigrad is an error in these tests (pyproject), so "no NaN" also
means "no divide-by-zero warning".
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

X = [0.0, -0.0, 2.0, -3.0]


def grad_of_power(exponent, dtype=np.float32, device="cpu"):
    x = mg.tensor(X, dtype=dtype, requires_grad=True, device=device)
    (x**exponent).sum().backward()
    return x.grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_gradient_of_x_to_the_0_is_0_everywhere_including_0(dtype):
    grad = grad_of_power(0, dtype)
    assert grad.dtype == dtype
    np.testing.assert_array_equal(grad.numpy(), [0.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("exponent", [0, 0.0, np.float32(0), np.float64(0)])
def test_a_zero_exponent_of_any_scalar_type_gives_no_nan(exponent):
    assert not np.isnan(grad_of_power(exponent).numpy()).any()


@pytest.mark.parametrize(("exponent", "expected"), [
    (1, [1.0, 1.0, 1.0, 1.0]),
    (2, [0.0, 0.0, 4.0, -6.0]),
    (3, [0.0, 0.0, 12.0, 27.0]),
])
def test_integer_exponents_at_0_keep_the_power_rule(exponent, expected):
    np.testing.assert_array_equal(grad_of_power(exponent, np.float64).numpy(), expected)


def test_a_square_root_at_0_has_an_infinite_slope_as_in_torch():
    x = mg.tensor([0.0, 4.0], dtype=np.float64, requires_grad=True)
    with np.errstate(divide="ignore"):
        (x**0.5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [np.inf, 0.25])


def test_a_tensor_exponent_with_zeros_gives_0_for_the_base_and_a_finite_exponent_gradient():
    a = mg.tensor([0.0, 0.0, 2.0, 2.0], dtype=np.float64, requires_grad=True)
    b = mg.tensor([0.0, 1.0, 0.0, 3.0], dtype=np.float64, requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 1.0, 0.0, 12.0])
    # d/db a^b = a^b·log a; taken as 0 where a = 0 (torch too, for b >= 0)
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.0, np.log(2.0), 8 * np.log(2.0)])


def test_a_broadcast_exponent_with_zeros_sums_back_to_the_base_shape():
    a = mg.tensor([[0.0, 1.5], [2.0, 0.0]], dtype=np.float64, requires_grad=True)
    b = mg.tensor([0.0, 2.0], dtype=np.float64)
    (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0.0, 3.0], [0.0, 0.0]])


def test_the_cuda_path_gives_the_same_zero(cuda):
    grad = grad_of_power(0, np.float32, device="cuda")
    assert grad.device == "cuda"
    np.testing.assert_array_equal(grad.numpy(), [0.0, 0.0, 0.0, 0.0])
