"""Reference kernels for a runner, computed where student code cannot reach them.

The residual block is graded on the reference convolution and ReLU ("no double penalty"), yet no process
that runs student code may read reference code. So the kernels run in a trusted *kernel process* that the
judge starts beside the runner — ``python -m grader.jail.kernel_service``, which imports ``solutions`` (or,
in a Gradescope autograder, ``reference_kernels``) and never a submission — and the runner reaches it only
through a pair of pipes the judge hands it, in the wire format (:mod:`grader.runner.wire`):

    runner: judge_kernels.conv.conv2d_forward(x, w)   --frame: name, arrays-->   kernel process
    runner  <--frame: out, cache handle (or an error's type and message)--   kernel process

The kernel process trusts nothing it reads: it answers only calls of the exercise's own kernels (the
:data:`minigrad.kernels.KERNELS` entries of the modules in ``REFERENCE_KERNELS_FOR``), takes only plain
arrays and values, and sends back only the result, or an error's type and message — never a traceback,
whose lines would be reference code. Caches stay with it as numbered handles (:data:`MAX_CACHES` alive at
most; the runner says which it dropped). It has the runner's memory and CPU limits, leaves at the first
frame it cannot read, and dies with the judge; the judge kills it with the runner (a call that outlives
the test's deadline kills both) and starts a fresh one with the next runner.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from typing import Any

from grader.jail.processes import SIGKILL, in_own_group, kill_group, prctl
from grader.runner import wire

PACKAGES = ("reference_kernels", "solutions")  # a Gradescope autograder's kernels, or the kit's reference
MAX_CACHES = 4096  # live caches a runner may hold in the kernel process


def kernel_package() -> str | None:
    """Where the reference kernels come from here, or None (a student handout has none)."""
    return next((name for name in PACKAGES if importlib.util.find_spec(name) is not None), None)


def kernel_functions(modules: tuple[str, ...]) -> dict[str, str]:
    """Kernel name -> module, for the forward/backward kernels of ``modules`` (minigrad's table)."""
    from minigrad.kernels import KERNELS

    return {name: module for name, module in KERNELS.items()
            if module in modules and name.endswith(("_forward", "_backward"))}


def takes_needs_input_grad(package: str, module: str, function: str) -> bool:
    """Whether the reference backward kernel declares ``needs_input_grad`` (so its stand-in does too)."""
    import inspect

    fn = getattr(importlib.import_module(f"{package}.{module}"), function, None)
    try:
        return fn is not None and "needs_input_grad" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class KernelService:
    """The judge's side: a kernel process for each runner start, and the runner's ends of its pipes."""

    def __init__(self, modules: tuple[str, ...], limits: dict[str, int], max_caches: int = MAX_CACHES) -> None:
        self.functions = kernel_functions(modules)
        self.limits = dict(limits)
        self.max_caches = max_caches
        self.process: subprocess.Popen[bytes] | None = None
        self.runner_fds: tuple[int, int] | None = None  # (the runner reads replies, the runner writes calls)

    def start(self) -> tuple[int, int]:
        """A fresh kernel process; returns the (read, write) descriptors the runner must inherit.

        Call :meth:`handed_over` once the runner has started, to close the judge's copies of them.
        """
        self.stop()
        calls_read, calls_write = os.pipe()
        replies_read, replies_write = os.pipe()
        config = json.dumps({"package": kernel_package(), "functions": self.functions, "limits": self.limits,
                             "max_caches": self.max_caches})
        try:
            self.process = subprocess.Popen([sys.executable, "-m", "grader.jail.kernel_service", config],
                                            stdin=calls_read, stdout=replies_write, stderr=subprocess.DEVNULL,
                                            close_fds=True, **in_own_group())
        finally:
            os.close(calls_read)
            os.close(replies_write)
        self.runner_fds = (replies_read, calls_write)
        return self.runner_fds

    def handed_over(self) -> None:
        """Close the judge's copies of the runner's descriptors (the runner holds its own now)."""
        for fd in self.runner_fds or ():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.runner_fds = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Kill the kernel process (its caches go with it)."""
        self.handed_over()
        if self.process is None:
            return
        kill_group(self.process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.process = None


# ----- the kernel process -----

def _limit(limits: dict[str, int]) -> None:
    with contextlib.suppress(ImportError):  # Windows: no rlimits
        import resource

        for key, name in (("address_space", "RLIMIT_AS"), ("cpu_seconds", "RLIMIT_CPU")):
            value = limits.get(key)
            if value and hasattr(resource, name):
                with contextlib.suppress(ValueError, OSError):
                    resource.setrlimit(getattr(resource, name), (value, value))
    prctl(1, int(SIGKILL))  # PR_SET_PDEATHSIG: die with the judge


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"type": kind[:100], "message": message[:2000]}}


def serve(package: str, functions: dict[str, str], channel_in: Any, channel_out: Any,
          max_caches: int = MAX_CACHES) -> None:
    """Answer a runner's kernel calls until it closes the channel or sends what is not a frame."""
    caches: dict[int, Any] = {}
    counter = iter(range(1, 1 << 62))

    def store(value: Any) -> dict[str, int]:
        if len(caches) >= max_caches:
            raise MemoryError(f"more than {max_caches} reference kernel caches are alive")
        number = next(counter)
        caches[number] = value
        return {"__handle__": number}

    def resolve(ref: dict[str, Any]) -> Any:
        if ref["__handle__"] not in caches:
            raise ValueError("this reference kernel cache was released or never existed")
        return caches[ref["__handle__"]]

    while True:
        try:
            call, arrays = wire.read_frame(channel_in)
        except (EOFError, wire.WireError, OSError):
            return
        released = call.get("release")
        for number in released[:max_caches * 4] if isinstance(released, list) else ():
            if type(number) is int:
                caches.pop(number, None)
        function, args, kwargs = call.get("kernel"), call.get("args", []), call.get("kwargs", {})
        if not isinstance(function, str) or function not in functions:
            wire.write_frame(channel_out, _error("ValueError", f"no reference kernel {str(function)[:60]!r} in "
                                                 f"this exercise's tests; there are {', '.join(sorted(functions))}"))
            continue
        try:
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise TypeError("malformed arguments")
            fn = getattr(importlib.import_module(f"{package}.{functions[function]}"), function)
            result = fn(*wire.unpack(args, arrays, resolve), **wire.unpack({"__dict__": kwargs}, arrays, resolve))
            packer = wire.Packer(on_object=store, max_depth=1)
            reply = {"ok": True, "result": packer.pack(result)}
            wire.write_frame(channel_out, reply, packer.arrays)
        except Exception as err:  # refused arguments, out of memory: the type and message, never a traceback
            wire.write_frame(channel_out, _error(type(err).__name__, str(err)))


def main() -> None:
    config = json.loads(sys.argv[1])
    _limit(config.get("limits", {}))
    channel_in, channel_out = os.fdopen(0, "rb", buffering=0), os.fdopen(1, "wb")
    sys.stdout = sys.stderr  # nothing but frames on the channel
    serve(config["package"], dict(config["functions"]), channel_in, channel_out,
          int(config.get("max_caches", MAX_CACHES)))


if __name__ == "__main__":
    main()
