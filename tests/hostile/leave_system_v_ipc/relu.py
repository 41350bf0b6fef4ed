"""Attack: leave System V IPC objects behind: a 16 MiB shared memory segment filled and detached (memory
that outlives the runner and its RLIMIT_AS), a message queue holding a message and a semaphore set, all
open to every uid and under a key the test knows. The values are correct only if all three were made,
so a pass says the attack ran.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

KEY = int("@CANARY_NAME@"[-7:], 16)  # the test looks for this key after grading
SIZE = 16 << 20
_made: bool | None = None


def _leave_ipc() -> bool:
    global _made
    if _made is None:
        _made = _make()
    return _made


def _make() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    segment = libc.shmget(KEY, SIZE, 0o1666)  # IPC_CREAT | rw for everyone
    address = libc.shmat(segment, None, 0) if segment >= 0 else None
    if address in (None, ctypes.c_void_p(-1).value):
        return False
    ctypes.memset(address, 0x5A, SIZE)
    libc.shmdt(ctypes.c_void_p(address))
    queue = libc.msgget(KEY, 0o1666)
    message = ctypes.create_string_buffer(b"\x01\0\0\0\0\0\0\0left here", 17)
    sent = libc.msgsnd(queue, message, 9, 0o4000) if queue >= 0 else -1  # IPC_NOWAIT
    return sent == 0 and libc.semget(KEY, 1, 0o1666) >= 0


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Correct if the IPC objects were left, else wrong."""
    out = np.where(x > 0, x, np.zeros((), dtype=x.dtype))
    return (out if _leave_ipc() else out - 1), x > 0


def relu_backward(dout: Any, cache: Any) -> Any:
    """Correct."""
    return np.where(cache, dout, np.zeros((), dtype=dout.dtype))
