"""The CuPy stand-in: it must refuse NumPy exactly where CuPy does, and otherwise compute like NumPy."""

from __future__ import annotations

import copy
import operator
import pickle
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad import backend
from minigrad.testing import fake_cuda, fakecupy

IMPLICIT = "Implicit conversion to a NumPy array is not allowed"


@pytest.fixture
def x() -> fakecupy.ndarray:
    return fakecupy.arange(6.0).reshape(2, 3)


def host(a):
    """NumPy copy of a device array, checking on the way that it *is* a device array."""
    assert isinstance(a, fakecupy.ndarray), type(a)
    return a.get()


# --- refusals: every way NumPy could quietly pull device data to the host ----------------------------------

CONVERSIONS = {
    "np.asarray": lambda a: np.asarray(a),
    "np.array": lambda a: np.array(a),
    "np.array(list)": lambda a: np.array([a, a]),
    "np.asanyarray": lambda a: np.asanyarray(a),
    "np.ascontiguousarray": lambda a: np.ascontiguousarray(a),
    "np.float64()": lambda a: np.float64(a),
    "numpy index": lambda a: np.arange(6)[a.astype(int)],
    "numpy setitem": lambda a: np.zeros((2, 3)).__setitem__(slice(None), a),
    "np.testing": lambda a: np.testing.assert_allclose(a, 0),
}


@pytest.mark.parametrize("convert", CONVERSIONS.values(), ids=CONVERSIONS.keys())
def test_implicit_conversion_raises_cupys_error(x, convert):
    with pytest.raises(TypeError, match=IMPLICIT):
        convert(x)


NUMPY_CALLS = {
    "np.exp": lambda a: np.exp(a),
    "np.add": lambda a: np.add(a, a),
    "np.maximum(a, 0)": lambda a: np.maximum(a, 0),
    "np.add.reduce": lambda a: np.add.reduce(a),
    "np.sum": lambda a: np.sum(a),
    "np.mean": lambda a: np.mean(a),
    "np.concatenate": lambda a: np.concatenate([a, a]),
    "np.where": lambda a: np.where(a > 1, a, 0),
    "np.zeros_like": lambda a: np.zeros_like(a),
    "np.linalg.norm": lambda a: np.linalg.norm(a),
}


@pytest.mark.parametrize("call", NUMPY_CALLS.values(), ids=NUMPY_CALLS.keys())
def test_numpy_functions_on_device_arrays_raise(x, call):
    with pytest.raises(TypeError, match=IMPLICIT):
        call(x)


def _iadd_host(a):
    h = np.zeros((2, 3))
    h += a


def _iadd_device(a):
    a += np.ones((2, 3))


MIXING = {
    "numpy + x": lambda a: np.ones((2, 3)) + a,
    "x + numpy": lambda a: a + np.ones((2, 3)),
    "x * 0-d numpy": lambda a: a * np.array(2.0),
    "0-d numpy * x": lambda a: np.array(2.0) * a,
    "numpy += x": _iadd_host,
    "x += numpy": _iadd_device,
    "x == numpy": lambda a: a == np.ones(3),
    "xp.add(x, numpy)": lambda a: fakecupy.add(a, np.ones(3)),
    "xp.concatenate": lambda a: fakecupy.concatenate([a, np.ones((1, 3))]),
    "xp.matmul": lambda a: fakecupy.matmul(np.ones((3, 2)), a),
    "out=numpy": lambda a: fakecupy.exp(a, out=np.empty((2, 3))),
    "x.dot(numpy)": lambda a: a.dot(np.ones(3)),
    "x[...] = numpy": lambda a: a.__setitem__(Ellipsis, np.ones((2, 3))),
    "xp.add.at(numpy)": lambda a: fakecupy.add.at(np.zeros(3), [0], a[0]),
}


@pytest.mark.parametrize("mix", MIXING.values(), ids=MIXING.keys())
def test_mixing_host_arrays_raises(x, mix):
    with pytest.raises(TypeError, match=re.escape("numpy.ndarray")):
        mix(x)


