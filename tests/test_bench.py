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


def test_the_report_names_the_blas_kernels_and_what_forced_them(monkeypatch):
    from bench import blas

    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    info = blas.blas_info()
    assert info["forced_core"] == "Haswell"
    assert info["core"] is None or isinstance(info["core"], str)  # None where NumPy uses another BLAS
    machine = {"python": "3.11", "numpy": "2", "cpus": 2, "processor": "cpu", "torch": None, "date": "d",
               "blas": {"library": "scipy-openblas", "version": "0.3.31", "core": "Haswell", "forced_core": "Haswell"}}
    assert ("NumPy 2 (scipy-openblas 0.3.31, Haswell kernels (forced by OPENBLAS_CORETYPE=Haswell))"
            in report.markdown({"machine": machine}))
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    assert blas.blas_info()["forced_core"] is None
    assert blas.describe({"library": None}) == "BLAS unknown"


def test_the_loaded_openblas_is_found_in_the_process_map(tmp_path):
    from bench import blas

    maps = tmp_path / "maps"
    maps.write_text("7f00-7f01 r-xp 0 08:01 1 /usr/lib/libscipy_openblas64_-abc.so\n"
                    "7f02-7f03 r-xp 0 08:01 2 /usr/lib/libc.so.6\n7f04-7f05 rw-p 0 00:00 0 \n")
    assert blas._loaded_openblas_paths(str(maps)) == ["/usr/lib/libscipy_openblas64_-abc.so"]
    assert blas._loaded_openblas_paths(str(tmp_path / "missing")) == []
