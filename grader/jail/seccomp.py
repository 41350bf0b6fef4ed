"""The runners' network filter, built with libseccomp where bubblewrap cannot take the network away.

In the uid tier (root without user namespaces: Gradescope, Docker, Kubernetes) a runner shares the
judge's network namespace. A seccomp filter built here, with libseccomp's Python binding (Debian's
``python3-seccomp``, module ``seccomp``, or PyPI's ``pyseccomp``: ``pip install 'minigrad-kit[sandbox]'``),
makes every ``socket()`` fail with EACCES — no TCP, UDP, raw, netlink or Unix socket can be opened, while
``socketpair()`` still works for local pipes — and refuses io_uring, which can open sockets without the
``socket`` system call. libseccomp adds the architecture check: a 32-bit system call through another
ABI kills the process instead of slipping past the filter.

The judge compiles the filter once to classic BPF (:func:`network_filter`); the worker loads those bytes
with ``prctl(PR_SET_SECCOMP)`` after ``no_new_privs``, before any submission code runs, so the runner
needs neither libseccomp nor the binding. Without a binding the tier is "uid" and the network is open.
"""

from __future__ import annotations

import errno
import functools
import importlib
import tempfile
from typing import Any

BINDINGS = ("seccomp", "pyseccomp")  # python3-seccomp (Debian, Ubuntu), pyseccomp (PyPI)
INSTALL_HINT = "pip install 'minigrad-kit[sandbox]' (pyseccomp) or apt-get install python3-seccomp"
DENIED_WITH_ENOSYS = ("io_uring_setup", "io_uring_enter", "io_uring_register")


def binding() -> Any:
    """The libseccomp binding module, or None when neither is installed (or libseccomp itself is missing)."""
    for name in BINDINGS:
        try:
            module = importlib.import_module(name)
        except (ImportError, OSError):  # pyseccomp raises OSError without libseccomp.so.2
            continue
        if hasattr(module, "SyscallFilter"):
            return module
    return None


@functools.lru_cache(maxsize=1)
def network_filter() -> bytes | None:
    """The filter as classic BPF (8 bytes an instruction), or None without a libseccomp binding."""
    lib = binding()
    if lib is None:
        return None
    rules = lib.SyscallFilter(lib.ALLOW)
    rules.add_rule(lib.ERRNO(errno.EACCES), "socket")
    for name in DENIED_WITH_ENOSYS:
        try:
            rules.add_rule(lib.ERRNO(errno.ENOSYS), name)
        except (ValueError, RuntimeError, OSError):  # an old libseccomp that does not know io_uring
            continue
    with tempfile.TemporaryFile() as f:
        rules.export_bpf(f)
        f.seek(0)
        program = f.read()
    return program if program and not len(program) % 8 else None  # 8 bytes an instruction, or unusable