OTHER_REFUSALS = {  # name: (call, what the TypeError says)
    # NumPy's own words, as CuPy passes them on: "only 0-dimensional ..." (2.3+), "only length-1 ..." (2.2)
    "float(ndim 1)": (lambda a: float(a[0]), "arrays can be converted to Python scalars"),
    "int(ndim 2)": (lambda a: int(a), "arrays can be converted to Python scalars"),
    "list operand": (lambda a: operator.add(a, [1, 2, 3]), "Unsupported type <class 'list'>"),
    "xp ufunc list": (lambda a: fakecupy.multiply(a, [1, 2, 3]), "Unsupported type <class 'list'>"),
    "setitem list": (lambda a: a.__setitem__(0, [1, 2, 3]), "Unsupported type <class 'list'>"),
    "x == None": (lambda a: a == None, "NoneType"),  # noqa: E711
    "no __index__": (lambda a: [1, 2, 3][a[0, 1].astype(int)], "list indices"),
    "object dtype": (lambda a: fakecupy.array([a[0], a[0, :2]], dtype=object), "Unsupported dtype object"),
    "string dtype": (lambda a: fakecupy.asarray(["a", "b"]), "Unsupported dtype <U1"),
    "len(0-d)": (lambda a: len(a[0, 0]), "unsized"),
    "iter(0-d)": (lambda a: iter(a[0, 0]), "0-d"),
    "memoryview": (lambda a: memoryview(a), "bytes-like"),
}


@pytest.mark.parametrize(("bad", "message"), OTHER_REFUSALS.values(), ids=OTHER_REFUSALS.keys())
def test_other_cupy_refusals(x, bad, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        bad(x)


def test_truth_value_of_many_elements_is_ambiguous(x):
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x > 0)


# --- what CuPy does allow -----------------------------------------------------------------------------------

@pytest.mark.parametrize("scalar", [2, 2.5, True, np.float32(2.5), np.float64(-1.5), np.int64(3)])
@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.lt,
                                operator.ge, operator.eq, operator.pow])
def test_python_and_numpy_scalars_work_on_either_side(scalar, op):
    a = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    d = fakecupy.asarray(a)
    for got, want in ((op(d, scalar), op(a, scalar)), (op(scalar, d), op(scalar, a))):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(host(got), want)


def test_size_one_conversions_are_allowed_and_give_python_objects(x):
    s = x.sum()
    assert float(s) == 15.0 and int(x[1, 2]) == 5 and bool(x[0, 1]) and complex(s) == 15 + 0j
    assert type(s.item()) is float and x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert f"{s:.1f}" == "15.0" and repr(x) == repr(x.get())  # CuPy prints like NumPy


def test_reductions_and_scalar_indexing_give_0d_device_arrays(x):
    results = [x.sum(), x.max(), x.argmin(), x.mean(), x.var(), fakecupy.sum(x), fakecupy.max(x),
               fakecupy.linalg.norm(x), x[1, 2], x[1][2], (x[0, 0] == x[0, 0]), list(x[0])[1], x.prod()]
    for r in results:
        assert isinstance(r, fakecupy.ndarray) and r.ndim == 0
    assert [r.item() for r in results[:3]] == [15.0, 5.0, 0]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), op=st.sampled_from([operator.add, operator.sub, operator.mul, operator.truediv,
                                           operator.floordiv, operator.le, operator.ne, fakecupy.maximum,
                                           fakecupy.arctan2, fakecupy.hypot]))
def test_binary_ops_broadcast_like_numpy(data, op):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    elements = st.floats(-100, 100, allow_nan=False, allow_subnormal=False)
    a, b = (data.draw(hnp.arrays(np.float64, s, elements=elements)) for s in shapes.input_shapes)
    np_op = getattr(np, op.__name__) if isinstance(op, type(fakecupy.maximum)) else op
    with np.errstate(all="ignore"):  # inf and nan must match too
        want = np.asarray(np_op(a, b))
        got = op(fakecupy.asarray(a), fakecupy.asarray(b))
    assert got.shape == want.shape == shapes.result_shape and got.dtype == want.dtype
    np.testing.assert_array_equal(host(got), want)


