"""Processes that escaped a runner without a sandbox: the judge adopts them and kills them.

Inside bubblewrap a PID namespace does this job; without it, a submission can double-fork out of its
runner's process group, so the judge becomes a child subreaper and kills every child it did not start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

live_runners: set[int] = set()
_subreaper = False


def become_subreaper() -> None:
    """Orphans of our runners become our children (not init's), so that :func:`reap_orphans` finds them."""
    global _subreaper
    if _subreaper:
        return
    try:
        import ctypes

        _subreaper = ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _children() -> list[int]:
    me, found = os.getpid(), []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == me:
            found.append(int(entry))
    return found


def reap_orphans() -> int:
    """Kill every child of this judge that is not a live runner: what a runner double-forked away.

    Only meaningful in a judge process that became a subreaper (``RunnerProxy(..., reap=True)``): there a
    process that set up its own session to survive its runner's process group is reparented to the judge
    when its parent dies. Inside bubblewrap this never finds anything (the PID namespace does the job).
    """
    if not _subreaper:
        return 0
    killed = 0
    for _ in range(100):
        orphans = [pid for pid in _children() if pid not in live_runners]
        if not orphans:
            break
        for pid in orphans:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        for pid in orphans:
            for _ in range(50):
                try:
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        break
                except ChildProcessError:
                    break
                time.sleep(0.002)
    return killed
