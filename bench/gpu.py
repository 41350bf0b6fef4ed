"""The training step on a GPU (CuPy): against minigrad's own CPU step (target: at least 20× faster) and
against PyTorch CUDA when it is installed with CUDA. Without CuPy or a GPU it says why and measures nothing.

Every timed GPU step ends with a device synchronisation: CuPy launches kernels asynchronously, and a
step that only queued its work would look free.
"""

from __future__ import annotations

from typing import Any

from bench.timing import median_seconds, torch_or_none
from bench.training import BATCH, minigrad_step, torch_step
from minigrad import backend

MODELS = ("lenet5", "convnet")


def run(device: str = "cuda", repeats: int = 20) -> dict[str, Any]:
    try:
        xp = backend.array_module(device)
        xp.zeros(1)  # CuPy imports without a GPU; this is where a missing device shows
    except Exception as error:  # any failure to reach the device means "no GPU here"
        return {"available": False, "reason": f"{type(error).__name__}: {str(error).splitlines()[0]}"}
    synchronize = xp.cuda.Device().synchronize
    torch = torch_or_none()
    torch_cuda = torch is not None and torch.cuda.is_available()
    results: dict[str, Any] = {"available": True, "device": device}
    for name in MODELS:
        gpu_step = minigrad_step(name, device)

        def synced(step: Any = gpu_step) -> None:
            step()
            synchronize()

        gpu = median_seconds(synced, repeats=repeats)
        cpu = median_seconds(minigrad_step(name, "cpu"), repeats=max(3, repeats // 2))
        entry = {"gpu_ms": gpu * 1e3, "cpu_ms": cpu * 1e3, "speedup_over_cpu": cpu / gpu}
        if torch_cuda:
            their_step = torch_step(torch, name, "cuda")

            def torch_synced(step: Any = their_step) -> None:
                step()
                torch.cuda.synchronize()

            theirs = median_seconds(torch_synced, repeats=repeats)
            entry.update(torch_cuda_ms=theirs * 1e3, ratio_to_torch_cuda=gpu / theirs)
        results[f"train_step_{name}_b{BATCH}"] = entry
    return results
