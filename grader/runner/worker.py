"""The runner: imports a submission and answers the judge's calls, one frame at a time.

Run as ``python -I -S _grader_worker.py LIMITS_JSON`` inside a staging directory that holds
``exercises/`` (the submission), ``minigrad/`` and, for some exercises, ``reference_kernels/``.
It sets its own resource limits before any submission code runs, keeps the judge's channel on
private file descriptors, and sends student prints to ``runner-output.log`` in the scratch directory.

Nothing here decides a score: every value sent back is checked again by the judge.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import traceback
from typing import Any

STAGING = os.path.dirname(os.path.abspath(__file__))
OUTPUT_LOG = "runner-output.log"


def _apply_limits(limits: dict[str, int]) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: nothing to set
        return
    names = {"address_space": "RLIMIT_AS", "cpu_seconds": "RLIMIT_CPU", "file_size": "RLIMIT_FSIZE",
             "processes": "RLIMIT_NPROC", "open_files": "RLIMIT_NOFILE"}
    for key, value in limits.items():
        name = names.get(key)
        if name and hasattr(resource, name) and value:
            limit = getattr(resource, name)
            hard = resource.getrlimit(limit)[1]
            new = value if hard == resource.RLIM_INFINITY else min(value, hard)
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(limit, (new, new))


class Worker:
    def __init__(self, channel_in: Any, channel_out: Any) -> None:
        import _grader_wire as wire  # the staging copy of grader/runner/wire.py

        self.wire = wire
        self.channel_in, self.channel_out = channel_in, channel_out
        self.handles: dict[int, Any] = {}
        self.next_handle = 1

    def _store(self, value: Any) -> dict[str, Any]:
        n = self.next_handle
        self.next_handle += 1
        self.handles[n] = value
        return {"__handle__": n, "type": type(value).__name__}

    def _resolve(self, ref: dict[str, Any]) -> Any:
        n = ref["__handle__"]
        if n not in self.handles:
            raise KeyError(f"unknown handle {n}")
        return self.handles[n]

    def reply(self, header: dict[str, Any], result: Any = None, max_depth: int | None = None) -> None:
        packer = self.wire.Packer(on_object=self._store, max_depth=max_depth)
        if "result" in header:
            header["result"] = packer.pack(result)
        self.wire.write_frame(self.channel_out, header, packer.arrays)

    def handle(self, request: dict[str, Any], arrays: dict[str, Any]) -> None:
        op = request.get("op")
        if op == "import":
            module = importlib.import_module(f"exercises.{request['module']}")
            names = sorted(n for n in vars(module) if not n.startswith("_"))
            self.reply({"ok": True, "result": None}, names)
            return
        if op in ("call", "harness"):
            if op == "call":
                module = importlib.import_module(f"exercises.{request['module']}")
            else:
                module = importlib.import_module("_grader_harness")
            fn = getattr(module, request["function"])
            args = self.wire.unpack(request.get("args", []), arrays, self._resolve)
            kwargs = self.wire.unpack({"__dict__": request.get("kwargs", {})}, arrays, self._resolve)
            result = fn(*args, **kwargs)
            # a call's (out, cache) is opened one level: its arrays travel, a cache stays here as a handle;
            # a harness returns plain nested data by design
            depth = None if op == "harness" else 1
            if request.get("return_args"):  # lets the judge see whether the call changed its inputs
                result, depth = {"result": result, "args": list(args)}, 2
            self.reply({"ok": True, "result": None}, result, depth)
            return
        if op == "release":
            for n in request.get("handles", []):
                self.handles.pop(n, None)
            self.reply({"ok": True})
            return
        if op == "ping":
            self.reply({"ok": True})
            return
        raise ValueError(f"unknown request {op!r}")

    def serve(self) -> None:
        while True:
            try:
                request, arrays = self.wire.read_frame(self.channel_in)
            except EOFError:
                return
            if request.get("op") == "bye":
                self.reply({"ok": True})
                return
            try:
                self.handle(request, arrays)
            except BaseException as err:  # SystemExit and KeyboardInterrupt are student errors too
                tb = traceback.format_exception(type(err), err, err.__traceback__)
                self.reply({"ok": False, "error": {"type": type(err).__name__, "message": _safe_str(err),
                                                   "traceback": "".join(tb)[-4000:]}})


def _safe_str(err: BaseException) -> str:
    try:
        return str(err)[:2000]
    except BaseException:  # a student's exception may break __str__
        return "<unprintable error>"


def main() -> None:
    limits = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    # the judge's channel moves to private descriptors; fds 0-2 become /dev/null and the output log
    channel_in = os.fdopen(os.dup(0), "rb", buffering=0)
    channel_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    log = os.open(OUTPUT_LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr = os.fdopen(1, "w", buffering=1)
    sys.path[:] = [STAGING] + [p for p in sys.path if p and os.path.isdir(p) and "site-packages" not in p
                               and "dist-packages" not in p]
    extra = os.environ.get("GRADER_RUNTIME_PATH")
    if extra:
        sys.path.append(extra)
    _apply_limits(limits)
    _die_with_parent()
    Worker(channel_in, channel_out).serve()


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the judge dies, even while student code is busy."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    main()
