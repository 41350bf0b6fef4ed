"""Save and load weights as ``.npz`` files: plain arrays by dotted name, never pickle.

    >>> minigrad.save(model, "lenet.npz")            # a Module or a state dict
    >>> state = minigrad.load("lenet.npz")           # {"conv1.weight": ndarray, ...}
    >>> model.load_state_dict(state)                 # or: load_into(model, "lenet.npz")

The file is an ordinary ``.npz`` archive, laid out exactly as ``numpy.savez``
writes one: one ``.npy`` entry per tensor, named by its key in ``state_dict()``,
plus one entry ``__minigrad__`` holding a small JSON header (format name and
version) as a uint8 array. Entries are written with ``allow_pickle=False``
(``numpy.savez`` itself would take a key named ``file`` or ``allow_pickle`` as
its own argument), and loading uses ``numpy.load(..., allow_pickle=False)``, so
a file cannot run code: an archive holding Python objects is refused, not
unpickled.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .nn.module import Module
from .tensor import Tensor

__all__ = ["FORMAT_VERSION", "load", "load_into", "save"]

FORMAT_VERSION = 1
METADATA_KEY = "__minigrad__"
_FORMAT_NAME = "minigrad-state-dict"
_NUMERIC_KINDS = "fiub"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with entries, an empty zip


def _as_path(path: Any, op: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{op}: path must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)


def _host_arrays(obj: Any) -> dict[str, np.ndarray]:
    """The arrays to write, by name, checked to be numeric (so no pickle is ever needed)."""
    if isinstance(obj, Module):
        state: Mapping[Any, Any] = obj.state_dict()
    elif isinstance(obj, Mapping):
        state = obj
    else:
        raise TypeError(f"save: obj must be a Module or a state dict (name -> array), got {type(obj).__name__}")
    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"save: state dict keys must be non-empty strings, got {key!r}")
        if key == METADATA_KEY:
            raise ValueError(f"save: the key {METADATA_KEY!r} is reserved for the file's header")
        array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"save: {key!r} holds {array.dtype} values; only numeric arrays can be saved")
        arrays[key] = array
    return arrays


def save(obj: Any, path: str | os.PathLike) -> Path:
    """Write a Module's ``state_dict()`` (or a state dict itself) to ``path`` as ``.npz``; returns the path.

    The ``.npz`` suffix is added when ``path`` lacks it, as ``numpy.savez``
    does; the returned path is the file actually written. The file is written to a temporary name
    first and then renamed, so an interrupted save never leaves half a file.
    """
    target = _as_path(path, "save")
    if target.suffix != ".npz":
        target = target.with_name(target.name + ".npz")
    arrays = _host_arrays(obj)
    header = json.dumps({"format": _FORMAT_NAME, "version": FORMAT_VERSION, "keys": list(arrays)})
    arrays[METADATA_KEY] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    partial = target.with_name(target.name + ".partial")
    try:
        with zipfile.ZipFile(partial, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for key, array in arrays.items():
                with archive.open(key + ".npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, array, allow_pickle=False)
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    return target


def _read_header(raw: np.ndarray, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(raw.astype(np.uint8).tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") != _FORMAT_NAME:
        raise ValueError(f"load: {path} has an unreadable {METADATA_KEY} header; the file is corrupted")
    version = header.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"load: {path} has format version {version!r}; this minigrad reads versions "
                         f"up to {FORMAT_VERSION} (upgrade minigrad)")
    return header


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a file written by :func:`save`: a dict of NumPy arrays by dotted name, in the saved order.

    Plain ``numpy.savez`` archives of numeric arrays load too. Never unpickles:
    an entry holding Python objects raises ``ValueError``.
    """
    source = _as_path(path, "load")
    if not source.exists() and source.suffix != ".npz" and source.with_name(source.name + ".npz").exists():
        source = source.with_name(source.name + ".npz")
    if not source.is_file():
        raise FileNotFoundError(f"load: no such file: {str(source)!r}")
    with open(source, "rb") as f:
        magic = f.read(4)
    if magic not in _ZIP_MAGIC:
        raise ValueError(f"load: {source} is not an .npz archive (no zip header); save files with minigrad.save")
    state: dict[str, np.ndarray] = {}
    try:
        with np.load(source, allow_pickle=False) as archive:
            for key in archive.files:
                try:
                    array = archive[key]
                except ValueError as err:
                    if "allow_pickle" in str(err) or "pickled" in str(err):
                        raise ValueError(f"load: entry {key!r} of {source} holds Python objects (pickle); "
                                         "minigrad refuses to unpickle files") from None
                    raise ValueError(f"load: entry {key!r} of {source} is corrupted ({err})") from None
                if key == METADATA_KEY:
                    _read_header(array, source)
                    continue
                if array.dtype.kind not in _NUMERIC_KINDS:
                    raise ValueError(f"load: entry {key!r} of {source} holds {array.dtype} values, "
                                     "expected numbers")
                state[key] = array
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise ValueError(f"load: {source} is corrupted or not an .npz archive ({err})") from None
    return state


def load_into(module: Module, path: str | os.PathLike, strict: bool = True) -> Module:
    """Load ``path`` into ``module`` with ``load_state_dict`` (nothing changes if it does not fit); returns it."""
    if not isinstance(module, Module):
        raise TypeError(f"load_into: module must be a Module, got {type(module).__name__}")
    module.load_state_dict(load(path), strict=strict)
    return module
