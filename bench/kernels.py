"""The reference kernels against PyTorch CPU: conv2d, pooling and softmax-cross-entropy, forward + backward.

Shapes are the issue's: the LeNet/convnet layers on Fashion-MNIST and two ResNet-sized layers, plus a
stride-2 and a dilation-2 variant. "GEMM rate" is the convolution's useful work (2·MACs for forward,
twice that again for backward) per second, to compare with the SGEMM ceiling. Peak extra memory is
measured with tracemalloc (NumPy reports its buffers to it) against the im2col buffer's size.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np

from bench.timing import paired_median_seconds, torch_or_none
from solutions.conv import conv2d_backward, conv2d_forward
from solutions.pooling import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward
from solutions.softmax_ce import softmax_cross_entropy_backward, softmax_cross_entropy_forward

# name, (N, C_in, H, W), C_out, kernel, options
CONV_CASES: list[tuple[str, tuple[int, int, int, int], int, int, dict[str, Any]]] = [
    ("lenet-c1 64x1x28x28 k5->6", (64, 1, 28, 28), 6, 5, {}),
    ("lenet-c3 64x6x14x14 k5->16", (64, 6, 14, 14), 16, 5, {}),
    ("resnet 32x64x32x32 k3->64", (32, 64, 32, 32), 64, 3, {"padding": 1}),
    ("resnet 16x128x16x16 k3->128", (16, 128, 16, 16), 128, 3, {"padding": 1}),
    ("stride-2 32x64x32x32 k3->64", (32, 64, 32, 32), 64, 3, {"padding": 1, "stride": 2}),
    ("dilation-2 32x64x32x32 k3->64", (32, 64, 32, 32), 64, 3, {"padding": 2, "dilation": 2}),
]


def _conv_macs(out_shape: tuple[int, ...], c_in: int, k: int) -> int:
    n, c_out, h, w = out_shape
    return n * c_out * h * w * c_in * k * k


def conv_case(shape: tuple[int, ...], c_out: int, k: int, options: dict[str, Any]) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((c_out, shape[1], k, k), dtype=np.float32) * 0.1
    b = np.zeros(c_out, np.float32)
    out, cache = conv2d_forward(x, w, b, **options)
    dout = rng.standard_normal(out.shape, dtype=np.float32)

    def step() -> None:
        conv2d_backward(dout, conv2d_forward(x, w, b, **options)[1])

    torch = torch_or_none()
    torch_step = None
    if torch is not None:
        tx = torch.tensor(x, requires_grad=True)
        tw = torch.tensor(w, requires_grad=True)
        tb = torch.tensor(b, requires_grad=True)
        tdout = torch.tensor(dout)

        def torch_step() -> None:
            torch.nn.functional.conv2d(tx, tw, tb, **options).backward(tdout)

    ours, theirs = paired_median_seconds(step, torch_step)
    del cache
    macs = _conv_macs(out.shape, shape[1], k)
    im2col_bytes = macs // c_out * 4  # (C_in·K·K) × (N·H'·W') float32 values
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    result = {"minigrad_ms": ours * 1e3, "gemm_gflops": 3 * 2 * macs / ours / 1e9,
              "peak_extra_mb": peak / 1e6, "im2col_mb": im2col_bytes / 1e6,
              "peak_over_im2col": peak / im2col_bytes}
    if theirs is not None:
        result.update(torch_ms=theirs * 1e3, ratio_to_torch=ours / theirs)
    return result


def pooling_cases() -> dict[str, dict[str, Any]]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 32, 28, 28), dtype=np.float32)
    torch = torch_or_none()
    results = {}
    for name, fwd, bwd, torch_name in (("maxpool 2x2 64x32x28x28", maxpool2d_forward, maxpool2d_backward,
                                        "max_pool2d"),
                                       ("avgpool 2x2 64x32x28x28", avgpool2d_forward, avgpool2d_backward,
                                        "avg_pool2d")):
        out, _ = fwd(x, 2)
        dout = rng.standard_normal(out.shape, dtype=np.float32)

        def step(fwd: Any = fwd, bwd: Any = bwd, dout: Any = dout) -> None:
            bwd(dout, fwd(x, 2)[1])

        torch_step = None
        if torch is not None:
            tx = torch.tensor(x, requires_grad=True)
            tdout = torch.tensor(dout)
            fn = getattr(torch.nn.functional, torch_name)

            def torch_step(fn: Any = fn, tx: Any = tx, tdout: Any = tdout) -> None:
                fn(tx, 2).backward(tdout)

        ours, theirs = paired_median_seconds(step, torch_step)
        entry = {"minigrad_ms": ours * 1e3}
        if theirs is not None:
            entry.update(torch_ms=theirs * 1e3, ratio_to_torch=ours / theirs)
        results[name] = entry
    return results


def softmax_ce_case() -> dict[str, Any]:
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((512, 10), dtype=np.float32)
    labels = rng.integers(0, 10, 512)
    one = np.float32(1.0)
    torch = torch_or_none()
    torch_step = None
    if torch is not None:
        tl = torch.tensor(logits, requires_grad=True)
        ty = torch.tensor(labels)

        def torch_step() -> None:
            torch.nn.functional.cross_entropy(tl, ty).backward()

    ours, theirs = paired_median_seconds(
        lambda: softmax_cross_entropy_backward(one, softmax_cross_entropy_forward(logits, labels)[1]), torch_step)
    entry = {"minigrad_ms": ours * 1e3}
    if theirs is not None:
        entry.update(torch_ms=theirs * 1e3, ratio_to_torch=ours / theirs)
    return entry


def run() -> dict[str, Any]:
    conv = {name: conv_case(shape, c_out, k, options) for name, shape, c_out, k, options in CONV_CASES}
    return {"conv2d_fwd_bwd": conv, "pooling_fwd_bwd": pooling_cases(), "softmax_ce_fwd_bwd_512x10": softmax_ce_case()}
