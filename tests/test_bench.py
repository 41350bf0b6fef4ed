"""The benchmark harness runs and reports (its figures are quoted in notes, never asserted as timings)."""

from __future__ import annotations

import pytest

from bench import __main__ as bench_main
from bench import gpu, report
from minigrad import backend


def test_bench_runs_a_cheap_workload_and_writes_json_and_markdown(tmp_path, capsys):
    json_path, md_path = tmp_path / "b.json", tmp_path / "b.md"
    assert bench_main.main(["--only", "autograd", "--json", str(json_path), "--markdown", str(md_path)]) == 0
    text = md_path.read_text()
    assert "## Autograd overhead per small op" in text and "µs per op" in text
    assert '"minigrad_total_us_per_op"' in json_path.read_text()
    assert "Machine:" in capsys.readouterr().out


def test_report_formats_every_section():
    fake = {
        "machine": {"python": "3.11", "numpy": "2", "cpus": 2, "processor": "cpu", "torch": None, "date": "d"},
        "sgemm": {"n": 64, "seconds": 1.0, "gflops": 100.0},
        "kernels": {"conv2d_fwd_bwd": {"c": {"minigrad_ms": 2.0, "gemm_gflops": 50.0, "peak_extra_mb": 3.0,
                                             "im2col_mb": 2.0, "peak_over_im2col": 1.5}},
                    "pooling_fwd_bwd": {"p": {"minigrad_ms": 1.0}}, "softmax_ce_fwd_bwd_512x10": {"minigrad_ms": 0.1}},
        "training": {"train_step_lenet5_b64": {"minigrad_ms": 10.0}, "fashion_mnist_epoch_lenet5_s": 9.0},
        "grading": {"hidden_suite_one_submission_s": 1.2, "tests": 142, "score": 100.0,
                    "jobs1_20_submissions_s": 30.0, "jobs1_submissions_per_minute": 40.0},
    }
    text = report.markdown(fake)
    assert "| c | 2.00 | — | — | 50.0 | 50 | 3.0 | 2.0 | 1.50 |" in text
    assert "One Fashion-MNIST epoch of LeNet-5 (60,000 images, batch 64): 9.0 s." in text
    assert "`--jobs 1`: 30.0 s for the batch, 40 submissions per minute" in text


def test_gpu_workload_runs_its_steps_on_the_device(cuda):
    result = gpu.run("cuda", repeats=1)
    assert result["available"] is True and set(result) == {"available", "device", "train_step_lenet5_b64",
                                                           "train_step_convnet_b64"}
    entry = result["train_step_lenet5_b64"]
    assert entry["gpu_ms"] > 0 and entry["speedup_over_cpu"] == pytest.approx(entry["cpu_ms"] / entry["gpu_ms"])
    assert "| train_step_lenet5_b64 |" in "\n".join(report._gpu_section(result))


def test_gpu_workload_without_a_device_says_why(monkeypatch):
    def no_cupy(device=None):
        raise backend.DeviceError("device 'cuda' needs CuPy: pip install cupy-cuda12x")

    monkeypatch.setattr(backend, "array_module", no_cupy)
    result = gpu.run("cuda")
    assert result == {"available": False, "reason": "DeviceError: device 'cuda' needs CuPy: pip install cupy-cuda12x"}
    assert "Not measured: no GPU here (DeviceError: device 'cuda' needs CuPy" in "\n".join(report._gpu_section(result))
