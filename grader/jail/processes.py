"""Process control the judge relies on, and processes that escaped a runner without a sandbox.

- Portable pieces (Linux, macOS, Windows): :func:`in_own_group` for Popen, :func:`kill_group`,
  :func:`prctl` (Linux only; a no-op elsewhere, where ``ctypes.CDLL(None)`` has no ``prctl`` or fails).
- Escapes: inside bubblewrap a PID namespace kills everything a runner started, and with runner uids the
  judge kills by uid (:mod:`grader.jail.identity`); with rlimits only, a submission can double-fork out
  of its runner's process group, so the judge becomes a child subreaper and kills every child it did not
  start (:func:`reap_orphans`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from typing import Any

SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # Windows has no SIGKILL: TerminateProcess is as final
live_runners: set[int] = set()
_subreaper = False


def prctl(option: int, value: int) -> bool:
    """Linux's prctl(option, value); False where there is none (macOS, Windows) or it failed."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError, TypeError):  # no prctl in libc; Windows' CDLL(None) is a TypeError
        return False


def in_own_group() -> dict[str, Any]:
    """Popen arguments that start a process leading a group of its own, so it can be killed with its children."""
    if os.name == "posix":
        return {"start_new_session": True}
    return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}


def kill_group(pid: int) -> None:
    """Kill the process ``pid`` and what it started (POSIX: its process group; Windows: its process tree)."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, SIGKILL)
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(pid)], capture_output=True, timeout=30)
    with contextlib.suppress(OSError):  # the process itself, whatever became of the tree (Windows: TerminateProcess)
        os.kill(pid, SIGKILL)


def become_subreaper() -> None:
    """Orphans of our runners become our children (not init's), so that :func:`reap_orphans` finds them."""
    global _subreaper
    if not _subreaper:
        _subreaper = prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


def all_pids() -> list[int]:
    """Every process this one can see in ``/proc`` (none where there is no ``/proc``: macOS, Windows)."""
    try:
        return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return []


def parent_of(pid: int) -> int | None:
    """``pid``'s parent, from ``/proc/<pid>/stat`` (None once it is gone); the name before it may hold ")"."""
    with contextlib.suppress(OSError, IndexError, ValueError), open(f"/proc/{pid}/stat", "rb") as f:
        return int(f.read().rsplit(b")", 1)[1].split()[1])
    return None


def uid_of(pid: int) -> int | None:
    """``pid``'s real uid, from ``/proc/<pid>/status`` (None once it is gone)."""
    with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def reap_orphans() -> None:
    """Kill every child of this judge that is not a live runner: what a runner double-forked away.

    Only meaningful in a judge process that became a subreaper (``RunnerProxy(..., reap=True)``): there a
    process that set up its own session to survive its runner's process group is reparented to the judge
    when its parent dies. Inside bubblewrap this never finds anything (the PID namespace does the job).
    """
    if not _subreaper:
        return
    for _ in range(100):
        orphans = [pid for pid in all_pids() if parent_of(pid) == os.getpid() and pid not in live_runners]
        if not orphans:
            break
        for pid in orphans:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, SIGKILL)
        for pid in orphans:
            for _ in range(50):
                try:
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        break
                except ChildProcessError:
                    break
                time.sleep(0.002)