@pytest.mark.parametrize("op", ["__iadd__", "__isub__", "__imul__", "__itruediv__", "__ipow__"])
def test_inplace_ops_mutate_the_same_array_and_its_base(x, op):
    want = x.get()
    getattr(want[1], op)(2.0)
    row = x[1]
    assert getattr(row, op)(2.0) is row
    np.testing.assert_array_equal(host(x), want)


def test_views_share_memory_with_their_base(x):
    x.T[0, 1] = -1.0  # x[1, 0]
    x[:, 2] *= 10
    cell = x[0, 0]  # a 0-d view, as in CuPy
    cell += 7
    x[1, 1] += 100  # get a 0-d view, add in place, set back
    x.reshape(-1)[4] -= 1
    fakecupy.lib.stride_tricks.as_strided(x, (2,), (8,))[1] = 42.0  # x[0, 1]
    np.testing.assert_array_equal(host(x), [[7.0, 42.0, 20.0], [-1.0, 103.0, 50.0]])
    assert x[0].base is not None and x.copy().base is None


def test_indexing_matches_numpy(x):
    a = x.get()
    idx, mask = np.array([1, 0, 1]), a > 2.5
    cases = [
        (x[fakecupy.asarray(idx) % 2], a[idx % 2]),
        (x[:, fakecupy.asarray(idx)], a[:, idx]),
        (x[idx], a[idx]),  # host index arrays are copied to the device, as in CuPy
        (x[x > 2.5], a[mask]),
        (x[fakecupy.asarray([1, 0]), fakecupy.asarray([2, 2])], a[[1, 0], [2, 2]]),
        (x[None, ..., ::-1], a[None, ..., ::-1]),
        (x[[0, 1], 1:], a[[0, 1], 1:]),
    ]
    for got, want in cases:
        np.testing.assert_array_equal(host(got), want)


def test_setitem_takes_device_arrays_scalars_and_masks(x):
    a = x.get()
    x[x > 3] = 0.5
    x[fakecupy.asarray([0]), 0] = fakecupy.asarray([9.0])
    x[0, 1:] = fakecupy.asarray([7.0, 8.0])
    x[1, 0] = np.float32(-2)
    x[1, 1] = np.array(6.0)  # 0-d host arrays are scalars to CuPy's fill
    a[a > 3] = 0.5
    a[0] = [9.0, 7.0, 8.0]
    a[1, :2] = [-2.0, 6.0]
    np.testing.assert_array_equal(host(x), a)


def test_len_iter_and_attributes(x):
    a = x.get()
    assert len(x) == 2 and [host(r).tolist() for r in x] == a.tolist()
    for name in ("shape", "dtype", "ndim", "size", "nbytes", "strides", "itemsize"):
        assert getattr(x, name) == getattr(a, name), name
    assert x.flags.c_contiguous and not x.T.flags.c_contiguous
    assert x.device == fakecupy.cuda.Device(0) and +x is x
    np.testing.assert_array_equal(host(x.T), a.T)
    np.testing.assert_array_equal(host((x + 1j * x).imag), a)


METHODS = [
    ("reshape", (3, 2)), ("reshape", ((-1,),)), ("transpose", ()), ("transpose", (1, 0)),
    ("swapaxes", (0, 1)),
    ("sum", (0,)), ("mean", (1,)), ("max", (0,)), ("min", ()), ("argmax", (1,)), ("argmin", (0,)),
    ("var", ()), ("std", (1,)), ("astype", (np.float32,)), ("copy", ()), ("ravel", ()), ("flatten", ()),
    ("clip", (1.0, 4.0)), ("any", (0,)), ("all", (1,)), ("cumsum", (1,)), ("prod", (0,)), ("round", ()),
    ("take", ([2, 0],)), ("repeat", (2,)), ("diagonal", ()), ("argsort", ()), ("view", (np.int64,)),
]


