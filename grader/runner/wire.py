"""The runner's wire format: length-prefixed frames of JSON plus the arrays' raw bytes, nothing else.

A frame is ``u32 header length | UTF-8 JSON header | u32 blob length | blob``. The header's
``"__arrays__"`` lists the blob's arrays in order, each ``[name, dtype, shape, fortran]``; the blob is
their bytes, one after another. Arrays inside the JSON are ``{"__array__": "a0"}`` references, runner-side
objects ``{"__handle__": n}``. Pickle never crosses, nor does any other container format.

This file is shared by the judge and the worker and is copied into the runner's staging directory,
so it imports only the standard library and NumPy. The judge reads frames from an untrusted runner: a
frame is refused (:class:`WireError`) when it is too large or nested too deep, or when its array list is
anything but plain numbers, booleans or strings (no objects, records or void) whose sizes add up to
exactly the blob it read — checked before anything is allocated beyond the blob itself.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any, BinaryIO

import numpy as np

MAX_HEADER = 16 * 1024 * 1024
MAX_BLOB = 256 * 1024 * 1024
MAX_ARRAYS = 10_000
MAX_DEPTH = 64  # containers inside containers, in a message
MAX_DIMS = 32
ARRAYS = "__arrays__"
PLAIN_KINDS = "biufcSUmM"  # booleans, integers, floats, complex, strings, times: no objects, records or void
_LEN = struct.Struct(">I")


class WireError(Exception):
    """A frame that is not well formed (truncated, too large, or not JSON plus plain arrays)."""


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
    listed, pieces = [], []
    for name, array in (arrays or {}).items():
        fortran = array.flags.f_contiguous and not array.flags.c_contiguous
        listed.append([name, array.dtype.str, list(array.shape), fortran])
        pieces.append(np.asfortranarray(array) if fortran else np.ascontiguousarray(array))
    body = json.dumps({**header, ARRAYS: listed} if listed else header, allow_nan=True).encode("utf-8")
    stream.write(_LEN.pack(len(body)) + body + _LEN.pack(sum(piece.nbytes for piece in pieces)))
    for piece in pieces:
        if piece.nbytes:
            stream.write(piece.tobytes(order="A"))
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
    layout = _layout(header.pop(ARRAYS, []), m)
    blob = _read_exact(stream, m) if m else b""
    arrays: dict[str, np.ndarray] = {}
    offset = 0
    for name, dtype, shape, fortran, nbytes in layout:
        order = "F" if fortran else "C"
        if nbytes:
            flat = np.frombuffer(blob, dtype=dtype, count=nbytes // dtype.itemsize, offset=offset)
            arrays[name] = flat.reshape(shape, order=order).copy(order=order)  # its own, writable memory
        else:
            arrays[name] = np.zeros(shape, dtype=dtype, order=order)
        offset += nbytes
    return header, arrays


def _layout(listed: Any, blob_bytes: int) -> list[tuple[str, np.dtype, tuple[int, ...], bool, int]]:
    """The checked array list: (name, dtype, shape, fortran, bytes) each, the bytes adding up to the blob's."""
    if not isinstance(listed, list) or len(listed) > MAX_ARRAYS:
        raise WireError(f"the array list is not a list of at most {MAX_ARRAYS} arrays")
    layout, total = [], 0
    for entry in listed:
        if not (isinstance(entry, list) and len(entry) == 4 and isinstance(entry[0], str) and len(entry[0]) <= 64
                and isinstance(entry[1], str) and len(entry[1]) <= 16 and isinstance(entry[2], list)
                and len(entry[2]) <= MAX_DIMS and all(type(d) is int and d >= 0 for d in entry[2])
                and isinstance(entry[3], bool)):
            raise WireError(f"malformed array entry {str(entry)[:80]}")
        try:
            dtype = np.dtype(entry[1])
        except (TypeError, ValueError):
            raise WireError(f"array dtype {entry[1]!r} is not a dtype") from None
        if dtype.kind not in PLAIN_KINDS or dtype.hasobject or dtype.fields or dtype.subdtype or not dtype.itemsize:
            raise WireError(f"an array of {dtype} cannot cross the wire (only plain numbers and strings)")
        nbytes = math.prod(entry[2]) * dtype.itemsize
        total += nbytes
        if total > blob_bytes:
            raise WireError(f"the arrays claim more than the blob's {blob_bytes} bytes")
        layout.append((entry[0], dtype, tuple(entry[2]), entry[3], nbytes))
    if total != blob_bytes:
        raise WireError(f"the arrays hold {total} bytes of a {blob_bytes}-byte blob")
    return layout


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
