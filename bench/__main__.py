"""Run the benchmarks: ``python -m bench [--only NAME ...] [--json PATH] [--markdown PATH] [--no-epoch]``.

Workloads: sgemm, kernels (conv2d, pooling, softmax-CE vs PyTorch), training (LeNet-5 and convnet steps,
one LeNet-5 epoch), autograd (overhead per small op), grading (suite and batch throughput), gpu (the
training steps through CuPy, when a GPU is there).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys

from bench import autograd_overhead, blas, gpu, grading, kernels, report, sgemm, training
from bench.timing import torch_or_none

WORKLOADS = ("sgemm", "kernels", "training", "autograd", "grading", "gpu")


def machine() -> dict[str, object]:
    import numpy as np

    processor = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            processor = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    torch = torch_or_none()
    return {"python": platform.python_version(), "numpy": np.__version__, "cpus": len(os.sched_getaffinity(0)),
            "processor": processor, "torch": torch.__version__ if torch else None, "blas": blas.blas_info(),
            "date": datetime.date.today().isoformat()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, help="run only these workloads")
    parser.add_argument("--json", help="write all figures to this JSON file")
    parser.add_argument("--markdown", help="write the tables to this markdown file (e.g. docs/benchmarks.md)")
    parser.add_argument("--no-epoch", action="store_true", help="skip the full Fashion-MNIST epoch")
    args = parser.parse_args(argv)
    chosen = args.only or WORKLOADS
    results: dict[str, object] = {"machine": machine()}
    forced = results["machine"]["blas"]["forced_core"]  # type: ignore[index]
    if forced:
        print(f"bench: OPENBLAS_CORETYPE={forced} is set, so NumPy's GEMMs run {forced} kernels whatever this CPU "
              "supports; unset it to measure the kernels OpenBLAS picks by itself", file=sys.stderr)
    steps = {"sgemm": sgemm.run, "kernels": kernels.run, "training": lambda: training.run(not args.no_epoch),
             "autograd": autograd_overhead.run, "grading": grading.run, "gpu": gpu.run}
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results["autograd_overhead" if name == "autograd" else name] = steps[name]()
    text = report.markdown(results)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