@pytest.mark.parametrize(("name", "args"), METHODS, ids=[f"{m}{a}" for m, a in METHODS])
def test_methods_match_numpy(x, name, args):
    want = getattr(x.get(), name)(*args)
    got = getattr(x, name)(*args)
    assert got.dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(host(got), want)


def test_methods_with_keywords_squeeze_fill_nonzero_dot(x):
    np.testing.assert_array_equal(host(x.sum(axis=1, keepdims=True)), [[3.0], [12.0]])
    np.testing.assert_array_equal(host(x[None].squeeze(0)), x.get())
    rows, cols = (x > 3).nonzero()
    assert (host(rows).tolist(), host(cols).tolist()) == ([1, 1], [1, 2])
    np.testing.assert_array_equal(host(x.dot(x.T)), x.get() @ x.get().T)
    np.testing.assert_array_equal(host(x @ x.T), x.get() @ x.get().T)
    assert x.astype(x.dtype, copy=False) is x  # no copy needed: the same array, as in CuPy
    y = x.copy()
    y.fill(3.0)
    assert host(y).tolist() == [[3.0] * 3] * 2 and host(x)[0, 0] == 0.0


# --- module functions ---------------------------------------------------------------------------------------

def test_module_functions_forward_and_wrap(x):
    a = x.get()
    xp = fakecupy
    np.testing.assert_array_equal(host(xp.einsum("ij,kj->ik", x, x)), np.einsum("ij,kj->ik", a, a))
    np.testing.assert_array_equal(host(xp.tensordot(x, x, axes=([1], [1]))), a @ a.T)
    np.testing.assert_array_equal(host(xp.pad(x, ((1, 0), (0, 2)))), np.pad(a, ((1, 0), (0, 2))))
    np.testing.assert_array_equal(host(xp.where(x > 2, x, -x)), np.where(a > 2, a, -a))
    order = xp.argsort(-x, axis=1)
    np.testing.assert_array_equal(host(xp.take_along_axis(x, order, axis=1)), -np.sort(-a, axis=1))
    xp.put_along_axis(x, order[:, :1], 0.0, axis=1)
    assert host(x).max(axis=1).tolist() == [1.0, 4.0]
    parts = xp.split(xp.arange(6), 3)
    assert isinstance(parts, list) and all(isinstance(p, xp.ndarray) for p in parts)
    values, counts = xp.unique(xp.asarray([3, 1, 3]), return_counts=True)
    assert host(values).tolist() == [1, 3] and host(counts).tolist() == [1, 2]
    u, s, vh = xp.linalg.svd(xp.eye(2) * 3)  # a namedtuple of device arrays
    assert host(s).tolist() == [3.0, 3.0] and isinstance(u, xp.ndarray) and isinstance(vh, xp.ndarray)
    assert xp.float32 is np.float32 and xp.newaxis is None and xp.pi == np.pi
    assert xp.zeros(3, dtype=xp.float32).dtype == np.float32


def test_results_that_are_inputs_keep_their_identity(x):
    out = fakecupy.empty_like(x)
    assert fakecupy.add(x, 1, out=out) is out
    assert fakecupy.asarray(x) is x and fakecupy.asarray(x, dtype=np.float32) is not x
    np.testing.assert_array_equal(host(out), x.get() + 1)


def test_ufunc_methods():
    xp = fakecupy
    acc = xp.zeros(4)
    xp.add.at(acc, xp.asarray([0, 0, 2]), xp.asarray([1.0, 2.0, 5.0]))  # repeated indices accumulate
    xp.add.at(acc, np.array([3]), 1.0)  # host indices are fine, as in CuPy
    assert host(acc).tolist() == [3.0, 0.0, 5.0, 1.0]
    m = xp.arange(8.0).reshape(2, 4)
    np.testing.assert_array_equal(host(xp.maximum.reduce(m, axis=0)), [4.0, 5.0, 6.0, 7.0])
    np.testing.assert_array_equal(host(xp.add.reduceat(xp.arange(8), [0, 4, 6])), [6, 9, 13])
    np.testing.assert_array_equal(host(xp.multiply.outer(xp.arange(2), xp.arange(3))), [[0, 0, 0], [0, 1, 2]])
    assert xp.add.nin == 2 and xp.add.__name__ == "add"


