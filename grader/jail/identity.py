"""Runner identities: the uid a runner of a root judge becomes, and what the judge does for and after it.

A root judge never lets student code run as root. Each runner start gets a uid and gid of its own,
``RUNNER_UID_BASE + (judge pid << 6 | counter)``: far above any real or subordinate id range, in no
``/etc/passwd``, owning no file the judge did not give it, and never shared by two live runners, so

- ``RLIMIT_NPROC`` (counted per uid, system-wide, and not enforced for root) caps what the runner starts;
- whatever an earlier runner left behind cannot touch a later one's files or processes;
- the judge can find and kill everything the runner started by its uid (:func:`kill_uids`), whatever
  sessions or double forks it used, and remove what it left in the world-writable folders and the
  System V IPC objects it made (:func:`clean_up_after`).

Inside bubblewrap the worker switches to this uid inside the sandbox. Where bubblewrap cannot start
(Docker, Gradescope, Kubernetes: root without user namespaces), the uid and file modes are the sandbox:
:func:`give_stage` makes the staging directory readable to that runner's group only and its scratch
directory its own, and :func:`probe` checks for real, as a spare runner uid, that Python and NumPy run
and that none of the judge's files can be read (:mod:`grader.jail.sandbox` decides the tier).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.jail.processes import all_pids, uid_of

RUNNER_UID_BASE = 0x60000000
BLOCK_BITS = 6  # runner starts per judge before a uid is reused (the earlier one's processes are gone by then)
PROBE_SLOT = (1 << BLOCK_BITS) - 1  # the last uid of a block: the probe's, never a runner's
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")
_counter = itertools.count()


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def block(judge_pid: int) -> range:
    """The uids the runners of the judge with this pid may get (the host kills leftovers by this range)."""
    start = RUNNER_UID_BASE + ((judge_pid & 0x3FFFFF) << BLOCK_BITS)
    return range(start, start + (1 << BLOCK_BITS))


def next_identity() -> tuple[int, int]:
    """(uid, gid) for this judge's next runner: a fresh one for each start, until the block wraps."""
    uid = block(os.getpid())[next(_counter) % PROBE_SLOT]
    return uid, uid


# ----- the judge's files, given to one runner -----

def open_to_runners(path: Path) -> None:
    """Let runners traverse ``path``: x for everyone (the judge's 0700 folders become 0711: what is inside
    is reachable by name, and nothing can be listed)."""
    os.chmod(path, (os.stat(path).st_mode & 0o7777) | 0o711)


def give_stage(stage: Path, scratch: Path, identity: tuple[int, int]) -> None:
    """The staging directory readable by the runner's group only (root-owned, so it cannot change it),
    the scratch directory the runner's own and empty, as a fresh tmpfs would be."""
    uid, gid = identity
    for root, dirs, files in os.walk(stage):
        os.chown(root, 0, gid)
        os.chmod(root, 0o750)
        for name in dirs + files:
            path = os.path.join(root, name)
            os.lchown(path, 0, gid)
            if not os.path.islink(path) and name in files:
                os.chmod(path, 0o640)
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(mode=0o700)
    os.chown(scratch, uid, gid)
    os.chmod(scratch, 0o700)


def share_runtime(runtime: Path) -> None:
    """A folder the judge built for runners (the runtime's minigrad copy, a staging directory) readable by
    every runner and writable by none, whatever the judge's umask or the kit's modes."""
    for root, _dirs, files in os.walk(runtime):
        os.chmod(root, 0o755)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, 0o444)


# ----- after a runner -----

def processes_of(uids: Iterable[int]) -> list[int]:
    """Pids of every process whose real uid is one of ``uids``."""
    wanted = set(uids)
    return [pid for pid in all_pids() if uid_of(pid) in wanted]


def kill_uids(uids: Iterable[int], limit: float = 5.0) -> None:
    """SIGKILL every process running as one of ``uids`` until none is left.

    Repeated because a process can fork between the scan and the kill; RLIMIT_NPROC keeps that finite.
    """
    wanted = set(uids)
    end = time.monotonic() + limit
    while wanted:
        pids = processes_of(wanted)
        if not pids or time.monotonic() > end:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def remove_files_of(uids: Iterable[int], folders: Sequence[str] = WORLD_WRITABLE) -> None:
    """Remove what runners with these uids created in the world-writable folders."""
    wanted = set(uids)
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid not in wanted:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue


# System V IPC: kind (its /proc/sysvipc file) -> its id column, ipcrm's option for one of that kind
SYSV_IPC = {"shm": ("shmid", "-m"), "msg": ("msqid", "-q"), "sem": ("semid", "-s")}


def sysv_ipc() -> list[tuple[str, dict[str, int]]]:
    """(kind, its /proc/sysvipc columns) of every System V IPC object in this IPC namespace; none without
    ``/proc/sysvipc`` (not Linux)."""
    found = []
    for kind in SYSV_IPC:
        try:
            header, *rows = Path("/proc/sysvipc", kind).read_text().splitlines()
        except (OSError, ValueError):
            continue
        found += [(kind, dict(zip(header.split(), map(int, row.split())))) for row in rows]
    return found


def ipc_of(uids: Iterable[int]) -> list[tuple[str, int, int]]:
    """(kind, id, remover) of each System V shared memory segment, message queue and semaphore set these
    uids created or own. ``remover`` is the uid that may remove it without CAP_SYS_ADMIN: its creator,
    else its owner."""
    wanted = set(uids)
    return [(kind, fields[SYSV_IPC[kind][0]], fields["cuid"] if fields["cuid"] in wanted else fields["uid"])
            for kind, fields in sysv_ipc() if fields["cuid"] in wanted or fields["uid"] in wanted]


