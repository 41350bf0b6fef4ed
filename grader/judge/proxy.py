"""The judge's handle on one runner process: start it, call into it with a deadline, kill it.

Everything that comes back is plain data: arrays loaded with ``allow_pickle=False`` and JSON values;
runner-side objects (a kernel's cache, or an object a submission made up) stay in the runner and
arrive as :class:`Handle`.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from grader.judge import sandbox
from grader.runner import wire

OUTPUT_LIMIT = 64 * 1024


class RunnerError(Exception):
    """Base class: something about the runner, not the judge, went wrong."""


class RunnerTimeout(RunnerError):
    """The runner did not answer in time and was killed."""


class RunnerCrashed(RunnerError):
    """The runner died (os._exit, a signal, out of memory) or broke the protocol."""


class StudentError(RunnerError):
    """The submission's code raised an exception."""

    def __init__(self, type_name: str, message: str, traceback: str = "") -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name, self.message, self.traceback = type_name, message, traceback

    @property
    def not_implemented(self) -> bool:
        return self.type_name == "NotImplementedError"


class Handle:
    """A runner-side object the judge can pass back but never look into."""

    __slots__ = ("number", "type_name")

    def __init__(self, number: int, type_name: str) -> None:
        self.number, self.type_name = number, type_name

    def __repr__(self) -> str:
        return f"<runner-side {self.type_name}>"


def _pack_handle(value: Any) -> dict[str, Any]:
    if isinstance(value, Handle):
        return {"__handle__": value.number}
    raise TypeError(f"the judge cannot send a {type(value).__name__} to the runner")


def _unpack_handle(ref: dict[str, Any]) -> Handle:
    type_name = ref.get("type") if isinstance(ref.get("type"), str) else "object"
    return Handle(ref["__handle__"], type_name[:100])


class RunnerProxy:
    """One worker process serving one staging directory."""

    def __init__(self, staging: Path, scratch: Path, limits: dict[str, int] | None = None,
                 env: dict[str, str] | None = None, command: list[str] | None = None,
                 read_only: tuple[Path, ...] = ()) -> None:
        self.staging, self.scratch = Path(staging), Path(scratch)
        self.limits = limits or {}
        self.env = env or {}
        self.command = command
        self.read_only = read_only
        self.process: subprocess.Popen[bytes] | None = None
        self._replies: queue.Queue[Any] = queue.Queue()
        self.restarts = 0

    # ----- lifetime -----
    def start(self) -> None:
        import json

        self.scratch.mkdir(parents=True, exist_ok=True)
        command = self.command or [sys.executable, "-I", "-S", str(self.staging / "_grader_worker.py"),
                                   json.dumps(self.limits)]
        env = self._environment()
        command = sandbox.sandboxed(command, staging=self.staging, scratch=self.scratch,
                                    read_only=self.read_only, env=env)
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, cwd=self.scratch, env=env,
                                        start_new_session=True, close_fds=True)
        self._replies = queue.Queue()
        threading.Thread(target=self._read_replies, args=(self.process, self._replies), daemon=True).start()

    def _environment(self) -> dict[str, str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.scratch), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONDONTWRITEBYTECODE": "1"}
        env.update(self.env)
        return env

    @staticmethod
    def _read_replies(process: subprocess.Popen[bytes], replies: queue.Queue[Any]) -> None:
        try:
            while True:
                replies.put(wire.read_frame(process.stdout))
        except (EOFError, OSError, ValueError, wire.WireError) as err:
            replies.put(err)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """Kill the runner and everything it started (its whole process group)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        # only our end of the request pipe: closing stdout would wait for the reader thread, which a
        # grandchild that escaped the kill can keep blocked by holding the pipe open
        with contextlib.suppress(OSError):
            self.process.stdin.close()

    def close(self) -> None:
        if self.alive:
            try:
                self._send({"op": "bye"}, {})
                self._receive(2.0)
            except RunnerError:
                pass
        self.kill()
        self.process = None

    # ----- calls -----
    def _send(self, header: dict[str, Any], arrays: dict[str, Any]) -> None:
        try:
            wire.write_frame(self.process.stdin, header, arrays)
        except (BrokenPipeError, OSError, ValueError):
            raise self._crashed("the runner stopped reading") from None

    def _receive(self, timeout: float) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise RunnerTimeout(f"no answer within {timeout:.1f} s; the runner was stopped") from None
        if isinstance(reply, Exception):
            raise self._crashed(str(reply) if isinstance(reply, wire.WireError) else "")
        return reply

    def _crashed(self, detail: str) -> RunnerCrashed:
        code = None
        if self.process is not None:
            try:
                code = self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.kill()
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            why = f"killed by {name}" + (" (out of memory or CPU time?)" if name in ("SIGKILL", "SIGXCPU") else "")
        elif code is not None:
            why = f"exited with status {code}"
        else:
            why = "stopped answering"
        return RunnerCrashed(f"the runner {why}" + (f": {detail}" if detail else ""))

    def request(self, header: dict[str, Any], timeout: float) -> Any:
        """Send one request and return its unpacked result; raise StudentError for a student exception."""
        if not self.alive:
            self.start()
            self.restarts += 1
        packer = wire.Packer(on_object=_pack_handle)
        packed = {k: packer.pack(v) if k in ("args",) else v for k, v in header.items()}
        if "kwargs" in header:
            packed["kwargs"] = packer.pack(header["kwargs"])["__dict__"]
        self._send(packed, packer.arrays)
        reply, arrays = self._receive(timeout)
        if reply.get("ok") is not True:
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            raise StudentError(str(error.get("type", "Error"))[:100], str(error.get("message", ""))[:2000],
                               str(error.get("traceback", ""))[:4000])
        try:
            return wire.unpack(reply.get("result"), arrays, _unpack_handle)
        except wire.WireError as err:
            self.kill()
            raise RunnerCrashed(f"the runner sent a malformed reply: {err}") from None

    def call(self, module: str, function: str, args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float,
             return_args: bool = False) -> Any:
        header = {"op": "call", "module": module, "function": function, "args": list(args), "kwargs": kwargs}
        if return_args:
            header["return_args"] = True
        return self.request(header, timeout)

    def harness(self, function: str, kwargs: dict[str, Any], timeout: float) -> Any:
        return self.request({"op": "harness", "function": function, "args": [], "kwargs": kwargs}, timeout)

    def output(self) -> str:
        """What the submission printed (the first 64 KiB)."""
        try:
            with open(self.scratch / "runner-output.log", "rb") as f:
                return f.read(OUTPUT_LIMIT).decode("utf-8", "replace")
        except OSError:
            return ""
