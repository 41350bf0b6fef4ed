"""Optimizers against hand-written references of PyTorch's update rules (schedules: test_lr_scheduler.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad.nn import Parameter
from minigrad.optim import SGD, Adam, AdamW

STEPS = 6


def param(values, dtype=np.float64) -> Parameter:
    return Parameter(np.array(values, dtype=dtype))


def set_grad(p: Parameter, g) -> None:
    p.grad = minigrad.Tensor(np.array(g, dtype=p.data.dtype))


def grad_sequence(shape=(3, 4), steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


# -- references, written from the formulas (one parameter, plain NumPy) ---------------------
def ref_sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, out = p.copy(), None, []
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


def ref_adam(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             decoupled=False):
    b1, b2 = betas
    p, m, v, vmax, out = p.copy(), 0 * p, 0 * p, 0 * p, []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vhat = (vmax if amsgrad else v) / (1 - b2**t)
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(vhat) + eps)
        out.append(p)
    return out


def run(opt_factory, p0, grads):
    p = param(p0)
    opt = opt_factory([p])
    out = []
    for g in grads:
        set_grad(p, g)
        opt.step()
        out.append(p.data.copy())
    return out


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4},  # the AlexNet recipe
    {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True},
]
ADAM_CASES = [
    {},
    {"lr": 0.01, "betas": (0.8, 0.99)},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "amsgrad": True},
    {"lr": 0.01, "eps": 1e-3, "weight_decay": 0.05, "amsgrad": True},
]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_reference(kw):
    p0, grads = grad_sequence(seed=1)[0], grad_sequence(seed=2)
    got = run(lambda ps: SGD(ps, **kw), p0, grads)
    np.testing.assert_allclose(got, ref_sgd(p0, grads, **kw), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_matches_reference(kw):
    p0, grads = grad_sequence(seed=3)[0], grad_sequence(seed=4)
    got = run(lambda ps: Adam(ps, **kw), p0, grads)
    np.testing.assert_allclose(got, ref_adam(p0, grads, **kw), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kw", [{"lr": 0.01}, {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}])
def test_adamw_matches_reference(kw):
    p0, grads = grad_sequence(seed=5)[0], grad_sequence(seed=6)
    got = run(lambda ps: AdamW(ps, **kw), p0, grads)
    ref = ref_adam(p0, grads, decoupled=True, **{"weight_decay": 1e-2, **kw})
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_adamw_default_weight_decay_differs_from_adam():
    assert AdamW([param([1.0])]).param_groups[0]["weight_decay"] == 1e-2
    assert Adam([param([1.0])]).param_groups[0]["weight_decay"] == 0.0


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                  elements=st.floats(-1e3, 1e3, allow_subnormal=False)),
       st.floats(1e-4, 1.0))
def test_adam_first_step_is_lr_times_sign(g, lr):
    # t = 1: m_hat = g, sqrt(v_hat) = |g|, so the step is lr * g / (|g| + eps) for any shape
    p = param(np.zeros_like(g))
    set_grad(p, g)
    Adam([p], lr=lr).step()
    np.testing.assert_allclose(p.data, -lr * g / (np.abs(g) + 1e-8), rtol=1e-12, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
                  elements=st.floats(-1e3, 1e3)), st.floats(0.0, 1.0))
def test_plain_sgd_step_any_shape(g, lr):
    p = param(np.ones_like(g))
    set_grad(p, g)
    SGD([p], lr=lr).step()
    np.testing.assert_allclose(p.data, 1 - lr * g, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
                                  lambda ps: Adam(ps, lr=0.1, amsgrad=True), lambda ps: AdamW(ps)])
def test_float32_stays_float32_and_in_place(make):
    p = param(np.ones((2, 3)), dtype=np.float32)
    array = p.data
    opt = make([p])
    for g in grad_sequence((2, 3), steps=2):
        set_grad(p, g.astype(np.float32))
        opt.step()
    assert p.data is array and p.data.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[id(p)].values() if hasattr(v, "dtype"))
    assert not np.allclose(p.data, 1.0)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True),
                                  lambda ps: Adam(ps, lr=0.1, weight_decay=0.1, amsgrad=True),
                                  lambda ps: AdamW(ps, lr=0.1)])
def test_grad_is_read_only_and_kept_across_steps(make):
    # one grad tensor reused for every step (as after zero_grad(set_to_none=False) + backward)
    p = param([1.0, -2.0, 3.0])
    set_grad(p, [0.5, 0.25, -1.0])
    opt = make([p])
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(p.grad.data, [0.5, 0.25, -1.0])
    ref = run(make, np.array([1.0, -2.0, 3.0]), [np.array([0.5, 0.25, -1.0])] * 3)[-1]
    np.testing.assert_array_equal(p.data, ref)


def test_param_groups_use_their_own_hyperparameters():
    a, b = param([1.0, 2.0]), param([3.0])
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0.0
    for _ in range(2):
        set_grad(a, [1.0, 1.0])
        set_grad(b, [2.0])
        opt.step()
    np.testing.assert_allclose(a.data, [1.0 - 0.2, 2.0 - 0.2], atol=1e-15)
    # b: buffer 2, then 0.9*2 + 2 = 3.8; steps 0.5*2 and 0.5*3.8
    np.testing.assert_allclose(b.data, [3.0 - 1.0 - 1.9], atol=1e-15)


def test_add_param_group_and_duplicate_rejected():
    a, b = param([1.0]), param([2.0])
    opt = Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="distinct"):
        opt.add_param_group({"params": [a]})


def test_zero_grad():
    p = param([1.0, 2.0])
    set_grad(p, [3.0, 4.0])
    grad = p.grad
    SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad is grad and np.array_equal(p.grad.data, [0.0, 0.0])
    SGD([p], lr=0.1).zero_grad()
    assert p.grad is None


def test_params_without_grad_are_skipped():
    a, b = param([1.0]), param([2.0])
    for opt in (SGD([a, b], lr=0.1, momentum=0.9), Adam([a, b], lr=0.1)):
        set_grad(a, [1.0])
        b.grad = None
        opt.step()
        assert b.data[0] == 2.0 and id(b) not in opt.state
        assert a.data[0] < 1.0


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
                                  lambda ps: Adam(ps, lr=0.05, amsgrad=True),
                                  lambda ps: AdamW(ps, lr=0.05, weight_decay=0.1)])
def test_state_dict_round_trip_continues_identically(make):
    grads = grad_sequence((4,), steps=6, seed=7)
    a1, a2 = param([1.0, -2.0, 0.5, 3.0]), param([0.0, 1.0, 2.0, -1.0])
    opt = make([{"params": [a1]}, {"params": [a2], "lr": 0.2}])
    for g in grads[:3]:
        set_grad(a1, g)
        set_grad(a2, -g)
        opt.step()
    saved = opt.state_dict()
    assert all(isinstance(v, (np.ndarray, int)) for s in saved["state"].values() for v in s.values())
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    snapshot = {k: {n: np.copy(v) for n, v in s.items()} for k, s in saved["state"].items()}

    b1, b2 = param(a1.data.copy()), param(a2.data.copy())
    clone = make([{"params": [b1]}, {"params": [b2]}])  # lr of group 1 comes from the state dict
    clone.load_state_dict(saved)
    assert clone.param_groups[1]["lr"] == 0.2
    for g in grads[3:]:
        for (x1, x2) in ((a1, a2), (b1, b2)):
            set_grad(x1, g)
            set_grad(x2, -g)
        opt.step()
        clone.step()
    np.testing.assert_array_equal(b1.data, a1.data)
    np.testing.assert_array_equal(b2.data, a2.data)
    # the saved dict is a snapshot: later steps did not write into it
    for k, s in saved["state"].items():
        for n, v in s.items():
            np.testing.assert_array_equal(v, snapshot[k][n])


def test_load_state_dict_casts_to_param_dtype_and_checks_layout():
    p = param([1.0, 2.0])
    opt = Adam([p], lr=0.1)
    set_grad(p, [1.0, 1.0])
    opt.step()
    q = param([1.0, 2.0], dtype=np.float32)
    other = Adam([q], lr=0.1)
    other.load_state_dict(opt.state_dict())
    assert other.state[id(q)]["exp_avg"].dtype == np.float32 and other.state[id(q)]["step"] == 1
    with pytest.raises(ValueError, match="param groups"):
        Adam([param([1.0])]).load_state_dict({"state": {}, "param_groups": []})


BAD_ARGS = [
    (lambda ps: SGD(ps, lr=-0.1), "lr"),
    (lambda ps: SGD(ps, momentum=1.0), "momentum"),
    (lambda ps: SGD(ps, momentum=-0.1), "momentum"),
    (lambda ps: SGD(ps, weight_decay=-1), "weight_decay"),
    (lambda ps: SGD(ps, nesterov=True), "nesterov"),
    (lambda ps: SGD(ps, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (lambda ps: SGD(ps, lr=float("nan")), "lr"),
    (lambda ps: Adam(ps, lr=-1e-3), "lr"),
    (lambda ps: Adam(ps, betas=(1.0, 0.999)), r"betas\[0\]"),
    (lambda ps: Adam(ps, betas=(0.9, -0.1)), r"betas\[1\]"),
    (lambda ps: Adam(ps, betas=0.9), "betas"),
    (lambda ps: Adam(ps, eps=-1.0), "eps"),
    (lambda ps: AdamW(ps, weight_decay=-0.01), "weight_decay"),
    (lambda ps: SGD([{"params": ps, "lr": -1.0}]), "lr"),
]


@pytest.mark.parametrize(("make", "match"), BAD_ARGS)
def test_bad_arguments_raise_one_line_value_error(make, match):
    with pytest.raises(ValueError, match=match) as info:
        make([param([1.0])])
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("params", "match"), [
    ([], "empty"),
    ([np.ones(3)], "Tensors"),
    ([minigrad.Tensor(np.ones(3))], "require grad"),
    ([{"lr": 0.1}], "'params'"),
])
def test_bad_params_raise_value_error(params, match):
    with pytest.raises(ValueError, match=match):
        SGD(params, lr=0.1)


def test_single_tensor_is_rejected():
    with pytest.raises(ValueError, match="iterable"):
        SGD(param([1.0, 2.0]), lr=0.1)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.05, momentum=0.9),
                                  lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
                                  lambda ps: Adam(ps, lr=0.1)])
def test_minimises_a_quadratic(make):
    # f(x) = 1/2 x^T A x - b^T x, A positive definite (condition number 10): minimum at A^-1 b
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    A = q @ np.diag(np.linspace(1.0, 10.0, 5)) @ q.T
    b = rng.standard_normal(5)
    x = param(np.zeros(5))
    opt = make([x])
    for _ in range(500):
        set_grad(x, A @ x.data - b)
        opt.step()
    np.testing.assert_allclose(x.data, np.linalg.solve(A, b), atol=1e-6)


def test_step_with_autograd_gradient():
    # loss = sum(p^2) has grad 2p, so one plain SGD step gives p (1 - 2 lr)
    p = param([1.0, -2.0, 3.0])
    opt = SGD([p], lr=0.1)
    loss = (p * p).sum()
    loss.backward()
    opt.step()
    np.testing.assert_allclose(p.data, [0.8, -1.6, 2.4], atol=1e-15)
    opt.zero_grad()
    assert p.grad is None


# -- optional cross-check with PyTorch ---------------------------------------------------------
@pytest.mark.parametrize(("name", "kw"), [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.2}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
])
def test_matches_pytorch(name, kw):
    torch = pytest.importorskip("torch")
    p0, grads = grad_sequence(seed=8)[0], grad_sequence(seed=9)
    tp = torch.tensor(p0, requires_grad=True)
    topt = getattr(torch.optim, name)([tp], **kw)
    for g in grads:
        tp.grad = torch.tensor(g)
        topt.step()
    got = run(lambda ps: getattr(minigrad.optim, name)(ps, **kw), p0, grads)[-1]
    np.testing.assert_allclose(got, tp.detach().numpy(), rtol=0, atol=1e-12)


# -- the GPU code path, on the CPU: CuPy's stand-in serves "cuda" ------------------------------
def on_cuda(state: dict) -> bool:
    arrays = [v for v in state.values() if hasattr(v, "dtype")]
    return bool(arrays) and all(minigrad.backend.device_of(v) == "cuda" for v in arrays)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
                                  lambda ps: Adam(ps, lr=0.05, weight_decay=0.1, amsgrad=True),
                                  lambda ps: AdamW(ps, lr=0.05)])
def test_device_arrays_stay_on_device_and_match_cpu(cuda, make):
    p0, grads = grad_sequence(seed=10)[0], grad_sequence(seed=11)
    p = Parameter(minigrad.tensor(p0, device="cuda"))
    array = p.data
    opt = make([p])
    for g in grads:
        p.grad = minigrad.tensor(g, device="cuda")
        opt.step()
    assert p.data is array and minigrad.backend.device_of(p.data) == "cuda"
    assert on_cuda(opt.state[id(p)])
    np.testing.assert_array_equal(p.numpy(), run(make, p0, grads)[-1])
    saved = opt.state_dict()  # host copies ...
    assert all(type(v) is np.ndarray for v in saved["state"][0].values() if hasattr(v, "dtype"))
    opt.load_state_dict(saved)  # ... loaded back onto the device
    assert on_cuda(opt.state[id(p)])
    opt.zero_grad(set_to_none=False)
    opt.step()
    assert minigrad.backend.device_of(p.data) == "cuda"