def remove_ipc_of(uids: Iterable[int]) -> None:
    """Remove the System V IPC objects these uids created or own.

    Without bubblewrap no IPC namespace dies with the runner, and a shared memory segment outlives its
    creator: a submission could fill segment after segment, each under its RLIMIT_AS, and leave the
    memory held until the host runs out; a later runner could read what an earlier one left in one.
    Removing one takes its creator's or owner's uid or CAP_SYS_ADMIN, which a container's root lacks
    (Docker, Gradescope), so ``ipcrm`` runs as that uid: the creator can always remove what it made.
    """
    by_remover: dict[int, list[str]] = {}
    for kind, ident, remover in ipc_of(uids):
        by_remover.setdefault(remover, []).extend([SYSV_IPC[kind][1], str(ident)])
    ipcrm = shutil.which("ipcrm", path="/usr/bin:/bin")  # util-linux: in every Debian and Ubuntu image
    for uid, arguments in by_remover.items() if ipcrm else ():
        with contextlib.suppress(OSError, subprocess.SubprocessError):  # what is left is said by ipc_of
            subprocess.run([ipcrm, *arguments], user=uid, group=uid, extra_groups=[], env={},
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)


def clean_up_after(uids: Iterable[int]) -> None:
    """Kill what runs as these uids and remove what they left: files in the world-writable folders and
    System V IPC objects."""
    uids = list(uids)
    kill_uids(uids)
    remove_files_of(uids)
    remove_ipc_of(uids)


# ----- the probe -----

PROBE_CODE = r"""
import json, os, socket, sys
request = json.loads(sys.stdin.read())
report = {"uid": os.getuid(), "python": sys.version.split()[0]}
if request.get("seccomp"):
    import ctypes
    bpf = bytes.fromhex(request["seccomp"])
    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(bpf, len(bpf))
    program = Program(len(bpf) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(program), 0, 0) != 0:
        report["seccomp"] = "cannot load the filter: errno %d" % ctypes.get_errno()
    else:
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
            report["seccomp"] = "the filter loaded, but a socket could still be opened"
        except OSError as err:
            report["seccomp"] = "ok" if err.errno == 13 else "socket() failed with errno %d" % err.errno
try:
    sys.path.insert(0, request["numpy_parent"])
    import numpy
    report["numpy"] = numpy.__version__
except Exception as err:
    report["numpy_error"] = "%s: %s" % (type(err).__name__, err)
readable, seen = [], 0
for top in request["paths"]:
    walk = os.walk(top) if os.path.isdir(top) else [(os.path.dirname(top), [], [os.path.basename(top)])]
    for root, dirs, files in walk:
        for name in files:
            seen += 1
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    f.read(1)
            except OSError:
                continue
            readable.append(path)
        if len(readable) >= 5 or seen > 50000:
            break
    if len(readable) >= 5 or seen > 50000:
        break
report["readable"] = readable
print(json.dumps(report))
"""


@dataclass
class ProbeReport:
    """What a spare runner uid could do here: run Python and NumPy, load the filter, read which files."""

    ok: bool
    problem: str = ""  # why runners cannot run under their own uid here ("" when they can)
    readable: list[str] = field(default_factory=list)  # files of the judge's that it could read
    seccomp: str = ""  # "ok", or why the network filter does not work


def closed_ancestor(path: str) -> str | None:
    """The first folder on the way to ``path`` that other users cannot traverse, if any."""
    parts = Path(os.path.realpath(path)).parts
    for i in range(1, len(parts)):
        folder = str(Path(*parts[:i]))
        with contextlib.suppress(OSError):
            if not os.stat(folder).st_mode & 0o001:
                return folder
    return None


def probe(paths: Sequence[str | Path] = (), seccomp: bytes | None = None, timeout: float = 60.0) -> ProbeReport:
    """Start Python as a spare runner uid (no groups) and see what it can do; root only."""
    import numpy

    from grader.jail.bwrap import base_interpreter  # bwrap imports this module

    uid = block(os.getpid())[PROBE_SLOT]
    python = base_interpreter([sys.executable])[0]  # the interpreter runners start
    request = {"numpy_parent": str(Path(numpy.__file__).resolve().parent.parent),
               "paths": [str(p) for p in paths], "seccomp": seccomp.hex() if seccomp else ""}
    try:
        result = subprocess.run([python, "-I", "-S", "-c", PROBE_CODE], input=json.dumps(request),
                                capture_output=True, text=True, timeout=timeout, user=uid, group=uid,
                                extra_groups=[], cwd="/", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    except PermissionError:
        closed = closed_ancestor(python)
        where = f": {closed} is closed to other users (mode {os.stat(closed).st_mode & 0o777:o})" if closed else ""
        return ProbeReport(False, f"a runner's uid cannot start {python}{where}; install Python where every "
                                  "user can run it (as the Gradescope setup.sh does), or use bubblewrap")
    except (OSError, subprocess.SubprocessError) as err:
        return ProbeReport(False, f"cannot start a process under a runner's uid ({err})")
    finally:
        clean_up_after([uid])
    try:
        report = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return ProbeReport(False, f"Python did not run under a runner's uid ({tail[:200]})")
    if report.get("uid") != uid:
        return ProbeReport(False, f"the probe ran as uid {report.get('uid')}, not {uid}")
    if "numpy" not in report:
        closed = closed_ancestor(request["numpy_parent"])
        where = f" ({closed} is closed to other users)" if closed else ""
        return ProbeReport(False, f"a runner's uid cannot import NumPy from {request['numpy_parent']}{where}: "
                                  f"{report.get('numpy_error', '')[:200]}")
    return ProbeReport(True, readable=[str(p) for p in report.get("readable", [])],
                       seccomp=str(report.get("seccomp", "")))
