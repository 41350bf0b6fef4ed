"""Weight initialisers: fans, gains, empirical spread against the formulas, reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.nn import Parameter, init


def weight(shape, dtype=np.float32) -> Parameter:
    return Parameter(np.zeros(shape, dtype=dtype))


RANDOM_INITS = [
    lambda t: init.uniform_(t, -2.0, 3.0),
    lambda t: init.normal_(t, 1.0, 0.5),
    init.xavier_uniform_,
    init.xavier_normal_,
    init.kaiming_uniform_,
    lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
]


@pytest.mark.parametrize("fill", [*RANDOM_INITS, lambda t: init.constant_(t, 0.25), init.zeros_, init.ones_])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_keeps_shape_dtype_and_returns_tensor(fill, dtype):
    w = weight((6, 4, 3, 3), dtype)
    array = w.data
    assert fill(w) is w
    assert w.data is array and w.shape == (6, 4, 3, 3) and w.dtype == dtype
    assert w.requires_grad and w.grad is None
    assert np.isfinite(w.data).all()


def test_constant_zeros_ones():
    w = weight((3, 2))
    np.testing.assert_array_equal(init.constant_(w, 0.25).data, np.full((3, 2), 0.25))
    np.testing.assert_array_equal(init.ones_(w).data, np.ones((3, 2)))
    np.testing.assert_array_equal(init.zeros_(w).data, np.zeros((3, 2)))


def test_fans_of_linear_and_conv_weights():
    assert init.fan_in_and_fan_out(weight((10, 20))) == (20, 10)  # linear (out, in)
    # conv (C_out, C_in/groups, KH, KW): C_in=16 with groups=4 stores 4 input channels
    assert init.fan_in_and_fan_out(weight((32, 4, 3, 5))) == (4 * 15, 32 * 15)
    assert init._calculate_fan_in_and_fan_out is init.fan_in_and_fan_out


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=2, max_size=5))
def test_fans_for_any_shape(shape):
    fan_in, fan_out = init.fan_in_and_fan_out(weight(shape))
    receptive = math.prod(shape[2:])
    assert (fan_in, fan_out) == (shape[1] * receptive, shape[0] * receptive)
    assert fan_in * shape[0] == fan_out * shape[1] == math.prod(shape)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=4), st.floats(0.0, 1.0),
       st.sampled_from(["fan_in", "fan_out"]))
def test_kaiming_uniform_within_bound_for_any_shape(shape, a, mode):
    w = init.kaiming_uniform_(weight(shape, np.float64), a=a, mode=mode)
    fan = init.fan_in_and_fan_out(w)[0 if mode == "fan_in" else 1]
    bound = math.sqrt(3.0) * math.sqrt(2.0 / (1 + a * a)) / math.sqrt(fan)
    assert np.abs(w.data).max() <= bound


@pytest.mark.parametrize("fill", [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
                                  init.kaiming_normal_, init.fan_in_and_fan_out])
@pytest.mark.parametrize("shape", [(), (5,)])
def test_fan_based_inits_need_two_dims(fill, shape):
    with pytest.raises(ValueError, match="at least 2 dims"):
        fill(weight(shape))


def test_calculate_gain():
    for name in ("linear", "identity", "conv2d", "conv_transpose2d", "sigmoid"):
        assert init.calculate_gain(name) == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", 0) == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("softplus")
    with pytest.raises(ValueError, match="param"):
        init.calculate_gain("leaky_relu", "0.2")


# Empirical spread on big tensors (>= 500k draws: the sample std is within ~0.1% of the true one,
# so a tolerance of 0.5% is five standard errors wide yet catches a 1% mistake in a formula).
STD_CASES = [
    # (init, shape, std it must have, bound of a uniform or None)
    (lambda t: init.kaiming_normal_(t), (512, 1024), math.sqrt(2 / 1024), None),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), (256, 256, 3, 3),
     math.sqrt(2 / (256 * 9)), None),
    (lambda t: init.kaiming_normal_(t, a=0.2, nonlinearity="leaky_relu"), (256, 128, 4, 4),
     math.sqrt(2 / 1.04) / math.sqrt(128 * 16), None),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), (512, 1024), math.sqrt(2 / 1024),
     math.sqrt(6 / 1024)),
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), (256, 256, 3, 3),  # nn.Linear/Conv2d default
     1 / math.sqrt(3 * 256 * 9), 1 / math.sqrt(256 * 9)),
    (lambda t: init.xavier_normal_(t, gain=init.calculate_gain("tanh")), (600, 1000),
     5 / 3 * math.sqrt(2 / 1600), None),
    (lambda t: init.xavier_uniform_(t), (500, 1000), math.sqrt(2 / 1500), math.sqrt(6 / 1500)),
    (lambda t: init.xavier_uniform_(t), (192, 128, 5, 5), math.sqrt(2 / (320 * 25)),
     math.sqrt(6 / (320 * 25))),
    (lambda t: init.normal_(t, 0.0, 0.01), (1000, 500), 0.01, None),
    (lambda t: init.uniform_(t, -0.1, 0.1), (1000, 500), 0.1 / math.sqrt(3), 0.1),
]


@pytest.mark.parametrize(("fill", "shape", "std", "bound"), STD_CASES)
def test_empirical_std_and_bounds_match_formulas(fill, shape, std, bound):
    minigrad.manual_seed(1)
    values = fill(weight(shape, np.float64)).data
    assert values.std() == pytest.approx(std, rel=0.005)
    assert abs(values.mean()) < 5 * std / math.sqrt(values.size)  # 5 standard errors
    if bound is not None:
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.999 * bound  # the draws reach the edge: the bound is not too big


def test_normal_and_uniform_mean():
    minigrad.manual_seed(2)
    assert init.normal_(weight((1000, 500)), mean=3.0, std=0.5).data.mean() == pytest.approx(3.0, abs=0.005)
    u = init.uniform_(weight((1000, 500)), 2.0, 4.0).data
    assert u.min() >= 2.0 and u.max() <= 4.0 and u.mean() == pytest.approx(3.0, abs=0.005)


@pytest.mark.parametrize("fill", RANDOM_INITS)
def test_manual_seed_reproduces(fill):
    minigrad.manual_seed(123)
    first = fill(weight((8, 5, 3))).data.copy()
    minigrad.manual_seed(123)
    again = fill(weight((8, 5, 3))).data.copy()
    np.testing.assert_array_equal(first, again)
    minigrad.manual_seed(124)
    other = fill(weight((8, 5, 3))).data
    assert not np.array_equal(first, other)


def test_float32_gets_float64_draws_rounded():
    # the same seed gives the same numbers in both dtypes, up to float32 rounding
    minigrad.manual_seed(5)
    w64 = init.kaiming_normal_(weight((16, 8), np.float64)).data
    minigrad.manual_seed(5)
    w32 = init.kaiming_normal_(weight((16, 8), np.float32)).data
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(weight((3, 3)), mode="fan_avg")
    with pytest.raises(ValueError, match="std"):
        init.normal_(weight((3, 3)), std=-1.0)
    with pytest.raises(ValueError, match="a must be <= b"):
        init.uniform_(weight((3, 3)), 1.0, 0.0)
    with pytest.raises(ValueError, match="floating dtype"):
        init.uniform_(minigrad.tensor([1, 2, 3]))


def test_empty_weight_is_left_alone():
    w = weight((0, 3))
    assert init.kaiming_uniform_(w) is w and init.xavier_normal_(w) is w and w.shape == (0, 3)


@pytest.mark.parametrize("fill", [*RANDOM_INITS, init.ones_])
def test_device_tensor_gets_the_cpu_values(cuda, fill):
    # the draws happen on the host, so a seed gives the same weights on every device
    minigrad.manual_seed(9)
    host = fill(weight((8, 5, 3))).data
    minigrad.manual_seed(9)
    w = Parameter(minigrad.zeros((8, 5, 3), device="cuda"))
    array = w.data
    assert fill(w) is w and w.data is array and minigrad.backend.device_of(w.data) == "cuda"
    np.testing.assert_array_equal(w.numpy(), host)


def test_gains_and_fans_match_pytorch():
    torch = pytest.importorskip("torch")
    for name, param in [("linear", None), ("conv_transpose2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))
    for shape in [(10, 20), (32, 4, 3, 5), (7, 3, 2), (2, 3, 1, 4, 5)]:
        want = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        assert init.fan_in_and_fan_out(weight(shape)) == tuple(want)
