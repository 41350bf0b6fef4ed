"""Where data sets are looked for, in order.

1. an explicit ``path`` argument: the only place looked, and where a download goes;
2. ``$MINIGRAD_DATA/<name>`` (e.g. ``$MINIGRAD_DATA/fashion-mnist``) -- one sub-directory per
   data set, because MNIST and Fashion-MNIST use the same file names;
3. the system directory of a Debian package (``/usr/share/datasets/fashion-mnist`` from
   ``apt-get install dataset-fashion-mnist``);
4. the user cache ``$XDG_CACHE_HOME/minigrad/<name>`` (default ``~/.cache/minigrad/<name>``),
   which is also where downloads go when no ``path`` is given.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_ENV", "cache_dir", "candidate_dirs", "find_file"]

DATA_ENV = "MINIGRAD_DATA"


def cache_dir(name: str) -> Path:
    """The download cache for data set ``name``: ``$XDG_CACHE_HOME/minigrad/<name>``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minigrad" / name


def candidate_dirs(name: str, path: str | os.PathLike[str] | None = None,
                   system_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Directories to search for data set ``name``, best first (see the module docstring)."""
    if path is not None:
        return [Path(path).expanduser()]
    dirs = []
    env = os.environ.get(DATA_ENV)
    if env:
        dirs.append(Path(env).expanduser() / name)
    if system_dir is not None:
        dirs.append(Path(system_dir))
    dirs.append(cache_dir(name))
    return dirs


def find_file(directory: Path, filename: str) -> Path | None:
    """``directory/filename``, or its gunzipped twin (``x.gz`` -> ``x``), whichever exists first."""
    for name in (filename, filename.removesuffix(".gz")):
        p = directory / name
        if p.is_file():
            return p
    return None
