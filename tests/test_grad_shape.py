"""Float64 gradient checks over whole tensors: shape ops, indexing, joining, padding, casts."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import (
    GRAD_SETTINGS,
    assert_forward,
    assert_gradients_match,
    f64,
    shapes,
    values,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

# ----------------------------------------------------------------------------- shape ops

@GRAD_SETTINGS
@given(data=st.data(), shape=shapes)
def test_reshape(data, shape):
    size = int(np.prod(shape))
    target = data.draw(st.sampled_from([(-1,), (size,), tuple(reversed(shape)), (1, *shape), (size, 1),
                                        (-1, 1)]))
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.reshape(target), [f64(x_np)])
    assert_forward(out, x_np.reshape(target), "float64")
    out = assert_gradients_match(lambda x: x.reshape(*target), [f64(x_np)])
    assert_forward(out, x_np.reshape(target), "float64")
    assert_forward(mg.reshape(f64(x_np), target), x_np.reshape(target))
    assert_forward(f64(x_np).view(target), x_np.reshape(target))


def test_reshape_errors():
    with pytest.raises(ValueError, match=r"cannot view 6 values of shape \(2, 3\) as \(4, 2\)"):
        mg.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match="cannot view"):
        mg.ones(2, 3).reshape(-1, -1)
    with pytest.raises(TypeError, match="shape must be ints"):
        mg.ones(2, 3).reshape(2.0, 3)


@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=2, max_dims=4, max_side=3))
def test_transpose_and_permute(data, shape):
    ndim = len(shape)
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.transpose(), [f64(x_np)])
    assert_forward(out, x_np.transpose(), "float64")
    assert_forward(f64(x_np).T, x_np.T)
    i, j = data.draw(st.integers(-ndim, ndim - 1)), data.draw(st.integers(-ndim, ndim - 1))
    out = assert_gradients_match(lambda x: mg.transpose(x, i, j), [f64(x_np)])
    assert_forward(out, np.swapaxes(x_np, i, j), "float64")
    order = tuple(data.draw(st.permutations(range(ndim))))
    out = assert_gradients_match(lambda x: x.permute(*order), [f64(x_np)])
    assert_forward(out, x_np.transpose(order), "float64")
    negative = tuple(a - ndim for a in order)
    out = assert_gradients_match(lambda x: mg.permute(x, negative), [f64(x_np)])
    assert_forward(out, x_np.transpose(order), "float64")


def test_permute_and_transpose_errors():
    with pytest.raises(ValueError, match="not an ordering"):
        mg.ones(2, 3).permute(0, 0)
    with pytest.raises(ValueError, match="not an ordering"):
        mg.ones(2, 3, 4).permute(1, 0)
    with pytest.raises(ValueError, match="use permute"):
        mg.ones(2, 3, 4).transpose(2, 0, 1)


@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=3))
def test_flatten(data, shape):
    ndim = len(shape)
    start = data.draw(st.integers(0, ndim - 1))
    end = data.draw(st.integers(start, ndim - 1))
    expected_shape = (*shape[:start], int(np.prod(shape[start:end + 1])), *shape[end + 1:])
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.flatten(start, end - ndim), [f64(x_np)])
    assert_forward(out, x_np.reshape(expected_shape), "float64")
    assert_forward(mg.flatten(f64(x_np)), x_np.reshape(-1))
    assert mg.flatten(f64(2.0)).shape == (1,)


@GRAD_SETTINGS
@given(data=st.data(), shape=shapes)
def test_squeeze_and_unsqueeze(data, shape):
    ndim = len(shape)
    axis = data.draw(st.integers(-(ndim + 1), ndim))
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.unsqueeze(axis), [f64(x_np)])
    assert_forward(out, np.expand_dims(x_np, axis), "float64")
    assert_forward(mg.unsqueeze(f64(x_np), axis), np.expand_dims(x_np, axis))
    padded = np.expand_dims(x_np, axis)
    out = assert_gradients_match(lambda x: x.squeeze(axis), [f64(padded)])
    assert_forward(out, np.squeeze(padded, axis), "float64")
    out = assert_gradients_match(lambda x: mg.squeeze(x), [f64(padded)])
    assert_forward(out, np.squeeze(padded), "float64")


def test_squeeze_of_a_non_unit_axis_is_an_error():
    with pytest.raises(ValueError, match="not of size 1"):
        mg.ones(2, 3).squeeze(1)


@st.composite
def broadcast_target(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    shape = tuple(draw(st.sampled_from([1, n])) for n in shape)  # plenty of 1s to broadcast
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    target = (*lead, *(draw(st.integers(1, 3)) if n == 1 else n for n in shape))
    return shape, target


@GRAD_SETTINGS
@given(data=st.data(), case=broadcast_target())
def test_broadcast_to(data, case):
    shape, target = case
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.broadcast_to(target), [f64(x_np)])
    assert_forward(out, np.broadcast_to(x_np, target), "float64")
    out = assert_gradients_match(lambda x: mg.broadcast_to(x, *target), [f64(x_np)])
    assert out.shape == target


def test_broadcast_to_error():
    with pytest.raises(ValueError, match=r"\(2, 3\) does not broadcast to \(4, 3\)"):
        mg.ones(2, 3).broadcast_to(4, 3)


# ----------------------------------------------------------------------------- indexing

SHAPE = (4, 5, 3)
INDICES = {
    "int": 1,
    "negative int": -1,
    "ints": (1, 2),
    "three ints": (3, -1, 0),
    "slice": slice(1, 3),
    "negative step": slice(None, None, -1),
    "strided negative step": (slice(None), slice(4, 0, -2)),
    "ellipsis": (Ellipsis, 1),
    "none": (None, 1, Ellipsis, None),
    "int none reversed": (1, None, slice(None, None, -1)),
    "empty slice": slice(2, 2),
    "list": [3, 1],
    "repeated list": [0, 0, 1],
    "int array": np.array([0, 2, 2]),
    "2d int array": np.array([[0, 1], [1, 3]]),
    "paired arrays": (np.array([0, 1, 1]), np.array([4, 4, 0])),
    "slice and list": (slice(None), [0, 0, 3]),
    "slice and negative list": (slice(1, None), [-1, 0, -1], 2),
    "bool mask": np.array([True, False, True, True]),
    "bool mask last axis": (Ellipsis, np.array([True, False, True])),
    "full bool mask": "full mask",
    "int tensor": "int tensor",
    "bool tensor": "bool tensor",
}


def _index(name: str, x_np: np.ndarray):
    index = INDICES[name]
    if not isinstance(index, str):
        return index, index
    if index == "full mask":
        return x_np > 0, x_np > 0
    if index == "int tensor":
        return mg.tensor([0, 3, 3]), np.array([0, 3, 3])
    return mg.tensor(np.array([False, True, True, False])), np.array([False, True, True, False])


@pytest.mark.parametrize("name", list(INDICES))
def test_indexing(name, rng):
    x_np = rng.standard_normal(SHAPE)
    index, np_index = _index(name, x_np)
    out = assert_gradients_match(lambda x: x[index], [f64(x_np)])
    assert_forward(out, x_np[np_index], "float64")


@pytest.mark.parametrize("index", [[0, 0, 1], [2, 2, 2, 0], np.array([1, 1]), (Ellipsis, [0, 0])])
def test_repeated_indices_accumulate(index):
    x = mg.tensor(np.arange(12.0).reshape(3, 4), dtype="float64", requires_grad=True)
    out = x[index]
    g = np.arange(1.0, out.size + 1).reshape(out.shape)
    (out * mg.tensor(g, dtype="float64")).sum().backward()
    expected = np.zeros((3, 4))
    np.add.at(expected, index if not isinstance(index, list) else np.array(index), g)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    if isinstance(index, list) and index == [0, 0, 1]:
        np.testing.assert_array_equal(x.grad.numpy()[0], g[0] + g[1])


@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_basic_indices_property(data, shape):
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x[index], [f64(x_np)])
    assert_forward(out, x_np[index], "float64")


@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_integer_array_indices_property(data, shape):
    index = data.draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2,
                                                                                       max_side=4)))
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x[index], [f64(x_np)])
    assert_forward(out, x_np[index], "float64")


def test_index_out_of_range_is_one_line():
    with pytest.raises(IndexError, match=r"for a tensor of shape \(4,\)"):
        mg.ones(4)[7]


# ----------------------------------------------------------------------------- joining and padding

@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
       n_parts=st.integers(1, 3))
def test_concatenate(data, shape, n_parts):
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim, ndim - 1))
    parts_np = []
    for _ in range(n_parts):
        part_shape = list(shape)
        part_shape[axis] = data.draw(st.integers(1, 3))
        parts_np.append(values(data, tuple(part_shape)))
    out = assert_gradients_match(lambda *ps: mg.concatenate(list(ps), axis=axis), [f64(p) for p in parts_np])
    assert_forward(out, np.concatenate(parts_np, axis=axis), "float64")


@GRAD_SETTINGS
@given(data=st.data(), shape=shapes, n_parts=st.integers(1, 3))
def test_stack(data, shape, n_parts):
    ndim = len(shape)
    axis = data.draw(st.integers(-(ndim + 1), ndim))
    parts_np = [values(data, shape) for _ in range(n_parts)]
    out = assert_gradients_match(lambda *ps: mg.stack(ps, axis=axis), [f64(p) for p in parts_np])
    assert_forward(out, np.stack(parts_np, axis=axis), "float64")


def test_concatenate_and_stack_errors():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(2, 4\) differ outside axis 0"):
        mg.concatenate([mg.ones(2, 3), mg.ones(2, 4)])
    with pytest.raises(ValueError, match="needs at least one tensor"):
        mg.concatenate([])
    with pytest.raises(ValueError, match="all tensors need one shape"):
        mg.stack([mg.ones(2), mg.ones(3)])


def test_concatenate_with_a_constant_part(rng):
    a = f64(rng.standard_normal((2, 3)))
    b = f64(rng.standard_normal((1, 3)), requires_grad=False)
    out = assert_gradients_match(lambda a: mg.concatenate([b, a, b]), [a])
    assert out.shape == (4, 3)


@GRAD_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
       value=st.floats(-2, 2))
def test_pad(data, shape, value):
    widths = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in shape)
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: mg.pad(x, widths, value), [f64(x_np)])
    assert_forward(out, np.pad(x_np, widths, constant_values=value), "float64")
    out = assert_gradients_match(lambda x: x.pad(1), [f64(x_np)])
    assert_forward(out, np.pad(x_np, 1), "float64")


def test_pad_error():
    with pytest.raises(ValueError, match="pad_width must give"):
        mg.pad(mg.ones(2, 2), ((1, 1),))
    with pytest.raises(ValueError, match="pad_width must give"):
        mg.pad(mg.ones(2), ((-1, 1),))


# ----------------------------------------------------------------------------- casts

@GRAD_SETTINGS
@given(data=st.data(), shape=shapes)
def test_astype_float64_identity_gradcheck(data, shape):
    x_np = values(data, shape)
    out = assert_gradients_match(lambda x: x.astype("float64") * 2, [f64(x_np)])
    assert_forward(out, 2 * x_np, "float64")
    out = assert_gradients_match(lambda x: x.double(), [f64(x_np)])
    assert_forward(out, x_np, "float64")


def test_cast_between_float_dtypes_sends_the_gradient_back_in_the_input_dtype(rng):
    x32 = mg.tensor(rng.standard_normal((2, 3)), dtype="float32", requires_grad=True)
    g = rng.standard_normal((2, 3))
    y = x32.astype(mg.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * f64(g, requires_grad=False)).sum().backward()
    assert x32.grad.dtype == np.float32
    np.testing.assert_array_equal(x32.grad.numpy(), g.astype(np.float32))

    x64 = f64(rng.standard_normal(3))
    z = x64.float()
    assert z.dtype == np.float32
    (z * 3).sum().backward()
    assert x64.grad.dtype == np.float64
    np.testing.assert_allclose(x64.grad.numpy(), 3.0)


def test_cast_to_integer_leaves_the_graph():
    x = mg.tensor([1.7, -2.2], requires_grad=True)
    n = x.long()
    assert n.dtype == np.int64 and not n.requires_grad
    np.testing.assert_array_equal(n.numpy(), [1, -2])
    with pytest.raises(TypeError, match="dtype must be one of"):
        x.astype("complex64")
