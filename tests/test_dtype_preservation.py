"""float32 in, float32 out: no op upcasts, forward or backward, scalars included."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function

# ----------------------------------------------------------------------------- float32 stays float32

class Probe(Function):
    """Identity that records the dtype of the gradient reaching it (what the next op sent back)."""

    seen: ClassVar[list[np.dtype]] = []

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        Probe.seen.append(grad.dtype)
        return grad


def _positive32(shape, seed):
    return mg.tensor(np.random.default_rng(seed).uniform(0.5, 2.0, shape), dtype="float32", requires_grad=True)


F32_OPS = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x**y, "neg": lambda x, y: -x,
    "add float": lambda x, y: x + 2.5, "radd float": lambda x, y: 2.5 + x,
    "rsub int": lambda x, y: 3 - x, "mul np.float64": lambda x, y: x * np.float64(2),
    "rmul np.float64": lambda x, y: np.float64(2) * x, "div np.float64": lambda x, y: x / np.float64(3),
    "rdiv np.float64": lambda x, y: np.float64(3) / x, "sub np.float32": lambda x, y: x - np.float32(1),
    "rsub np.float64": lambda x, y: np.float64(1) - x, "add np.int64": lambda x, y: x + np.int64(2),
    "pow float": lambda x, y: x**2.5, "pow int": lambda x, y: x**2, "pow np.float64": lambda x, y: x ** np.float64(2),
    "rpow float": lambda x, y: 2.0**x, "rpow np.float64": lambda x, y: np.float64(2) ** x,
    "matmul": lambda x, y: x @ y.T, "matmul vec": lambda x, y: x[0] @ y[0],
    "sum": lambda x, y: x.sum(axis=1), "mean": lambda x, y: x.mean(), "max": lambda x, y: x.max(axis=0),
    "min": lambda x, y: x.min(), "var": lambda x, y: x.var(axis=1, ddof=1), "std": lambda x, y: x.std(),
    "exp": lambda x, y: x.exp(), "log": lambda x, y: x.log(), "sqrt": lambda x, y: x.sqrt(),
    "abs": lambda x, y: x.abs(), "tanh": lambda x, y: x.tanh(), "sigmoid": lambda x, y: x.sigmoid(),
    "maximum": lambda x, y: mg.maximum(x, y), "minimum": lambda x, y: mg.minimum(x, y),
    "maximum np.float64": lambda x, y: mg.maximum(x, np.float64(1.0)),
    "minimum float": lambda x, y: x.minimum(1.0),
    "where": lambda x, y: mg.where(x > y, x, y),
    "where np.float64": lambda x, y: mg.where(x > 1, x, np.float64(0.0)),
    "clip": lambda x, y: x.clip(0.8, 1.5), "clip np.float64": lambda x, y: x.clip(np.float64(0.8), np.float64(1.5)),
    "reshape": lambda x, y: x.reshape(-1), "transpose": lambda x, y: x.T, "permute": lambda x, y: x.permute(1, 0),
    "flatten": lambda x, y: x.flatten(), "squeeze": lambda x, y: x[None].squeeze(0),
    "unsqueeze": lambda x, y: x.unsqueeze(1), "broadcast_to": lambda x, y: x.broadcast_to(4, 2, 3),
    "getitem slice": lambda x, y: x[:, ::-1], "getitem list": lambda x, y: x[[0, 0, 1]],
    "getitem mask": lambda x, y: x[x > 1], "concatenate": lambda x, y: mg.concatenate([x, y], axis=1),
    "stack": lambda x, y: mg.stack([x, y]), "pad": lambda x, y: mg.pad(x, 1, value=np.float64(0.5)),
    "astype float32": lambda x, y: x.astype("float32"), "float": lambda x, y: x.float(),
    "to cpu": lambda x, y: x.to("cpu"),
}


@pytest.mark.parametrize("name", list(F32_OPS))
def test_float32_in_float32_out_forward_and_backward(name):
    x, y = _positive32((2, 3), 0), _positive32((2, 3), 1)
    Probe.seen.clear()
    out = F32_OPS[name](Probe.apply(x), Probe.apply(y))
    assert out.dtype == np.float32, f"{name}: float32 inputs gave a {out.dtype} output"
    assert out.requires_grad
    out.backward(mg.ones_like(out))
    assert Probe.seen, f"{name}: no gradient reached the inputs"
    assert all(d == np.float32 for d in Probe.seen), f"{name}: gradients reached the inputs as {Probe.seen}"
    assert x.grad is not None and x.grad.dtype == np.float32