def test_asarray_copies_host_data_and_accepts_lists_of_device_arrays():
    h = np.arange(3.0)
    d = fakecupy.asarray(h)
    d += 1  # a real device copy: the host array is untouched
    assert h.tolist() == [0.0, 1.0, 2.0] and host(d).tolist() == [1.0, 2.0, 3.0]
    stacked = fakecupy.asarray([d, d * 2])
    assert host(stacked).tolist() == [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]
    assert host(fakecupy.asarray(2.5)).ndim == 0
    assert host(fakecupy.array([[1, 2]], dtype=np.int8)).dtype == np.int8


def test_asnumpy_and_get_round_trip_as_copies(x):
    for h in (fakecupy.asnumpy(x), x.get()):
        assert type(h) is np.ndarray and h.tolist() == x.tolist()
        h[0, 0] = 99.0
    assert x[0, 0].item() == 0.0
    out = np.empty((2, 3))
    assert x.get(out=out) is out and out[1, 2] == 5.0
    assert fakecupy.asnumpy([1, 2]).tolist() == [1, 2]


def test_get_array_module():
    assert fakecupy.get_array_module(np.ones(2), fakecupy.ones(2)) is fakecupy
    assert fakecupy.get_array_module(np.ones(2), 3.0) is np


def test_random_forwards_and_wraps():
    xp = fakecupy
    xp.random.seed(7)
    first = host(xp.random.rand(3))
    np.random.seed(7)
    assert first.tolist() == np.random.rand(3).tolist()
    for draw in (xp.random.randn(2, 2), xp.random.random(3), xp.random.standard_normal(2),
                 xp.random.uniform(0, 1, 4), xp.random.normal(size=2), xp.random.permutation(5)):
        assert isinstance(draw, xp.ndarray)
    rng = xp.random.default_rng(0)
    got = rng.standard_normal((2, 3), dtype=np.float32)
    want = np.random.default_rng(0).standard_normal((2, 3), dtype=np.float32)
    np.testing.assert_array_equal(host(got), want)
    assert isinstance(rng.integers(0, 5, size=3), xp.ndarray)


def test_cuda_stubs_fuse_and_pickling(x):
    xp = fakecupy
    assert xp.cuda.runtime.getDeviceCount() == 1 and xp.cuda.is_available()
    with xp.cuda.Device(0) as dev:
        dev.synchronize()
    assert xp.cuda.Stream.null.synchronize() is None
    assert xp.get_default_memory_pool().free_all_blocks() is None

    def square(v):
        return v * v
    assert xp.fuse(square) is square and xp.fuse(kernel_name="sq")(square) is square
    for clone in (pickle.loads(pickle.dumps(x)), copy.copy(x), copy.deepcopy(x)):
        assert clone is not x and host(clone).tolist() == x.tolist()
    with pytest.raises(AttributeError, match="not emulated"):
        xp.RawKernel  # noqa: B018
    assert "fakecupy.ndarray" in str(type(x)) and isinstance(x, xp.ndarray) and not isinstance(x, np.ndarray)


# --- minigrad integration -----------------------------------------------------------------------------------

def test_fake_cuda_registers_and_unregisters():
    h = np.arange(4.0)
    with fake_cuda() as xp:
        assert xp is fakecupy
        d = backend.to_device(h, "cuda")
        assert backend.get_array_module(d) is fakecupy and backend.device_of(d) == "cuda"
        back = backend.to_device(d, "cpu")
        assert type(back) is np.ndarray and back.tolist() == h.tolist()
        assert backend.to_device(d, "cuda") is d and backend.array_module("cuda") is fakecupy
    assert backend.get_array_module(d) is np  # unregistered: no longer a known device array


def test_fake_cuda_unregisters_on_error():
    with pytest.raises(RuntimeError), fake_cuda():
        raise RuntimeError("boom")
    assert backend.device_of(fakecupy.ones(1)) == "cpu"
