"""The judge's handle on one runner process: start it, call into it with a deadline, kill it.

Everything that comes back is plain data: arrays loaded with ``allow_pickle=False`` and JSON values;
runner-side objects (a kernel's cache, or an object a submission made up) stay in the runner and
arrive as :class:`Handle`. What a runner says about itself (a handle's ``flags``, its ``notes`` on what
the submission did) is untrusted and only ever used to label a result, never to give credit.

How a runner's end is reported:

- no answer before the deadline: the judge kills it, :class:`RunnerTimeout`;
- killed by SIGXCPU (its CPU-time limit), or by SIGKILL after using up its CPU time (for a sandboxed runner,
  whose CPU time the judge cannot see: after living as long as its CPU limit): :class:`RunnerTimeout`;
- killed by SIGKILL otherwise (the kernel's out-of-memory killer): :class:`RunnerOutOfMemory` — under the
  address-space limit running out of memory normally shows as a ``MemoryError`` the submission raised
  (a :class:`StudentError` whose ``out_of_memory`` is true) instead;
- any other exit, signal (SIGSEGV included) or broken frame: :class:`RunnerCrashed`.

Inside bubblewrap the runner's exit status reaches the judge as bwrap's: 128 + N for signal N.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from grader.jail import bwrap, identity, sandbox, seccomp
from grader.jail.errors import (
    Handle,
    RunnerCrashed,
    RunnerError,
    RunnerOutOfMemory,
    RunnerTimeout,
    StudentError,
    pack_handle,
    short_strings,
    unpack_handle,
)
from grader.jail.kernel_service import KernelService
from grader.jail.processes import SIGKILL, become_subreaper, in_own_group, kill_group, live_runners, reap_orphans
from grader.runner import wire
from grader.vocabulary.options import Limits

__all__ = ["Handle", "RunnerCrashed", "RunnerError", "RunnerOutOfMemory", "RunnerProxy", "RunnerTimeout",
           "StudentError", "reap_orphans"]

OUTPUT_LOG = "runner-output.log"
MAX_NOTES = 20
REPLY_FIELDS = ("ok", "result", "error", "notes")
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # Windows has no symlink-following opens to refuse
DEFAULT_LIMITS = Limits().rlimits()  # unless the judge says otherwise (see worker._apply_limits)


class RunnerProxy:
    """One worker process serving one staging directory."""

    def __init__(self, staging: Path, scratch: Path, limits: dict[str, int] | None = None,
                 env: dict[str, str] | None = None, read_only: tuple[Path, ...] = (), reap: bool = False,
                 tier: str | None = None, kernels: KernelService | None = None) -> None:
        self.staging, self.scratch = Path(staging), Path(scratch)
        self.limits = dict(DEFAULT_LIMITS if limits is None else limits)
        self.env = env or {}
        self.read_only = read_only
        self.reap = reap
        self.tier = tier or sandbox.for_judge()  # see grader/jail/sandbox.py
        self.kernels = kernels  # reference kernels computed for the runner (the residual block's tests)
        self.process: subprocess.Popen[bytes] | None = None
        self._replies: queue.Queue[Any] = queue.Queue()
        self.sandboxed = False
        self.run_as: tuple[int, int] | None = None
        self.uids: list[int] = []  # every uid a runner of this proxy switched to
        self.notes: list[str] = []
        self._imported: set[str] = set()
        self._import_failed: dict[str, tuple[RunnerError, float]] = {}
        self._killed = False
        self._started = 0.0

    # ----- lifetime -----
    def start(self) -> None:
        """Start a runner in this proxy's tier: inside bwrap, under a uid of its own, or with rlimits only."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        if self.reap:
            become_subreaper()
        self.sandboxed = self.tier == "bwrap"
        uid_tier = self.tier in ("uid+seccomp", "uid")
        if uid_tier and not identity.is_root():  # never run a submission less confined than its tier says
            raise RuntimeError(f"the {self.tier} tier needs a root judge")
        program = seccomp.network_filter() if self.tier == "uid+seccomp" else b""
        if program is None:
            raise RuntimeError("the uid+seccomp tier needs a libseccomp binding in the judge's Python")
        own_uid = uid_tier or (self.sandboxed and identity.is_root() and bwrap.can_switch_uid())
        self.run_as = identity.next_identity() if own_uid else None
        config: dict[str, Any] = {"limits": self.limits}
        if self.run_as:
            config["run_as"] = list(self.run_as)
            self.uids.append(self.run_as[0])
        if program:
            config["seccomp"] = program.hex()
        kernel_fds = self.kernels.start() if self.kernels is not None else ()  # booting beside the runner
        if kernel_fds:
            config["kernels"] = list(kernel_fds)
        command = [sys.executable, "-I", "-S", str(self.staging / "_grader_worker.py"), json.dumps(config)]
        env = self._environment()
        if self.sandboxed:
            command = bwrap.wrap(command, staging=self.staging, scratch=self.scratch, read_only=self.read_only,
                                 env=env, run_as=self.run_as)
        elif self.run_as:  # the uid tier: the staging directory its group's, the scratch directory its own
            identity.give_stage(self.staging, self.scratch, self.run_as)
            command = bwrap.base_interpreter(command)
        log = self._open_log()
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                            cwd=self.scratch, env=env, close_fds=True, pass_fds=kernel_fds,
                                            **in_own_group())
        finally:
            os.close(log)
            if self.kernels is not None:
                self.kernels.handed_over()
        live_runners.add(self.process.pid)
        self._started = time.monotonic()
        self._killed = False
        self._imported = set()
        self._replies = queue.Queue()
        threading.Thread(target=self._read_replies, args=(self.process, self._replies), daemon=True).start()

    def _open_log(self) -> int:
        """The runner's stdout and stderr: a fresh file in its scratch directory, a sink nobody reads (what a
        submission prints is never shown: hidden tests' inputs could be printed); RLIMIT_FSIZE caps it."""
        path = self.scratch / OUTPUT_LOG
        path.unlink(missing_ok=True)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | os.O_APPEND, 0o600)

    def _environment(self) -> dict[str, str]:
        return {"PATH": "/usr/bin:/bin", "HOME": str(self.scratch), "TMPDIR": str(self.scratch), "LANG": "C.UTF-8",
                "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONDONTWRITEBYTECODE": "1", **self.env}

    @staticmethod
    def _read_replies(process: subprocess.Popen[bytes], replies: queue.Queue[Any]) -> None:
        try:
            while True:
                replies.put(wire.read_frame(process.stdout))
        except (EOFError, OSError, ValueError, wire.WireError) as err:
            replies.put(err)
        except BaseException as err:  # MemoryError, RecursionError: the runner sent something hostile
            replies.put(wire.WireError(f"unreadable frame ({type(err).__name__})"))

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """Kill the runner and everything it started (its process group; inside bwrap, its PID namespace)."""
        if self.kernels is not None:
            self.kernels.stop()
        if self.process is None:
            return
        self._killed = True
        kill_group(self.process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        # only our end of the request pipe: closing stdout would wait for the reader thread, which a
        # grandchild that escaped the kill can keep blocked by holding the pipe open
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        live_runners.discard(self.process.pid)
        if self.reap:
            reap_orphans()
        if self.run_as and not self.sandboxed:  # what escaped the process group still runs as its uid
            identity.clean_up_after([self.run_as[0]])

    def close(self) -> None:
        if self.alive:
            with contextlib.suppress(RunnerError):
                self._send({"op": "bye"}, {})
                self._receive(2.0)
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
        if self.reap and not self.sandboxed:
            reap_orphans()
        return reply

    def _wait(self) -> tuple[int | None, float]:
        """(exit status, CPU seconds the runner and its children used) once the runner is gone."""
        deadline = time.monotonic() + 2.0
        while self.process.returncode is None and time.monotonic() < deadline and hasattr(os, "wait4"):
            try:
                pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            except ChildProcessError:
                self.process.poll()
                break
            if pid:
                self.process.returncode = os.waitstatus_to_exitcode(status)
                return self.process.returncode, usage.ru_utime + usage.ru_stime
            time.sleep(0.01)
        return self.process.returncode, 0.0

    def _crashed(self, detail: str) -> RunnerCrashed | RunnerTimeout:
        code, cpu = (None, 0.0) if self.process is None else self._wait()
        killed_by_us = self._killed
        self.kill()
        signum = None
        if code is not None and code < 0:
            signum = -code
        elif code is not None and self.sandboxed and 128 < code < 128 + 65:
            signum = code - 128  # bwrap reports a signal N as exit status 128 + N
        suffix = f": {detail}" if detail else ""
        cpu_limit = self.limits.get("cpu_seconds") or 0
        # inside bwrap the judge cannot see the runner's CPU time (bwrap does not pass it on): a SIGKILL
        # after the runner lived at least its CPU limit is counted as the limit's (a single thread cannot
        # have used more), before that as the out-of-memory killer's
        age = time.monotonic() - self._started
        used_up = cpu >= cpu_limit or (self.sandboxed and age >= cpu_limit)
        if signum == getattr(signal, "SIGXCPU", None) or (signum == SIGKILL and cpu_limit and used_up):
            return RunnerTimeout(f"the runner used up its {cpu_limit} s of CPU time and was stopped{suffix}")
        if signum == SIGKILL and not killed_by_us:
            return RunnerOutOfMemory(f"the runner was killed by SIGKILL (out of memory){suffix}")
        if signum is not None:
            try:
                name = signal.Signals(signum).name
            except ValueError:
                name = f"signal {signum}"
            return RunnerCrashed(f"the runner was killed by {name}{suffix}")
        if code is not None:
            return RunnerCrashed(f"the runner exited with status {code}{suffix}")
        return RunnerCrashed(f"the runner stopped answering{suffix}")

    def request(self, header: dict[str, Any], timeout: float) -> Any:
        """Send one request and return its unpacked result; raise StudentError for a student exception."""
        if self.alive and self.kernels is not None and not self.kernels.alive:
            self.kill()  # its kernel process died (its memory limit): a fresh pair for the next test
        if not self.alive:
            self.start()
        packer = wire.Packer(on_object=pack_handle)
        packed = {k: packer.pack(v) if k in ("args",) else v for k, v in header.items()}
        if "kwargs" in header:
            packed["kwargs"] = packer.pack(header["kwargs"])["__dict__"]
        self._send(packed, packer.arrays)
        reply, arrays = self._receive(timeout)
        self._take_notes(reply.get("notes"))
        unexpected = sorted(str(k)[:20] for k in reply if k not in REPLY_FIELDS)
        if unexpected:  # the worker never sends these: the submission is writing the replies
            self._take_notes([f"forged the runner's replies (fields {', '.join(unexpected[:4])})"])
        if reply.get("ok") is not True:
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            raise StudentError(str(error.get("type", "Error"))[:100], str(error.get("message", ""))[:2000],
                               str(error.get("traceback", ""))[:4000])
        try:
            return wire.unpack(reply.get("result"), arrays, unpack_handle)
        except wire.WireError as err:
            self.kill()
            raise RunnerCrashed(f"the runner sent a malformed reply: {err}") from None

    def _take_notes(self, notes: Any) -> None:
        for text in short_strings(notes, MAX_NOTES, 200):
            if text not in self.notes and len(self.notes) < MAX_NOTES:
                self.notes.append(text)

    def ensure_imported(self, module: str, timeout: float) -> None:
        """Import ``module`` in the runner once; an import that killed its runner, or hung for about
        ``timeout`` seconds or more, is not tried again: later tests fail at once with the same status."""
        failed, given = self._import_failed.get(module, (None, 0.0))
        if failed is not None and (given >= 0.9 * timeout or not isinstance(failed, RunnerTimeout)):
            # it hung with (about) as much time as it would get now, or it killed its runner
            raise type(failed)(f"{failed} (while importing {module}; not retried)")
        if self.alive and module in self._imported:
            return
        try:
            self.request({"op": "import", "module": module}, timeout)
        except (RunnerTimeout, RunnerCrashed) as err:
            self._import_failed[module] = (err, timeout)
            raise
        self._imported.add(module)

    def call(self, module: str, function: str, args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float,
             return_args: bool = False) -> Any:
        start = time.monotonic()
        self.ensure_imported(module, timeout)
        header = {"op": "call", "module": module, "function": function, "args": list(args), "kwargs": kwargs}
        if return_args:
            header["return_args"] = True
        return self.request(header, max(0.05, timeout - (time.monotonic() - start)))

    def harness(self, function: str, kwargs: dict[str, Any], timeout: float, module: str) -> Any:
        start = time.monotonic()
        self.ensure_imported(module, timeout)
        return self.request({"op": "harness", "function": function, "args": [], "kwargs": kwargs},
                            max(0.05, timeout - (time.monotonic() - start)))
