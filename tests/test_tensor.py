"""Tensors themselves: creation helpers, dtypes, copies, conversion, printing, seeding, identity."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import minigrad as mg


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message, f"error message spans several lines: {message!r}"
    return message


# ----------------------------------------------------------------------------- creation: shapes


@pytest.mark.parametrize("make", [mg.zeros, mg.ones, mg.empty, mg.randn, mg.rand,
                                  lambda *s: mg.full(*s, fill_value=2.5)])
def test_shape_as_ints_tuple_or_list(make):
    assert make(2, 3).shape == (2, 3)
    assert make((2, 3)).shape == (2, 3)
    assert make([2, 3]).shape == (2, 3)
    assert make(4).shape == (4,)
    assert make(()).shape == ()
    assert make(0, 3).shape == (0, 3)
    assert make(np.int64(2), 3).shape == (2, 3)
    assert make(2, 3).dtype == np.float32


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "randn", "rand"])
@pytest.mark.parametrize("bad", [(-1,), (2.5,), ("a",), ((2, None),), (True, 2)])
def test_bad_shapes_are_one_line_errors_naming_the_op(name, bad):
    with pytest.raises(ValueError) as err:
        getattr(mg, name)(*bad)
    message = one_line(err)
    assert message.startswith(f"{name}: shape must be non-negative ints")


def test_values_of_the_filled_and_range_helpers():
    np.testing.assert_array_equal(mg.zeros(2, 2).numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(mg.ones(3).numpy(), np.ones(3))
    np.testing.assert_array_equal(mg.full(2, 3, fill_value=7.5).numpy(), np.full((2, 3), 7.5))
    assert mg.full(2, fill_value=7, dtype="int64").dtype == np.int64
    np.testing.assert_array_equal(mg.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(mg.eye(2, 3).numpy(), np.eye(2, 3))
    assert mg.eye(2).dtype == np.float32 and mg.eye(2, dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(mg.arange(5).numpy(), np.arange(5))
    np.testing.assert_array_equal(mg.arange(1, 7, 2).numpy(), [1, 3, 5])
    np.testing.assert_array_equal(mg.arange(3, 0, -1).numpy(), [3, 2, 1])
    np.testing.assert_allclose(mg.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(mg.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    assert mg.linspace(0, 1).shape == (50,)
    assert mg.empty(2, 3).shape == (2, 3) and mg.empty(2, dtype="int32").dtype == np.int32


def test_arange_dtypes_and_errors():
    assert mg.arange(5).dtype == np.int64
    assert mg.arange(0, 1, 0.5).dtype == np.float32
    assert mg.arange(2.0).dtype == np.float32
    assert mg.arange(5, dtype="float64").dtype == np.float64
    with pytest.raises(ValueError, match="step must not be 0"):
        mg.arange(0, 5, 0)


def test_random_helpers():
    r = mg.rand(1000)
    assert r.dtype == np.float32 and r.numpy().min() >= 0 and r.numpy().max() < 1
    n = mg.randn(2000, dtype="float64")
    assert n.dtype == np.float64
    assert abs(n.numpy().mean()) < 0.1 and abs(n.numpy().std() - 1) < 0.1
    k = mg.randint(2, 5, (3, 4))
    assert k.shape == (3, 4) and k.dtype == np.int64
    assert set(np.unique(mg.randint(2, 5, 500).numpy())) == {2, 3, 4}
    assert mg.randint(0, 3, 7).shape == (7,)
    assert mg.randint(0, 3, [2, 2]).shape == (2, 2)
    assert mg.randint(0, 3, (2,), dtype="int32").dtype == np.int32
    with pytest.raises(ValueError, match=r"randint: high \(3\) must be greater than low \(3\)"):
        mg.randint(3, 3, 2)
    assert mg.randn(3, requires_grad=True).requires_grad
    assert mg.rand(3, requires_grad=True).requires_grad


def test_like_helpers_keep_shape_and_dtype():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))  # float64
    for make in (mg.zeros_like, mg.ones_like, mg.randn_like, mg.rand_like):
        y = make(x)
        assert y.shape == (2, 3) and y.dtype == np.float64 and y.device == "cpu"
        assert make(x, dtype="float32").dtype == np.float32
    np.testing.assert_array_equal(mg.zeros_like(x).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(mg.ones_like(x).numpy(), np.ones((2, 3)))
    f = mg.full_like(x, 3.0)
    assert f.dtype == np.float64 and np.all(f.numpy() == 3.0)
    assert mg.full_like(mg.arange(3), 7).dtype == np.int64
    assert mg.zeros_like(x, requires_grad=True).requires_grad
    assert mg.ones_like(x, requires_grad=True).requires_grad
    assert not mg.zeros_like(x).requires_grad


def test_requires_grad_flag_on_creation():
    assert mg.zeros(2, requires_grad=True).requires_grad
    assert mg.ones(2, requires_grad=True).is_leaf
    with pytest.raises(TypeError, match="only float tensors"):
        mg.zeros(2, dtype="int64", requires_grad=True)


# ----------------------------------------------------------------------------- creation: dtypes


@pytest.mark.parametrize("data, dtype", [
    ([1.0, 2.0], np.float32),
    ([1, 2.5], np.float32),
    (3.0, np.float32),
    ([[1, 2], [3, 4]], np.int64),
    (7, np.int64),
    ([True, False], np.bool_),
    (np.array([1.0, 2.0]), np.float64),
    (np.float64(1.5), np.float64),
    (np.array([1.0], dtype=np.float32), np.float32),
    (np.array([1.0], dtype=np.float16), np.float32),
    (np.array([1, 2], dtype=np.int32), np.int32),
    (np.array([1, 2], dtype=np.uint8), np.uint8),
    (np.array([True]), np.bool_),
])
def test_default_dtypes(data, dtype):
    t = mg.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data).astype(dtype))


@pytest.mark.parametrize("spelling", ["float64", np.float64, mg.float64, np.dtype("float64")])
def test_float64_on_request(spelling):
    assert mg.tensor([1.0, 2.0], dtype=spelling).dtype == np.float64
    assert mg.zeros(2, dtype=spelling).dtype == np.float64
    assert mg.randn(2, dtype=spelling).dtype == np.float64
    assert mg.tensor(np.ones(2, dtype=np.float32), dtype=spelling).dtype == np.float64


def test_explicit_dtype_converts_data():
    assert mg.tensor(np.arange(3.0), dtype="float32").dtype == np.float32
    t = mg.tensor([1.7, 2.2], dtype="int64")
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.numpy(), [1, 2])


@pytest.mark.parametrize("data, word", [
    ([1 + 2j], "complex128"),
    (np.array([1, 2], dtype=np.complex64), "complex64"),
    (np.array([1, None], dtype=object), "object"),
    (["a", "b"], "<U1"),
    ("text", "<U4"),
    ([[1, 2], [3]], "cannot make a tensor from list"),
    ({"a": 1}, "dict"),
])
def test_unsupported_data_is_a_one_line_type_error(data, word):
    with pytest.raises(TypeError) as err:
        mg.tensor(data)
    message = one_line(err)
    assert word in message and "tensor" in message


@pytest.mark.parametrize("dtype", ["complex64", np.complex128, object, "str", "float16", "not-a-dtype"])
def test_unsupported_dtype_argument_is_a_one_line_type_error_naming_dtype(dtype):
    for make in (lambda: mg.tensor([1.0], dtype=dtype), lambda: mg.zeros(2, dtype=dtype),
                 lambda: mg.ones(2, dtype=dtype), lambda: mg.ones(2).astype(dtype)):
        with pytest.raises(TypeError) as err:
            make()
        assert one_line(err).startswith("dtype must be one of float32, float64")


def test_dtype_constants():
    assert mg.float32 == np.float32 and mg.float64 == np.float64 and mg.int64 == np.int64
    assert mg.bool_ == np.bool_ and mg.uint8 == np.uint8 and mg.int32 == np.int32
    assert mg.int8 == np.int8 and mg.int16 == np.int16


# ----------------------------------------------------------------------------- copies


def test_tensor_copies_a_numpy_array_both_ways():
    source = np.array([1.0, 2.0, 3.0])
    t = mg.tensor(source)
    source[0] = 100.0
    assert t.numpy()[0] == 1.0
    with mg.no_grad():
        t[1] = 50.0
    assert source[1] == 2.0


def test_tensor_of_a_tensor_copies():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor(a)
    assert not np.shares_memory(a.data, b.data)
    assert not b.requires_grad and b.dtype == np.float32


def test_tensor_of_a_list_does_not_alias_it():
    values = [[1.0, 2.0]]
    t = mg.tensor(values)
    values[0][0] = 9.0
    assert t.tolist() == [[1.0, 2.0]]


def test_numpy_returns_a_copy():
    t = mg.tensor([1.0, 2.0])
    arr = t.numpy()
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32
    arr[0] = 42.0
    assert t.tolist() == [1.0, 2.0]


def test_np_array_of_a_tensor_copies_and_np_asarray_converts():
    t = mg.tensor([1.0, 2.0])
    copied = np.array(t)
    copied[0] = 42.0
    assert t.tolist() == [1.0, 2.0]
    viewed = np.asarray(t)
    np.testing.assert_array_equal(viewed, [1.0, 2.0])
    assert viewed.dtype == np.float32
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.add(np.asarray(t), 1), [2.0, 3.0])


# ----------------------------------------------------------------------------- conversion


def test_item_and_python_numbers():
    assert mg.tensor(2.5).item() == 2.5
    assert mg.tensor([[3.0]]).item() == 3.0
    assert isinstance(mg.tensor(3).item(), int)
    assert isinstance(mg.tensor(3.0).item(), float)
    assert float(mg.tensor([1.5])) == 1.5
    assert int(mg.tensor(7)) == 7
    assert bool(mg.tensor(1.0)) and not bool(mg.tensor([0]))


def test_multi_element_conversions_are_errors():
    t = mg.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"item\(\) needs a tensor with one element; this one has shape \(2,\)"):
        t.item()
    with pytest.raises(ValueError, match="one element"):
        float(t)
    with pytest.raises(ValueError, match="one element"):
        int(t)
    with pytest.raises(ValueError, match=r"truth value of a tensor of shape \(2,\) is ambiguous"):
        bool(t)
    with pytest.raises(ValueError, match="ambiguous"):
        if t > 0:
            pass


def test_tolist():
    assert mg.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert mg.tensor(2.0).tolist() == 2.0
    assert mg.tensor([True]).tolist() == [True]


def test_properties():
    t = mg.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.size == 24
    assert t.dtype == np.float32 and t.device == "cpu" and t.is_leaf
    assert not t.requires_grad and t.grad is None
    assert isinstance(t.shape, tuple) and isinstance(t.size, int)


def test_len():
    assert len(mg.zeros(5, 2)) == 5
    assert len(mg.tensor([1.0])) == 1
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(mg.tensor(1.0))


def test_detach():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf and y.tolist() == [2.0, 4.0]


def test_to_cpu():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for y in (x.to("cpu"), x.cpu(), x.to("CPU"), mg.tensor(x, device="cpu")):
        assert y.device == "cpu" and y.tolist() == [1.0, 2.0] and y.dtype == np.float32
    assert x.to("cpu").requires_grad


def test_unknown_device_is_an_error():
    with pytest.raises(mg.DeviceError, match="device must be 'cpu' or 'cuda', got 'tpu'"):
        mg.ones(2).to("tpu")
    with pytest.raises(mg.DeviceError, match="device must be"):
        mg.zeros(2, device=3)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_cuda_without_cupy_says_how_to_install_it():
    with pytest.raises(mg.DeviceError, match=r"needs CuPy.*pip install"):
        mg.ones(2).cuda()
    assert mg.get_default_device() == "cpu"


def test_astype_float_double_long():
    x = mg.tensor([1.5, -2.5])
    assert x.double().dtype == np.float64
    assert x.double().float().dtype == np.float32
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, -2]
    assert x.astype("int32").dtype == np.int32


def test_any_all():
    t = mg.tensor([[True, False], [True, True]])
    assert not t.all().item() and t.any().item()
    assert t.all(axis=1).tolist() == [False, True]
    assert (mg.tensor([1.0, 2.0]) > 0).all().item()


# ----------------------------------------------------------------------------- printing


def test_repr():
    t = mg.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert repr(t) == "tensor([[1.5, 2. ],\n        [3. , 4. ]], dtype=float32)"
    assert repr(mg.tensor(2.5, dtype="float64")) == "tensor(2.5, dtype=float64)"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2], dtype=int64)"
    assert repr(mg.ones(2, requires_grad=True)) == "tensor([1., 1.], dtype=float32, requires_grad=True)"
    assert repr(mg.nn.Parameter(mg.zeros(1))).startswith("Parameter tensor([0.], dtype=float32")
    assert str(t) == repr(t)


def test_repr_of_a_large_tensor_is_summarised():
    text = repr(mg.zeros(100, 100))
    assert "..." in text and len(text) < 2000


# ----------------------------------------------------------------------------- seeding


@pytest.mark.parametrize("make", [lambda: mg.randn(3, 4), lambda: mg.rand(5), lambda: mg.randint(0, 100, 6),
                                  lambda: mg.randn_like(mg.zeros(3)), lambda: mg.rand(2, dtype="float64")])
def test_manual_seed_makes_draws_reproducible(make):
    mg.manual_seed(123)
    first = make().numpy()
    second = make().numpy()
    mg.manual_seed(123)
    np.testing.assert_array_equal(make().numpy(), first)
    np.testing.assert_array_equal(make().numpy(), second)
    assert not np.array_equal(first, second)
    mg.manual_seed(124)
    assert not np.array_equal(make().numpy(), first)


def test_float32_and_float64_draws_agree_after_the_same_seed():
    mg.manual_seed(5)
    a = mg.randn(4).numpy()
    mg.manual_seed(5)
    b = mg.randn(4, dtype="float64").numpy()
    np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("bad", [-1, 1.5, "1", True])
def test_manual_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        mg.manual_seed(bad)


def test_manual_seed_returns_the_generator():
    gen = mg.manual_seed(9)
    assert isinstance(gen, np.random.Generator)
    assert mg.random.initial_seed() == 9


# ----------------------------------------------------------------------------- identity


def test_tensors_are_hashable_by_identity():
    a, b = mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0])
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"
    assert a in {a} and b not in {a}
    assert hash(a) == hash(a) and hash(a) != hash(b)
    params = mg.nn.Linear(2, 2)
    assert len(set(params.parameters())) == 2


def test_equality_is_elementwise():
    a, b = mg.tensor([1.0, 2.0, 3.0]), mg.tensor([1.0, 0.0, 3.0])
    eq = a == b
    assert isinstance(eq, mg.Tensor) and eq.dtype == np.bool_
    assert eq.tolist() == [True, False, True]
    assert (a != b).tolist() == [False, True, False]
    assert (a == 2.0).tolist() == [False, True, False]
    assert (a < b).tolist() == [False, False, False] and (a >= b).tolist() == [True, True, True]
    with pytest.raises(ValueError, match="ambiguous"):
        bool(a == b)
    assert bool(mg.tensor([1.0]) == mg.tensor([1.0]))
