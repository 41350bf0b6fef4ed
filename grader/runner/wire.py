"""The runner's wire format: length-prefixed frames of JSON plus an ``.npz`` blob, nothing else.

A frame is ``u32 header length | UTF-8 JSON header | u32 blob length | npz blob``. Arrays inside the
JSON are ``{"__array__": "a0"}`` references into the blob (saved with ``np.savez``, loaded with
``allow_pickle=False``), runner-side objects are ``{"__handle__": n}``. Pickle never crosses.

This file is shared by the judge and the worker and is copied into the runner's staging directory,
so it imports only the standard library and NumPy. The judge reads frames from an untrusted runner: a
frame is refused (:class:`WireError`) when it is too large, nested too deep, or its blob is anything but
an uncompressed archive of plain arrays whose headers match their data (no zip or shape bombs).
"""

from __future__ import annotations

import io
import json
import math
import struct
import zipfile
from typing import Any, BinaryIO

import numpy as np

MAX_HEADER = 16 * 1024 * 1024
MAX_BLOB = 256 * 1024 * 1024
MAX_ARRAYS = 10_000
MAX_DEPTH = 64  # containers inside containers, in a message
_LEN = struct.Struct(">I")


class WireError(Exception):
    """A frame that is not well formed (truncated, too large, or not JSON/npz)."""


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError(f"stream ended {left} bytes short of a {n}-byte field")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_frame(stream: BinaryIO, header: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> None:
    """Send one message; ``arrays`` are the blob's named arrays."""
    body = json.dumps(header, allow_nan=True).encode("utf-8")
    blob = b""
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        blob = buffer.getvalue()
    stream.write(_LEN.pack(len(body)) + body + _LEN.pack(len(blob)) + blob)
    stream.flush()


def read_frame(stream: BinaryIO) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Receive one message: (header, arrays). Raises EOFError at a clean end, WireError on garbage."""
    (n,) = _LEN.unpack(_read_exact(stream, 4))
    if n > MAX_HEADER:
        raise WireError(f"header of {n} bytes is over the {MAX_HEADER}-byte limit")
    try:
        header = json.loads(_read_exact(stream, n).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise WireError(f"header is not JSON: {type(err).__name__}") from None
    if not isinstance(header, dict):
        raise WireError("header is not a JSON object")
    (m,) = _LEN.unpack(_read_exact(stream, 4))
    if m > MAX_BLOB:
        raise WireError(f"blob of {m} bytes is over the {MAX_BLOB}-byte limit")
    arrays: dict[str, np.ndarray] = {}
    if m:
        blob = _read_exact(stream, m)
        try:
            arrays = _load_npz(blob)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as err:
            raise WireError(f"blob is not a plain npz: {err}") from None
    return header, arrays


def _load_npz(blob: bytes) -> dict[str, np.ndarray]:
    """``np.load`` for an untrusted blob: stored members only, each header checked against its data first."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        members = archive.infolist()
        if len(members) > MAX_ARRAYS:
            raise WireError(f"blob holds {len(members)} arrays")
        for info in members:
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy") \
                    or info.file_size > len(blob):
                raise WireError(f"blob member {info.filename[:40]!r} is compressed, oversized or not an array")
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise WireError(f"array format {version} is not accepted")
                if dtype.hasobject:
                    raise WireError("an array of Python objects cannot cross the wire")
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes > info.file_size:
                    raise WireError(f"array header claims {nbytes} bytes in a {info.file_size}-byte member")
                data = member.read(nbytes)
                if len(data) != nbytes:
                    raise WireError("array data is truncated")
            order = "F" if fortran else "C"
            if nbytes:
                array = np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy(order="K")
            else:
                array = np.zeros(shape, dtype=dtype, order=order)
            arrays[info.filename[:-4]] = array
    return arrays


class Packer:
    """Turn values into JSON + arrays. ``on_object`` decides what to do with anything else."""

    def __init__(self, on_object: Any = None, max_depth: int | None = None) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.on_object = on_object
        self.max_depth = max_depth

    def pack(self, value: Any, depth: int = 0) -> Any:
        """``max_depth`` containers deep at most: deeper lists, tuples and dicts go to ``on_object``."""
        if type(value) is np.ndarray:
            if value.dtype.hasobject:
                return self._object(value)
            key = f"a{len(self.arrays)}"
            self.arrays[key] = value
            return {"__array__": key}
        if isinstance(value, np.generic) and type(value).__module__ == "numpy" and not isinstance(value, np.object_):
            return self.pack(np.asarray(value), depth)
        if value is None or type(value) in (bool, int, float, str):
            return value
        if self.max_depth is not None and depth >= self.max_depth:
            return self._object(value)
        if type(value) in (list, tuple):
            return [self.pack(v, depth + 1) for v in value]
        if type(value) is dict and all(type(k) is str for k in value):
            return {"__dict__": {k: self.pack(v, depth + 1) for k, v in value.items()}}
        return self._object(value)

    def _object(self, value: Any) -> Any:
        if self.on_object is None:
            raise TypeError(f"cannot send a {type(value).__name__} over the wire")
        return self.on_object(value)


def unpack(value: Any, arrays: dict[str, np.ndarray], on_handle: Any = None, depth: int = 0) -> Any:
    """The inverse of :class:`Packer`; ``on_handle(ref)`` rebuilds handles (default: refuse them)."""
    if depth > MAX_DEPTH and isinstance(value, (list, dict)):
        raise WireError(f"message nested more than {MAX_DEPTH} containers deep")
    if isinstance(value, list):
        return [unpack(v, arrays, on_handle, depth + 1) for v in value]
    if isinstance(value, dict):
        if "__array__" in value:
            key = value["__array__"]
            if key not in arrays:
                raise WireError(f"reference to a missing array {key!r}")
            return arrays[key]
        if "__handle__" in value:
            if on_handle is None or type(value["__handle__"]) is not int:
                raise WireError("unexpected handle")
            return on_handle(value)
        if "__dict__" in value and isinstance(value["__dict__"], dict):
            return {k: unpack(v, arrays, on_handle, depth + 1) for k, v in value["__dict__"].items()}
        raise WireError(f"unknown object in message: keys {sorted(value)[:5]}")
    return value
