"""Turn the benchmark figures into ``docs/benchmarks.md``: one table per workload, machine first."""

from __future__ import annotations

from typing import Any

from bench.blas import describe


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = ["# Benchmarks", "",
             "Written by `python -m bench` (float32; medians of repeated runs after a warm-up; PyTorch CPU "
             "columns only where it is installed). Re-run it on your machine before quoting a number.", "",
             f"Machine: {m['processor']}, {m['cpus']} CPUs, Python {m['python']}, NumPy {m['numpy']}"
             + (f" ({describe(m['blas'])})" if m.get("blas") else "")
             + (f", PyTorch {m['torch']}" if m.get("torch") else "") + f"; measured {m['date']}.", ""]
    if "sgemm" in results:
        s = results["sgemm"]
        lines += [f"SGEMM ceiling: {s['n']}×{s['n']} float32 matmul at **{_fmt(s['gflops'], 1)} GFLOP/s**.", ""]
    if "kernels" in results:
        k = results["kernels"]
        lines += ["## conv2d, forward + backward", "",
                  "| case | minigrad ms | PyTorch ms | ratio | GFLOP/s | % of SGEMM | peak extra MB | im2col MB "
                  "| peak / im2col |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        ceiling = results.get("sgemm", {}).get("gflops")
        for name, r in k["conv2d_fwd_bwd"].items():
            share = 100 * r["gemm_gflops"] / ceiling if ceiling else None
            lines.append(f"| {name} | {_fmt(r['minigrad_ms'])} | {_fmt(r.get('torch_ms'))} | "
                         f"{_fmt(r.get('ratio_to_torch'))} | {_fmt(r['gemm_gflops'], 1)} | {_fmt(share, 0)} | "
                         f"{_fmt(r['peak_extra_mb'], 1)} | {_fmt(r['im2col_mb'], 1)} | {_fmt(r['peak_over_im2col'])} |")
        lines += ["", "## Pooling and loss, forward + backward", "", "| case | minigrad ms | PyTorch ms | ratio |",
                  "|---|---:|---:|---:|"]
        for name, r in {**k["pooling_fwd_bwd"], "softmax-CE 512×10": k["softmax_ce_fwd_bwd_512x10"]}.items():
            lines.append(f"| {name} | {_fmt(r['minigrad_ms'], 3)} | {_fmt(r.get('torch_ms'), 3)} | "
                         f"{_fmt(r.get('ratio_to_torch'))} |")
        lines.append("")
    if "training" in results:
        t = results["training"]
        lines += ["## Training", "", "| workload | minigrad ms | PyTorch ms | ratio |", "|---|---:|---:|---:|"]
        for name, r in t.items():
            if isinstance(r, dict):
                lines.append(f"| {name} | {_fmt(r['minigrad_ms'], 1)} | {_fmt(r.get('torch_ms'), 1)} | "
                             f"{_fmt(r.get('ratio_to_torch'))} |")
        if t.get("fashion_mnist_epoch_lenet5_s") is not None:
            lines.append(f"\nOne Fashion-MNIST epoch of LeNet-5 (60,000 images, batch 64): "
                         f"{_fmt(t['fashion_mnist_epoch_lenet5_s'], 1)} s.")
        lines.append("")
    if "autograd_overhead" in results:
        a = results["autograd_overhead"]
        lines += ["## Autograd overhead per small op", "",
                  f"A chain of {a['ops']} ops on {a['elements']} floats, forward + backward: minigrad "
                  f"{_fmt(a['minigrad_total_us_per_op'])} µs per op (forward {_fmt(a['minigrad_forward_us_per_op'])},"
                  f" backward {_fmt(a['minigrad_backward_us_per_op'])})"
                  + (f", PyTorch {_fmt(a['torch_total_us_per_op'])} µs (ratio {_fmt(a['ratio_to_torch'])})"
                     if "torch_total_us_per_op" in a else "") + f"; NumPy alone {_fmt(a['numpy_us_per_op'])} µs.", ""]
    if "grading" in results:
        g = results["grading"]
        lines += ["## Grading throughput", "",
                  f"- hidden suite ({g['tests']} tests) on one correct submission: "
                  f"{_fmt(g['hidden_suite_one_submission_s'])} s wall (score {_fmt(g['score'], 1)})"]
        for jobs in (1, 2):
            key = [k for k in g if k.startswith(f"jobs{jobs}_") and k.endswith("_s")]
            if key:
                lines.append(f"- `--jobs {jobs}`: {_fmt(g[key[0]], 1)} s for the batch, "
                             f"{_fmt(g[f'jobs{jobs}_submissions_per_minute'], 0)} submissions per minute")
        lines.append("")
    if "gpu" in results:
        lines += _gpu_section(results["gpu"])
    return "\n".join(lines)


def _gpu_section(g: dict[str, Any]) -> list[str]:
    lines = ["## GPU (CuPy)", ""]
    if not g.get("available"):
        return [*lines, f"Not measured: no GPU here ({g.get('reason', 'unknown reason')}).", ""]
    lines += ["| workload | GPU ms | CPU ms | GPU speed-up | PyTorch CUDA ms | ratio to PyTorch CUDA |",
              "|---|---:|---:|---:|---:|---:|"]
    for name, r in g.items():
        if isinstance(r, dict):
            lines.append(f"| {name} | {_fmt(r['gpu_ms'])} | {_fmt(r['cpu_ms'], 1)} | "
                         f"{_fmt(r['speedup_over_cpu'], 1)}× | {_fmt(r.get('torch_cuda_ms'))} | "
                         f"{_fmt(r.get('ratio_to_torch_cuda'))} |")
    return [*lines, ""]
