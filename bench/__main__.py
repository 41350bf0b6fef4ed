"""Run the benchmarks: ``python -m bench [--json PATH]``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))

from bench import autograd_overhead


def machine() -> dict[str, object]:
    import numpy as np

    return {"python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count(),
            "machine": platform.machine(), "processor": platform.processor() or platform.machine()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    results = {"machine": machine(), "autograd_overhead": autograd_overhead.run()}
    print(f"machine: {results['machine']}")
    print(autograd_overhead.report(results["autograd_overhead"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
