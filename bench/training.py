"""Training speed: one SGD step of LeNet-5 and of the Keras convnet at batch 64, and one Fashion-MNIST epoch.

The PyTorch models are built layer for layer like minigrad's (same shapes, same optimizer), so the
ratio compares the engines, not the networks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import minigrad
from bench.timing import paired_median_seconds, torch_or_none
from minigrad import nn, optim
from minigrad.models import get_model

BATCH = 64


def minigrad_step(name: str, device: str = "cpu") -> Callable[[], None]:
    """One SGD step of ``name`` at batch 64 on ``device``, as a function (the data stays the same)."""
    minigrad.use_kernels("solutions")
    minigrad.manual_seed(0)
    model = get_model(name).to(device)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x = minigrad.rand(BATCH, 1, 28, 28, device=device)
    y = minigrad.randint(0, 10, BATCH, device=device)

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def _torch_model(torch: Any, name: str) -> Any:
    t = torch.nn
    if name == "lenet5":
        return t.Sequential(t.Conv2d(1, 6, 5, padding=2), t.ReLU(), t.MaxPool2d(2), t.Conv2d(6, 16, 5), t.ReLU(),
                            t.MaxPool2d(2), t.Flatten(), t.Linear(400, 120), t.ReLU(), t.Linear(120, 84), t.ReLU(),
                            t.Linear(84, 10))
    return t.Sequential(t.Conv2d(1, 32, 5, padding=2), t.ReLU(), t.MaxPool2d(2), t.Conv2d(32, 64, 3, padding=1),
                        t.ReLU(), t.MaxPool2d(2), t.Flatten(), t.Linear(3136, 256), t.ReLU(), t.Linear(256, 10))


def torch_step(torch: Any, name: str, device: str = "cpu") -> Callable[[], None]:
    """The same step in PyTorch, on ``device`` ("cpu" or "cuda")."""
    torch.manual_seed(0)
    model = _torch_model(torch, name).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(BATCH, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (BATCH,), device=device)

    def step() -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def epoch_seconds(name: str = "lenet5") -> float | None:
    """One pass over the 60,000 Fashion-MNIST training images (None when the data is not installed)."""
    from minigrad.data import DataLoader, DatasetError, TensorDataset, load_fashion_mnist

    try:
        x, y = load_fashion_mnist(split="train", download=False, progress=False)
    except DatasetError:
        return None
    minigrad.manual_seed(0)
    model = get_model(name)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for xb, yb in DataLoader(TensorDataset(x, y), BATCH, shuffle=True, seed=0):
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    return time.perf_counter() - start


def run(epoch: bool = True) -> dict[str, Any]:
    torch = torch_or_none()
    if torch is not None:
        torch.set_num_threads(max(1, len(__import__("os").sched_getaffinity(0))))
    results: dict[str, Any] = {}
    for name in ("lenet5", "convnet"):
        ours, theirs = paired_median_seconds(minigrad_step(name),
                                             None if torch is None else torch_step(torch, name), repeats=15)
        entry = {"minigrad_ms": ours * 1e3}
        if theirs is not None:
            entry.update(torch_ms=theirs * 1e3, ratio_to_torch=ours / theirs)
        results[f"train_step_{name}_b{BATCH}"] = entry
    if epoch:
        seconds = epoch_seconds("lenet5")
        results["fashion_mnist_epoch_lenet5_s"] = seconds
    return results


