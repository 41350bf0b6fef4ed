"""Reader and writer for the IDX format used by MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then ``ndim``
big-endian uint32 dimensions, then the data in C order, big-endian. Files may be gzipped;
gzip is recognised by its magic bytes, not by the file name.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

from .errors import DatasetError

__all__ = ["IDX_DTYPES", "read_idx", "write_idx"]

#: IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: str) -> bytes:
    """Whole (decompressed) content of ``path``; gzip errors become one-line DatasetErrors."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot read ({e.strerror or e})") from None
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DatasetError(f"{path}: truncated gzip file (download it again)") from None
    except (OSError, zlib.error) as e:  # BadGzipFile is an OSError; CRC/length errors too
        raise DatasetError(f"{path}: corrupt gzip file ({e})") from None


def read_idx(path: str | os.PathLike[str], *, dtype: np.dtype | str | None = None,
             ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzipped) into a writable native-byte-order array.

    ``dtype`` / ``ndim``, when given, are what the caller expects; a file holding anything
    else raises :class:`DatasetError` rather than returning data of the wrong kind.
    Returns an array of shape ``dims`` from the header (e.g. ``(N, 28, 28)`` uint8 images).
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DatasetError(f"{path}: not an IDX file (only {len(data)} bytes; expected a 4-byte header)")
    zero, code, nd = struct.unpack(">HBB", data[:4])
    if zero != 0:
        raise DatasetError(f"{path}: not an IDX file (magic number starts {data[:2].hex()}, expected 0000)")
    if code not in IDX_DTYPES:
        raise DatasetError(f"{path}: unknown IDX dtype code 0x{code:02x} (expected one of 08 09 0b 0c 0d 0e)")
    file_dtype = IDX_DTYPES[code]
    if dtype is not None and np.dtype(dtype) != file_dtype.newbyteorder("="):
        raise DatasetError(f"{path}: holds {file_dtype.name} data (dtype code 0x{code:02x}), "
                           f"expected {np.dtype(dtype).name}")
    if ndim is not None and nd != ndim:
        raise DatasetError(f"{path}: holds a {nd}-d array, expected {ndim}-d")
    header = 4 + 4 * nd
    if len(data) < header:
        raise DatasetError(f"{path}: truncated header ({len(data)} bytes; {nd} dims need {header})")
    dims = struct.unpack(f">{nd}I", data[4:header])
    expected = int(np.prod(dims, dtype=np.int64)) * file_dtype.itemsize
    got = len(data) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise DatasetError(f"{path}: {what}: header dims {dims} need {expected} data bytes, found {got}")
    arr = np.frombuffer(data, dtype=file_dtype, offset=header).reshape(dims)
    # astype copies: the result is writable and native-endian, and does not pin the file bytes.
    return arr.astype(file_dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzipped if ``path`` ends in ``.gz``.

    ``array`` must have 1..255 dims and a dtype IDX can store (uint8, int8, int16, int32,
    float32, float64). Used to build test fixtures and small custom data sets.
    """
    path = os.fspath(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise DatasetError(f"write_idx: array dtype {array.dtype} cannot be stored in IDX")
    if not 1 <= array.ndim <= 255:
        raise DatasetError(f"write_idx: array must have 1..255 dims, got {array.ndim}")
    header = struct.pack(">HBB", 0, _CODES[native], array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=native.newbyteorder(">")).tobytes()
    if path.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)  # mtime=0: identical bytes on every run
    with open(path, "wb") as f:
        f.write(payload)
