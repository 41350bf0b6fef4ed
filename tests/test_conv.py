"""The reference conv2d/conv1d kernels against naive loops, autograd, finite differences and bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import reference_loops as ref
from gradcheck import assert_gradients_match, f64
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.nn import functional as F
from minigrad.testing import fake_cuda
from solutions import conv, pooling, relu, softmax_ce
from solutions._checks import to_batch_first, to_batch_last
from solutions.conv import conv1d_backward, conv1d_forward, conv2d_backward, conv2d_forward, conv_output_size

small = st.integers(1, 3)
pairs_or_ints = st.one_of(small, st.tuples(small, small))


def as_pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@st.composite
def conv2d_cases(draw):
    """A random small configuration with its explicit per-side padding and arrays."""
    groups, c_g, o_g = draw(st.sampled_from([1, 2])), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(small), draw(small))
    stride = draw(pairs_or_ints)
    dilation = draw(st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    padding = draw(st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)),
                             st.sampled_from(["same", "valid"])))
    s, d = as_pair(stride), as_pair(dilation)
    sizes, pads = [], []
    for axis in range(2):
        span = d[axis] * (kernel[axis] - 1) + 1
        p = 0 if padding in ("same", "valid") else as_pair(padding)[axis]
        size = draw(st.integers(max(1, span - 2 * p), max(1, span - 2 * p) + 4))
        sizes.append(size)
        pads.append(ref.same_padding(size, kernel[axis], s[axis], d[axis]) if padding == "same" else (p, p))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((draw(st.integers(1, 2)), groups * c_g, *sizes))
    w = rng.standard_normal((groups * o_g, c_g, *kernel))
    b = rng.standard_normal(groups * o_g) if draw(st.booleans()) else None
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return x, w, b, options, (s, tuple(pads), d, groups), rng


def expected_out_hw(x, w, s, pads, d):
    return tuple((size + lo + hi - dd * (k - 1) - 1) // ss + 1
                 for size, k, ss, (lo, hi), dd in zip(x.shape[2:], w.shape[2:], s, pads, d))


@settings(max_examples=40, deadline=None)
@given(conv2d_cases())
def test_conv2d_matches_loops_forward_and_backward(case):
    x, w, b, options, (s, pads, d, groups), rng = case
    originals = [a.copy() for a in (x, w) + ((b,) if b is not None else ())]
    out, cache = conv2d_forward(x, w, b, **options)
    assert out.shape == (x.shape[0], w.shape[0], *expected_out_hw(x, w, s, pads, d))
    assert out.dtype == np.float64
    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    ref_out, ref_dx, ref_dw, ref_db = ref.conv2d(x, w, b, s, pads, d, groups, dout=dout)
    ref.assert_matches(out, ref_out)
    dx, dw, db = conv2d_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and dx.dtype == dw.dtype == np.float64
    ref.assert_matches(dx, ref_dx)
    ref.assert_matches(dw, ref_dw)
    if b is None:
        assert db is None
    else:
        assert db.shape == b.shape and db.dtype == np.float64
        ref.assert_matches(db, ref_db)
    for before, after in zip(originals, (x, w, b)):
        np.testing.assert_array_equal(after, before)
    np.testing.assert_array_equal(dout, dout_copy)


@settings(max_examples=25, deadline=None)
@given(conv2d_cases())
def test_conv2d_float32_stays_float32(case):
    x, w, b, options, _, rng = case
    x32, w32 = x.astype(np.float32), w.astype(np.float32)
    b32 = None if b is None else b.astype(np.float32)
    out, cache = conv2d_forward(x32, w32, b32, **options)
    assert out.dtype == np.float32
    dout = rng.standard_normal(out.shape).astype(np.float32)
    grads = conv2d_backward(dout, cache)
    assert all(g.dtype == np.float32 for g in grads if g is not None)
    out64, cache64 = conv2d_forward(x32.astype(np.float64), w32.astype(np.float64),
                                    None if b32 is None else b32.astype(np.float64), **options)
    ref.assert_matches(out, out64, rtol=1e-5)
    for g, g64 in zip(grads, conv2d_backward(dout.astype(np.float64), cache64)):
        if g is not None:
            ref.assert_matches(g, g64, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(groups=st.sampled_from([1, 2]), k=small, stride=small, dilation=st.integers(1, 2),
       padding=st.one_of(st.integers(0, 2), st.sampled_from(["same", "valid"])), extra=st.integers(0, 5),
       bias=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_conv1d_matches_loops(groups, k, stride, dilation, padding, extra, bias, seed):
    rng = np.random.default_rng(seed)
    span = dilation * (k - 1) + 1
    length = max(1, span - 2 * (padding if isinstance(padding, int) else 0)) + extra
    x = rng.standard_normal((2, 2 * groups, length))
    w = rng.standard_normal((3 * groups, 2, k))
    b = rng.standard_normal(3 * groups) if bias else None
    pads = (ref.same_padding(length, k, stride, dilation) if padding == "same"
            else (0, 0) if padding == "valid" else (padding, padding))
    out, cache = conv1d_forward(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    dout = rng.standard_normal(out.shape)
    ref_out, ref_dx, ref_dw, ref_db = ref.conv1d(x, w, b, stride, pads, dilation, groups, dout=dout)
    ref.assert_matches(out, ref_out)
    dx, dw, db = conv1d_backward(dout, cache)
    ref.assert_matches(dx, ref_dx)
    ref.assert_matches(dw, ref_dw)
    assert db is None if b is None else db.shape == b.shape
    if b is not None:
        ref.assert_matches(db, ref_db)


def test_same_padding_keeps_size_and_puts_the_odd_pixel_bottom_right():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, _ = conv2d_forward(x, np.ones((1, 1, 2, 2)), padding="same")  # total padding 1: all after
    assert out.shape == (1, 1, 4, 4)
    assert out[0, 0, 0, 0] == x[0, 0, :2, :2].sum()
    assert out[0, 0, 3, 3] == x[0, 0, 3, 3]
    for k, s, d in [(3, 1, 1), (5, 1, 2), (3, 2, 1), (4, 3, 1)]:
        out, _ = conv2d_forward(np.ones((1, 1, 7, 5)), np.ones((1, 1, k, k)), stride=s, dilation=d,
                                padding="same")
        assert out.shape[2:] == (math.ceil(7 / s), math.ceil(5 / s))


def test_stride_and_dilation_sample_the_right_pixels():
    x = np.arange(49.0).reshape(1, 1, 7, 7)
    corner = np.zeros((1, 1, 3, 3))
    corner[0, 0, 2, 2] = 1.0  # picks x[p·S + 2·D, q·S + 2·D]: cross-correlation, no flip
    out, _ = conv2d_forward(x, corner, stride=2, dilation=(1, 2))
    h_out, w_out = out.shape[2:]
    np.testing.assert_array_equal(out[0, 0], x[0, 0, 2:2 + 2 * h_out - 1:2, 4:4 + 2 * w_out - 1:2])


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 2),
       d=st.integers(1, 2))
def test_conv_output_size_is_the_formula(size, k, s, p, d):
    room = size + 2 * p - d * (k - 1) - 1
    if room < 0:
        with pytest.raises(ValueError, match="kernel_size"):
            conv_output_size(size, k, s, p, d)
        return
    assert conv_output_size(size, k, s, p, d) == room // s + 1
    assert conv_output_size(size, k, s, "same", d) == math.ceil(size / s)
    if room % s:
        with pytest.raises(ValueError, match="stride"):
            conv_output_size(size, k, s, p, d, strict=True)
    else:
        assert conv_output_size(size, k, s, p, d, strict=True) == room // s + 1
    out, _ = conv2d_forward(np.zeros((1, 1, size, 1)), np.zeros((1, 1, k, 1)), stride=(s, 1), padding=(p, 0),
                            dilation=(d, 1))
    assert out.shape[2] == conv_output_size(size, k, s, p, d)


def loss_through_minigrad(fn, arrays, weights):
    tensors = [None if a is None else minigrad.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    (out * minigrad.tensor(weights)).sum().backward()
    return out, [None if t is None else t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("options", [{}, {"stride": 2, "padding": "same", "groups": 2},
                                     {"stride": (1, 2), "padding": (2, 0), "dilation": (2, 1)}])
@pytest.mark.parametrize("bias", [True, False])
def test_minigrad_conv2d_gradients_are_the_kernels_backward(rng, options, bias):
    x, w = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((4, 4 // options.get("groups", 1), 3, 3))
    b = rng.standard_normal(4) if bias else None
    out, cache = conv2d_forward(x, w, b, **options)
    weights = rng.standard_normal(out.shape)
    out_t, grads = loss_through_minigrad(lambda *t: F.conv2d(*t, **options), [x, w, b], weights)
    np.testing.assert_array_equal(out_t.numpy(), out)
    for got, want in zip(grads, conv2d_backward(weights, cache)):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-12)


def test_minigrad_conv1d_layer_gradients_are_the_kernels_backward(rng):
    layer = minigrad.nn.Conv1d(2, 4, 3, stride=2, padding="same", groups=2).double()
    x = rng.standard_normal((3, 2, 9))
    options = {"stride": 2, "padding": "same", "groups": 2}
    out, cache = conv1d_forward(x, layer.weight.numpy(), layer.bias.numpy(), **options)
    weights = rng.standard_normal(out.shape)
    xt = minigrad.tensor(x, requires_grad=True)
    (layer(xt) * minigrad.tensor(weights)).sum().backward()
    dx, dw, db = conv1d_backward(weights, cache)
    np.testing.assert_allclose(xt.grad.numpy(), dx, rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.numpy(), dw, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), db, rtol=1e-12)


@pytest.mark.parametrize("options", [{"padding": 1},
                                     {"stride": 2, "dilation": 2, "padding": "same", "groups": 2}])
def test_conv2d_gradients_match_central_differences(rng, options):
    x = f64(rng.standard_normal((2, 2, 5, 4)))
    w = f64(rng.standard_normal((2, 2 // options.get("groups", 1), 3, 2)))
    b = f64(rng.standard_normal(2))
    assert_gradients_match(lambda *t: F.conv2d(*t, **options), [x, w, b])


@pytest.mark.parametrize("needs", list(itertools.product([True, False], repeat=3)))
def test_conv2d_backward_computes_only_the_gradients_asked_for(rng, needs):
    x, w, b = rng.standard_normal((3, 4, 6, 5)), rng.standard_normal((6, 2, 3, 3)), rng.standard_normal(6)
    out, cache = conv2d_forward(x, w, b, stride=2, padding="same", groups=2)
    dout = rng.standard_normal(out.shape)
    everything = conv2d_backward(dout, cache)
    asked = conv2d_backward(dout, cache, needs_input_grad=needs)
    for name, want, got, needed in zip(["x", "w", "b"], everything, asked, needs):
        if needed:
            assert got.shape == want.shape and got.dtype == want.dtype, name
            np.testing.assert_array_equal(got, want, err_msg=name)
        else:
            assert got is None, name


def test_conv1d_backward_computes_only_the_gradients_asked_for(rng):
    x, w = rng.standard_normal((2, 2, 9)), rng.standard_normal((4, 2, 3))
    out, cache = conv1d_forward(x, w, np.zeros(4), padding=1)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv1d_backward(dout, cache)
    assert conv1d_backward(dout, cache, (False, True, False))[0::2] == (None, None)
    np.testing.assert_array_equal(conv1d_backward(dout, cache, (False, True, False))[1], dw)
    only_dx = conv1d_backward(dout, cache, (True, False, True))
    assert only_dx[1] is None
    np.testing.assert_array_equal(only_dx[0], dx)
    np.testing.assert_array_equal(only_dx[2], db)


@pytest.mark.parametrize("needs", [(True, True), "yes", (1, 1, 1), None])
def test_needs_input_grad_must_be_three_bools(needs):
    _, cache = conv2d_forward(X4, W4, groups=2)
    with pytest.raises(TypeError, match="needs_input_grad must be 3 bools") as info:
        conv2d_backward(np.zeros((2, 6, 4, 4)), cache, needs)
    assert "\n" not in str(info.value)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       pads=st.tuples(*[st.integers(0, 2)] * 4), dtype=st.sampled_from([np.float32, np.float64]))
def test_batch_last_and_back_are_exact_transposes(n, c, h, w, pads, dtype):
    x = np.random.default_rng(n).standard_normal((n, c, h, w)).astype(dtype)
    top, bottom, left, right = pads
    moved = to_batch_last(x, ((top, bottom), (left, right)))
    assert moved.shape == (c, top + h + bottom, left + w + right, n) and moved.dtype == dtype
    inside = moved[:, top:top + h, left:left + w]
    np.testing.assert_array_equal(inside, x.transpose(1, 2, 3, 0))
    back = to_batch_first(inside)
    assert back.shape == x.shape and back.dtype == dtype and back.flags.c_contiguous
    np.testing.assert_array_equal(back, x)
    inside[...] = 0
    assert not moved.any()  # the border was zeros


@pytest.mark.parametrize("shape", [(33, 2, 40, 40), (64, 3, 5, 300), (5, 1, 1, 1)])
def test_layout_copies_split_into_pieces_lose_nothing(rng, shape):
    x = rng.standard_normal(shape)                  # float64, 33 samples: several pieces of each kind
    np.testing.assert_array_equal(to_batch_first(to_batch_last(x, ((1, 0), (0, 2)))[:, 1:, :-2]), x)


X4, W4 = np.zeros((2, 4, 6, 6)), np.zeros((6, 2, 3, 3))  # groups=2 fits these


@pytest.mark.parametrize("change, error, name", [
    ({"x": [[1.0]]}, TypeError, "x"),
    ({"x": X4.astype(np.int64)}, TypeError, "x"),
    ({"x": X4[0]}, ValueError, "x"),
    ({"w": W4[0]}, ValueError, "w"),
    ({"w": W4.astype(np.float32)}, TypeError, "w"),
    ({"b": np.zeros(5)}, ValueError, "b"),
    ({"b": np.zeros(6, np.float32)}, TypeError, "b"),
    ({"w": np.zeros((6, 3, 3, 3))}, ValueError, "channel"),
    ({"groups": 3}, ValueError, "groups"),
    ({"groups": 0}, ValueError, "groups"),
    ({"stride": 0}, ValueError, "stride"),
    ({"stride": (1, -1)}, ValueError, "stride"),
    ({"stride": 1.5}, TypeError, "stride"),
    ({"dilation": 0}, ValueError, "dilation"),
    ({"padding": -1}, ValueError, "padding"),
    ({"padding": "full"}, ValueError, "padding"),
    ({"w": np.zeros((6, 2, 9, 3))}, ValueError, "kernel_size"),
])
def test_conv2d_bad_input_raises_one_line_naming_the_argument(change, error, name):
    args = {"x": X4, "w": W4, "b": None, "groups": 2} | change
    with pytest.raises(error, match=name) as info:
        conv2d_forward(**args)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("call, error, name", [
    (lambda: conv1d_forward(X4, W4), ValueError, "x"),
    (lambda: conv1d_forward(X4[:, :, 0], W4[:, :, 0], stride=(1, 2), groups=2), TypeError, "stride"),
    (lambda: conv_output_size(7, 3, 3, strict=True), ValueError, "stride"),
    (lambda: conv_output_size(2, 5), ValueError, "kernel_size"),
    (lambda: conv_output_size(7, 3, padding=-1), ValueError, "padding"),
    (lambda: conv2d_backward(np.zeros((2, 6, 5, 5)), conv2d_forward(X4, W4, groups=2)[1]),
     ValueError, "dout"),
])
def test_other_bad_input_raises_one_line_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name) as info:
        call()
    assert "\n" not in str(info.value)


# ----- every kernel of the kit runs unchanged on CuPy (a CPU stand-in of it here) -----

@pytest.fixture
def fake_gpu():
    with fake_cuda() as xp:
        yield xp


LABELS = np.array([1, 0])
POOL_OPTIONS = {"kernel_size": 3, "stride": 2, "padding": 1}
KERNEL_RUNS = {  # name: (forward, backward, its array arguments picked from the test's arrays, options)
    "conv2d": (conv.conv2d_forward, conv.conv2d_backward, lambda a: (a["x"], a["w"], a["b"]),
               {"stride": (2, 1), "padding": "same", "dilation": (1, 2), "groups": 2}),
    "conv1d": (conv.conv1d_forward, conv.conv1d_backward,
               lambda a: (a["x"][:, :, 0], a["w"][:, :, 0], a["b"]),
               {"stride": 2, "padding": 1, "groups": 2}),
    **{f"{kind}pool2d": (getattr(pooling, f"{kind}pool2d_forward"),
                         getattr(pooling, f"{kind}pool2d_backward"), lambda a: (a["x"],), POOL_OPTIONS)
       for kind in ("max", "avg", "sum", "l2")},
    "relu": (relu.relu_forward, relu.relu_backward, lambda a: (a["x"],), {}),
    "softmax_cross_entropy": (softmax_ce.softmax_cross_entropy_forward,
                              softmax_ce.softmax_cross_entropy_backward,
                              lambda a: (a["x"][:, :, 0, 0], a["labels"]), {}),
}


@pytest.mark.parametrize("name", list(KERNEL_RUNS))
def test_kernels_run_on_the_cupy_stand_in(fake_gpu, rng, name):
    forward, backward, pick, options = KERNEL_RUNS[name]
    host = {"x": rng.standard_normal((2, 4, 7, 6)), "w": rng.standard_normal((6, 2, 3, 2)),
            "b": rng.standard_normal(6), "labels": LABELS}
    device = {k: fake_gpu.asarray(v) for k, v in host.items()}
    out_host, cache_host = forward(*pick(host), **options)
    out_dev, cache_dev = forward(*pick(device), **options)
    assert isinstance(out_dev, fake_gpu.ndarray)
    np.testing.assert_allclose(fake_gpu.asnumpy(out_dev), out_host, rtol=1e-12)
    dout = rng.standard_normal(np.shape(out_host))
    grads_host = backward(dout, cache_host)
    grads_dev = backward(fake_gpu.asarray(dout), cache_dev)
    grads_host, grads_dev = (g if isinstance(g, tuple) else (g,) for g in (grads_host, grads_dev))
    for gh, gd in zip(grads_host, grads_dev):
        assert isinstance(gd, fake_gpu.ndarray)
        np.testing.assert_allclose(fake_gpu.asnumpy(gd), gh, rtol=1e-12)
