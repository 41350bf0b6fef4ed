"""PyTorch habits in minigrad: ``dim``/``keepdim``, ``max(dim=...)``, ``cat``, ``numel()``, ``dim()``,
``backward(gradient=...)``; checked against NumPy's spellings everywhere and against PyTorch where it is
installed (it is never a dependency: those tests skip without it)."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import GRAD_SETTINGS, assert_gradients_match, f64, nonscalar_shapes, values
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn import functional as F

REDUCTIONS = ["sum", "mean", "var", "std"]


def _axis(data, ndim):
    return data.draw(st.integers(-ndim, ndim - 1), label="axis")


@GRAD_SETTINGS
@given(data=st.data(), shape=nonscalar_shapes, name=st.sampled_from([*REDUCTIONS, "argmax", "argmin"]),
       keep=st.booleans())
def test_dim_and_keepdim_are_axis_and_keepdims(data, shape, name, keep):
    x = f64(values(data, shape))
    axis = _axis(data, len(shape))
    numpy_style = getattr(x, name)(axis=axis, keepdims=keep)
    torch_style = getattr(x, name)(dim=axis, keepdim=keep)
    np.testing.assert_array_equal(torch_style.numpy(), numpy_style.numpy())
    # std over a single element is sqrt(0): its slope is infinite there, as in PyTorch, so nothing to compare
    differentiable = shape[axis] > 1 if name == "std" else np.prod(shape) > 1
    if name in REDUCTIONS and differentiable:
        assert_gradients_match(lambda t: getattr(t, name)(dim=axis, keepdim=keep), [x])


@GRAD_SETTINGS
@given(data=st.data(), shape=nonscalar_shapes, pick=st.sampled_from(["max", "min"]), keep=st.booleans())
def test_max_and_min_with_dim_return_values_and_indices(data, shape, pick, keep):
    raw = values(data, shape)
    x = f64(raw)
    axis = _axis(data, len(shape))
    result = getattr(x, pick)(dim=axis, keepdim=keep)
    assert isinstance(result, mg.ops.ValuesIndices) and result._fields == ("values", "indices")
    values_, indices = result  # unpacks as PyTorch's does
    np.testing.assert_array_equal(values_.numpy(), getattr(raw, pick)(axis=axis, keepdims=keep))
    np.testing.assert_array_equal(indices.numpy(), getattr(raw, "arg" + pick)(axis=axis, keepdims=keep))
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert_gradients_match(lambda t: getattr(t, pick)(dim=axis, keepdim=keep).values, [x])
    assert isinstance(getattr(x, pick)(axis=axis), mg.Tensor)  # NumPy's spelling: NumPy's answer


def test_max_with_dim_sends_the_gradient_of_a_tie_to_the_first_maximum_and_axis_splits_it():
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    values_, indices = x.max(dim=1)
    assert indices.tolist() == [1, 0]
    values_.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]  # as torch.max(x, dim=1)
    x.grad = None
    x.max(axis=1).sum().backward()
    assert x.grad.tolist() == [[0, 0.5, 0.5], [0.5, 0.5, 0]]  # as torch.amax: ties share


def test_max_with_dim_on_the_gpu_code_path():
    from minigrad.testing import fake_cuda

    with fake_cuda():
        x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], device="cuda", requires_grad=True)
        values_, indices = x.max(dim=1, keepdim=True)
        assert values_.device == indices.device == "cuda" and indices.numpy().tolist() == [[1], [0]]
        values_.sum().backward()
        assert x.grad.device == "cuda" and x.grad.numpy().tolist() == [[0, 1, 0], [1, 0, 0]]


def test_max_of_two_tensors_is_the_elementwise_maximum():
    a, b = mg.tensor([1.0, 5.0, -2.0]), mg.tensor([3.0, 4.0, -1.0])
    assert a.max(b).tolist() == [3, 5, -1] and a.min(b).tolist() == [1, 4, -2]
    assert mg.max(a, b).tolist() == [3, 5, -1]


def test_cat_stack_squeeze_unsqueeze_softmax_take_dim():
    a, b = mg.ones(2, 3), mg.zeros(2, 1)
    assert mg.cat([a, b], dim=1).shape == (2, 4) == mg.concatenate([a, b], axis=1).shape
    assert mg.cat([a, a]).shape == (4, 3) and mg.stack([a, a], dim=2).shape == (2, 3, 2)
    assert b.squeeze(dim=1).shape == (2,) and a.unsqueeze(dim=0).shape == (1, 2, 3)
    logits = mg.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(F.softmax(logits, dim=1).sum(dim=1).numpy(), [1, 1], rtol=1e-6)
    np.testing.assert_allclose(F.log_softmax(logits, dim=-1).numpy(), F.log_softmax(logits, axis=-1).numpy())


def test_numel_and_dim():
    x = mg.zeros(2, 3, 4)
    assert (x.numel(), x.dim(), x.size, x.ndim) == (24, 3, 24, 3)
    assert (mg.tensor(5.0).numel(), mg.tensor(5.0).dim()) == (1, 0)


def test_backward_takes_gradient_as_pytorch_names_it():
    for spelling in ("gradient", "grad"):
        x = mg.tensor([1.0, 2.0], requires_grad=True)
        (x * x).backward(**{spelling: mg.tensor([1.0, 10.0])})
        assert x.grad.tolist() == [2, 40]
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(np.ones(2), retain_graph=None)  # PyTorch's default None means False
    assert x.grad.tolist() == [3, 3]


@pytest.mark.parametrize("call, error, text", [
    (lambda x: x.sum(dims=1), TypeError, "sum() got an unexpected keyword argument 'dims'; sum takes axis= "
                                         "(or dim=), keepdims= (or keepdim=)"),
    (lambda x: x.mean(axis=0, dim=0), TypeError, "mean(): axis= and dim= are two spellings of one argument"),
    (lambda x: x.sum(0, dim=1), TypeError, "sum(): axis= and dim= are two spellings of one argument"),
    (lambda x: x.var(keepdim=True, keepdims=True), TypeError, "keepdims= and keepdim= are two spellings"),
    (lambda x: x.max(dims=0), TypeError, "max() got an unexpected keyword argument 'dims'; max takes axis= (or dim=)"),
    (lambda x: x.min(dim=0, axis=1), TypeError, "min(): axis= and dim= are two spellings"),
    (lambda x: x.max(dim=(0, 1)), TypeError, "max(dim=...) takes one dimension, as in PyTorch; for several write "
                                             "max(axis=(0, 1))"),
    (lambda x: mg.cat([x, x], dim=0, axis=0), TypeError, "cat(): axis= and dim= are two spellings"),
    (lambda x: x.argmax(dimension=1), TypeError, "argmax takes axis= (or dim=), keepdims= (or keepdim=)"),
    (lambda x: (x * 2).sum().backward(gradient=mg.tensor(1.0), grad=mg.tensor(1.0)), TypeError,
     "backward(): gradient= and grad= are two spellings"),
    (lambda x: (x * 2).sum().backward(create_graph=True), NotImplementedError, "create_graph=True"),
    (lambda x: x.max(dim=5), ValueError, "max: axis 5 is out of range for a tensor with 2 dimensions"),
])
def test_a_wrong_keyword_is_one_line_naming_both_spellings(call, error, text):
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(error) as caught:
        call(x)
    assert text in str(caught.value) and "\n" not in str(caught.value)


# ----- cross-checks against PyTorch (skipped where it is not installed) -----

@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _pair(torch, array):
    """The same float64 values as a minigrad and a torch tensor, both requiring grad."""
    return f64(array), torch.tensor(array, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "max_dim", "min_dim", "argmax", "softmax", "log_softmax",
                                  "var1", "cat", "stack", "squeeze", "unsqueeze"])
def test_the_spellings_match_pytorch(torch, name):
    rng = np.random.default_rng(0)
    raw = rng.standard_normal((3, 4, 1))
    raw[0, :2, 0] = 7.0  # a tie along dim 1
    ours, theirs = _pair(torch, raw)
    cases = {
        "sum": (lambda t: t.sum(dim=1, keepdim=True), lambda t: t.sum(dim=1, keepdim=True)),
        "mean": (lambda t: t.mean(dim=(0, 2)), lambda t: t.mean(dim=(0, 2))),
        "amax": (lambda t: t.max(axis=1), lambda t: t.amax(dim=1)),
        "max_dim": (lambda t: t.max(dim=1), lambda t: t.max(dim=1)),
        "min_dim": (lambda t: t.min(dim=0, keepdim=True), lambda t: t.min(dim=0, keepdim=True)),
        "argmax": (lambda t: t.argmax(dim=1, keepdim=True), lambda t: t.argmax(dim=1, keepdim=True)),
        "softmax": (lambda t: F.softmax(t, dim=1), lambda t: torch.softmax(t, dim=1)),
        "log_softmax": (lambda t: F.log_softmax(t, dim=1), lambda t: torch.log_softmax(t, dim=1)),
        "var1": (lambda t: t.var(dim=1, ddof=1), lambda t: t.var(dim=1)),  # PyTorch's default correction is 1
        "cat": (lambda t: mg.cat([t, t * 2], dim=2), lambda t: torch.cat([t, t * 2], dim=2)),
        "stack": (lambda t: mg.stack([t, t * 2], dim=1), lambda t: torch.stack([t, t * 2], dim=1)),
        "squeeze": (lambda t: t.squeeze(dim=2), lambda t: t.squeeze(dim=2)),
        "unsqueeze": (lambda t: t.unsqueeze(dim=-1), lambda t: t.unsqueeze(dim=-1)),
    }
    ours_fn, theirs_fn = cases[name]
    got, want = ours_fn(ours), theirs_fn(theirs)
    if name in ("max_dim", "min_dim"):
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
        got, want = got.values, want.values
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert got.shape == tuple(want.shape)
    if got.dtype.kind == "f":
        upstream = rng.standard_normal(got.shape)
        got.backward(gradient=upstream)
        want.backward(gradient=torch.tensor(upstream))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_numel_dim_and_backward_gradient_match_pytorch(torch):
    raw = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = _pair(torch, raw)
    assert (ours.numel(), ours.dim()) == (theirs.numel(), theirs.dim())
    upstream = np.linspace(-1, 1, 24).reshape(2, 3, 4)
    (ours * ours).backward(gradient=mg.tensor(upstream))
    (theirs * theirs).backward(gradient=torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
