"""The CuPy code path, run on the CPU through the stand-in, and real-GPU checks that skip without one."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.testing import fakecupy


def _mlp() -> nn.Module:
    mg.manual_seed(3)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.0), nn.Linear(16, 3))


def test_tensor_to_cuda_holds_device_arrays(cuda):
    x = mg.randn(3, 4)
    y = x.to("cuda")
    assert y.device == "cuda"
    assert isinstance(y.data, cuda.ndarray)
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    with pytest.raises(TypeError):
        np.asarray(y.data)


def test_every_op_runs_on_the_stand_in_and_matches_cpu(cuda):
    rng = np.random.default_rng(0)
    a_np = rng.uniform(0.5, 2.0, (3, 4))
    b_np = rng.uniform(0.5, 2.0, (4,))

    def program(dev: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
        a = mg.tensor(a_np, dtype="float64", device=dev, requires_grad=True)
        b = mg.tensor(b_np, dtype="float64", device=dev, requires_grad=True)
        parts = [
            a + b, a - 2.0, 3.0 * a, a / b, a ** 2, 2.0 ** a, a ** b, -a, abs(a - 1),
            a @ b, (a @ a.T).sum(), a.sum(axis=0), a.mean(axis=1, keepdims=True), a.max(axis=1),
            a.min(), a.var(axis=0), a.std(), a.exp(), a.log(), a.sqrt(), a.tanh(), a.sigmoid(),
            mg.maximum(a, b), mg.minimum(a, 1.0), mg.where(a > 1, a, b), a.clip(0.8, 1.5),
            a.reshape(4, 3), a.T, a.permute(1, 0), a.flatten(), a.unsqueeze(0).squeeze(0),
            mg.broadcast_to(b, (2, 4)), a[1:, ::2], a[[0, 0, 2]], a[a > 1],
            mg.concatenate([a, a], axis=1), mg.stack([a, a]), mg.pad(a, ((1, 0), (0, 2))),
            nn.functional.softmax(a), nn.functional.log_softmax(a, axis=0),
        ]
        loss = sum((p * p).sum() for p in parts)
        loss.backward()
        return [p.numpy() for p in parts], [a.grad.numpy(), b.grad.numpy()]

    cpu_out, cpu_grads = program("cpu")
    gpu_out, gpu_grads = program("cuda")
    for c, g in zip(cpu_out + cpu_grads, gpu_out + gpu_grads):
        assert c.shape == g.shape and c.dtype == g.dtype
        np.testing.assert_allclose(g, c, rtol=1e-12)


def test_network_trains_on_the_stand_in_like_on_cpu(cuda):
    x_np = np.random.default_rng(1).standard_normal((8, 3, 2, 2)).astype(np.float32)
    y_np = np.array([0, 1, 2, 0, 1, 2, 0, 1])

    def step(dev: str) -> tuple[float, np.ndarray]:
        model = _mlp().to(dev)
        opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(model(mg.tensor(x_np, device=dev)), mg.tensor(y_np, device=dev))
            loss.backward()
            opt.step()
        return loss.item(), model.state_dict()["1.weight"]

    cpu_loss, cpu_w = step("cpu")
    gpu_loss, gpu_w = step("cuda")
    assert gpu_loss == pytest.approx(cpu_loss, rel=1e-5)
    np.testing.assert_allclose(gpu_w, cpu_w, rtol=1e-5, atol=1e-6)


def test_batchnorm_and_state_dict_on_the_stand_in(cuda):
    bn = nn.BatchNorm2d(3).to("cuda")
    out = bn(mg.randn(4, 3, 5, 5, device="cuda"))
    assert out.device == "cuda" and isinstance(bn.running_mean.data, cuda.ndarray)
    state = bn.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    fresh = nn.BatchNorm2d(3).to("cuda")
    fresh.load_state_dict(state)
    assert fresh.running_var.device == "cuda"
    np.testing.assert_array_equal(fresh.running_var.numpy(), bn.running_var.numpy())


def test_mixing_devices_is_one_clear_error(cuda):
    a = mg.ones(2)
    b = mg.ones(2, device="cuda")
    with pytest.raises(mg.DeviceError, match=r"move one with \.to\("):
        a + b


def test_default_device(cuda):
    mg.set_default_device("cuda")
    try:
        assert mg.zeros(2).device == "cuda"
        assert mg.randn(2, 2).device == "cuda"
        assert mg.tensor([1.0]).device == "cuda"
    finally:
        mg.set_default_device("cpu")
    assert mg.zeros(2).device == "cpu"


def test_cuda_without_cupy_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy":
            raise ImportError("No module named 'cupy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    with pytest.raises(mg.DeviceError, match=r"pip install 'minigrad-kit\[cuda12\]'"):
        mg.zeros(2, device="cuda")
    with pytest.raises(mg.DeviceError, match="needs CuPy"):
        mg.set_default_device("cuda")


def test_unknown_device_is_rejected():
    with pytest.raises(mg.DeviceError, match="device must be 'cpu' or 'cuda'"):
        mg.zeros(2, device="tpu")


def test_stand_in_refuses_numpy_inside_a_kernel(cuda):
    x = mg.randn(4, device="cuda").data
    with pytest.raises(TypeError):
        np.exp(x)
    assert isinstance(fakecupy.exp(x), fakecupy.ndarray)


def _real_gpu() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


gpu = pytest.mark.skipif(not _real_gpu(), reason="needs CuPy and an NVIDIA GPU")


@pytest.mark.gpu
@gpu
def test_real_gpu_matches_cpu():
    import cupy

    x_np = np.random.default_rng(2).standard_normal((16, 1, 28, 28)).astype(np.float32)
    y_np = np.arange(16) % 10
    results = {}
    for dev in ("cpu", "cuda"):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(4 * 14 * 14, 10)).to(dev)
        loss = nn.CrossEntropyLoss()(model(mg.tensor(x_np, device=dev)), mg.tensor(y_np, device=dev))
        loss.backward()
        results[dev] = (loss.item(), model[0].weight.grad.numpy())
        if dev == "cuda":
            assert isinstance(model[0].weight.data, cupy.ndarray)
    assert results["cuda"][0] == pytest.approx(results["cpu"][0], rel=1e-4)
    np.testing.assert_allclose(results["cuda"][1], results["cpu"][1], rtol=1e-3, atol=1e-5)
