"""Run the runner inside bubblewrap: no network, a read-only system, only the submission and the engine.

``sandboxed(command, ...)`` wraps the worker's command line in ``bwrap`` when it is installed and works
(unprivileged user namespaces or root), so that inside:

- the file system is the OS's ``/usr`` (read-only), the Python installation without its
  ``site-packages``, NumPy, the staging directory (submission + minigrad copy, read-only) and the
  runner's own scratch directory (the only writable place besides a private ``/tmp``);
- the judge, the kit, ``solutions`` and the suites do not exist; ``/proc`` shows only the sandbox;
- there is no network, and a new PID namespace: when the runner is killed, everything it started dies.

Where bubblewrap is missing the runner runs with rlimits alone, and :func:`status` says so loudly
(the CLI prints it and the gradebook records it).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

WARNING = ("WARNING: bubblewrap (bwrap) is not available: submissions run WITHOUT a sandbox, with rlimits "
           "only; they can read and write your files. Install it: sudo apt-get install bubblewrap")
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/sbin", "/etc/alternatives", "/etc/ld.so.cache")


@functools.lru_cache(maxsize=1)
def bwrap() -> str | None:
    """The bwrap binary if it exists and can start a sandbox here, else None."""
    if os.environ.get("GRADER_NO_SANDBOX") == "1":
        return None
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = [path, *_system_binds(), "--unshare-all", "--die-with-parent", "--", "/bin/true"]
    try:
        ok = subprocess.run(probe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return path if ok else None


def status() -> str:
    """"bwrap" when submissions run sandboxed, "rlimits-only" otherwise."""
    return "bwrap" if bwrap() else "rlimits-only"


def _system_binds() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def _python_binds() -> list[str]:
    """The interpreter and its standard library, with every site-packages hidden behind an empty tmpfs."""
    roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    args: list[str] = []
    for root in sorted(roots):
        if not root.startswith("/usr/"):
            args += ["--ro-bind", root, root]
    hidden: list[str] = []
    candidates = [sysconfig.get_paths()[k] for k in ("purelib", "platlib")]
    candidates += [sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})[k]
                   for k in ("purelib", "platlib")]
    candidates += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    for site in candidates:
        real = os.path.realpath(site)
        if os.path.isdir(real) and real not in hidden:
            hidden.append(real)
            args += ["--tmpfs", real]
    return args


def sandboxed(command: list[str], *, staging: Path, scratch: Path, read_only: Iterable[Path],
              env: dict[str, str]) -> list[str]:
    """``command`` wrapped in bwrap (or unchanged, without bubblewrap)."""
    path = bwrap()
    if path is None:
        return command
    # mounts apply in order: the private /tmp first, so the binds below (often under /tmp) land on top
    args = [path, *_system_binds(), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", *_python_binds()]
    for extra in read_only:
        real = os.path.realpath(extra)
        args += ["--ro-bind", real, real]
    args += ["--ro-bind", str(staging), str(staging), "--bind", str(scratch), str(scratch),
             "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
             "--chdir", str(scratch), "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return [*args, "--", *command]
