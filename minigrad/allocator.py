"""Keep freed memory for reuse: the cheapest speed-up a NumPy training loop can get on Linux.

Every step of a training loop allocates the same large temporaries again (im2col columns,
activations, their gradients) and frees them. glibc's malloc serves blocks above ~128 KiB-32 MiB
with a fresh ``mmap`` and returns them to the system on ``free``; the next step then pays one page
fault per 4 KiB page to get the memory back, zeroed by the kernel. For LeNet-5 on Fashion-MNIST
that is half of a training step's time. Raising glibc's mmap and trim thresholds keeps the freed
blocks in the process's heap, where the next step's allocations of the same sizes reuse them.

The price: up to ``TRIM_THRESHOLD`` of freed memory stays resident instead of going back to the
system. ``import minigrad`` applies it unless the environment says ``MINIGRAD_KEEP_MEMORY=0``;
elsewhere than glibc (macOS, Windows, musl) it does nothing. CuPy keeps its own pool on the GPU.
"""

from __future__ import annotations

import ctypes
import os
import platform
import warnings

__all__ = ["ENV_VAR", "MMAP_THRESHOLD", "TRIM_THRESHOLD", "is_keeping_freed_memory", "keep_freed_memory"]

ENV_VAR = "MINIGRAD_KEEP_MEMORY"
MMAP_THRESHOLD = 256 * 2**20  # blocks below this come from the heap, and are reused there
TRIM_THRESHOLD = 512 * 2**20  # free memory at the heap's top that is kept, not handed back
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_keeping = False


def keep_freed_memory(enable: bool = True) -> bool:
    """Tune glibc's malloc to keep freed blocks; ``enable=False`` sets both thresholds back to 128 KiB.

    (128 KiB is where glibc starts; once set, its own adaptive raising of the mmap threshold stays off.)

    Returns True when glibc took the settings, False where there is no glibc (nothing changes).
    """
    if not isinstance(enable, bool):
        raise TypeError(f"enable must be True or False, got {enable!r}")
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    # glibc's defaults: 128 KiB each, the mmap threshold then adapting upwards by itself
    mmap_threshold, trim_threshold = (MMAP_THRESHOLD, TRIM_THRESHOLD) if enable else (128 * 2**10, 128 * 2**10)
    taken = bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold))
    global _keeping
    _keeping = enable and taken
    return taken


def is_keeping_freed_memory() -> bool:
    """Whether freed memory is being kept for reuse (see :func:`keep_freed_memory`)."""
    return _keeping


def apply_default() -> bool:
    """What ``import minigrad`` does: keep freed memory unless ``MINIGRAD_KEEP_MEMORY=0``."""
    setting = os.environ.get(ENV_VAR, "1").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting not in ("1", "true", "yes", "on"):
        warnings.warn(f"{ENV_VAR} must be 1 or 0, got {os.environ[ENV_VAR]!r}; keeping freed memory (the default)",
                      stacklevel=2)
    return keep_freed_memory()
