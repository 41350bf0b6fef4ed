"""PNG images without matplotlib: a tiny PNG writer, panel grids, and a 3×5 pixel font for labels.

A PNG file is the 8-byte signature ``\\x89PNG\\r\\n\\x1a\\n`` and chunks, each
``length (4 bytes, big-endian) | type (4 ASCII) | data | CRC-32 of type + data``:

* IHDR: width, height (uint32), bit depth 8, colour type (0 grey, 2 RGB, 6 RGBA),
  compression 0, filter 0, interlace 0;
* IDAT: the zlib-compressed rows, each prefixed by its filter byte (0 = none);
* IEND: empty.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["PNG_SIGNATURE", "grid", "png_bytes", "text_image", "to_uint8", "upscale", "write_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 image, (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA, encoded as an 8-bit PNG file."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise TypeError(f"write_png: expected a uint8 array, got {array.dtype} (see to_uint8)")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in _COLOR_TYPES or 0 in array.shape[:2]:
        raise ValueError(f"write_png: expected a non-empty (H, W), (H, W, 3) or (H, W, 4) array, "
                         f"got shape {np.asarray(image).shape}")
    height, width, channels = array.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    rows = np.concatenate([np.zeros((height, 1), np.uint8), array.reshape(height, width * channels)], axis=1)
    data = PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
    return data + _chunk(b"IEND", b"")


def write_png(path: str | os.PathLike[str] | None, image: np.ndarray) -> None:
    """Write a uint8 image as a PNG file (see :func:`png_bytes`); ``path=None`` writes nothing."""
    data = png_bytes(image)
    if path is None:
        return
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def to_uint8(values: Any, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Map ``values`` linearly from [lo, hi] (default: their min and max) to 0..255 uint8.

    A constant array (hi == lo) becomes 0. Values outside [lo, hi] are clipped.
    """
    a = np.asarray(values, dtype=np.float64)
    lo = float(a.min()) if lo is None else lo
    hi = float(a.max()) if hi is None else hi
    if not hi > lo:
        return np.zeros(a.shape, np.uint8)
    return np.clip(np.rint((a - lo) * (255.0 / (hi - lo))), 0, 255).astype(np.uint8)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement: every pixel becomes a factor×factor square."""
    if factor < 1:
        raise ValueError(f"upscale: factor must be >= 1, got {factor}")
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def grid(images: Sequence[np.ndarray], ncols: int | None = None, pad: int = 2, pad_value: int = 255,
         labels: Sequence[str] | None = None, label_scale: int = 1) -> np.ndarray:
    """Lay equally sized uint8 panels, (H, W) or (H, W, 3), out in rows of ``ncols`` with ``pad`` pixel gaps.

    Grey panels are made RGB if any panel is RGB. ``labels`` writes a caption
    under each panel (3×5 font, capitals, scaled by ``label_scale``).
    Returns the (rows·(H + pad) + pad, ncols·(W + pad) + pad[, 3]) image.
    """
    if not images:
        raise ValueError("grid: no images")
    panels = [np.asarray(p) for p in images]
    if any(p.dtype != np.uint8 for p in panels):
        raise TypeError("grid: panels must be uint8 arrays (see to_uint8)")
    if any(p.ndim == 3 for p in panels):
        panels = [np.repeat(p[:, :, None], 3, axis=2) if p.ndim == 2 else p for p in panels]
    shape = panels[0].shape
    if any(p.shape != shape for p in panels):
        raise ValueError(f"grid: panels differ in shape: {sorted({p.shape for p in panels})}")
    if labels is not None:
        if len(labels) != len(panels):
            raise ValueError(f"grid: {len(labels)} labels for {len(panels)} panels")
        panels = [_with_caption(p, text, label_scale, pad_value) for p, text in zip(panels, labels)]
        shape = panels[0].shape
    n = len(panels)
    ncols = min(ncols or math.ceil(math.sqrt(n)), n)
    nrows = math.ceil(n / ncols)
    h, w = shape[:2]
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, *shape[2:]), pad_value, np.uint8)
    for k, panel in enumerate(panels):
        r, c = divmod(k, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = panel
    return out


def _with_caption(panel: np.ndarray, text: str, scale: int, background: int) -> np.ndarray:
    w = panel.shape[1]
    caption = text_image(text, scale=scale, fg=255 - background, bg=background)[:, :w]
    band = np.full((caption.shape[0] + 2 * scale, w), background, np.uint8)
    band[scale:scale + caption.shape[0], :caption.shape[1]] = caption
    if panel.ndim == 3:
        band = np.repeat(band[:, :, None], panel.shape[2], axis=2)
    return np.concatenate([panel, band], axis=0)


# 3×5 glyphs: five rows of three pixels, top to bottom, "#" = ink
_FONT: dict[str, str] = {
    "A": ".#. #.# ### #.# #.#", "B": "##. #.# ##. #.# ##.", "C": ".## #.. #.. #.. .##",
    "D": "##. #.# #.# #.# ##.", "E": "### #.. ##. #.. ###", "F": "### #.. ##. #.. #..",
    "G": ".## #.. #.# #.# .##", "H": "#.# #.# ### #.# #.#", "I": "### .#. .#. .#. ###",
    "J": "..# ..# ..# #.# .#.", "K": "#.# #.# ##. #.# #.#", "L": "#.. #.. #.. #.. ###",
    "M": "#.# ### ### #.# #.#", "N": "##. #.# #.# #.# #.#", "O": ".#. #.# #.# #.# .#.",
    "P": "##. #.# ##. #.. #..", "Q": ".#. #.# #.# ##. .##", "R": "##. #.# ##. #.# #.#",
    "S": ".## #.. .#. ..# ##.", "T": "### .#. .#. .#. .#.", "U": "#.# #.# #.# #.# ###",
    "V": "#.# #.# #.# #.# .#.", "W": "#.# #.# ### ### #.#", "X": "#.# #.# .#. #.# #.#",
    "Y": "#.# #.# .#. .#. .#.", "Z": "### ..# .#. #.. ###", "0": "### #.# #.# #.# ###",
    "1": ".#. ##. .#. .#. ###", "2": "##. ..# .#. #.. ###", "3": "##. ..# .#. ..# ##.",
    "4": "#.# #.# ### ..# ..#", "5": "### #.. ##. ..# ##.", "6": ".## #.. ### #.# ###",
    "7": "### ..# .#. .#. .#.", "8": "### #.# ### #.# ###", "9": "### #.# ### ..# ##.",
    " ": "... ... ... ... ...", "-": "... ... ### ... ...", "_": "... ... ... ... ###",
    ".": "... ... ... ... .#.", ":": "... .#. ... .#. ...", "/": "..# ..# .#. #.. #..",
    "(": ".#. #.. #.. #.. .#.", ")": ".#. ..# ..# ..# .#.", "=": "... ### ... ### ...",
    "+": "... .#. ### .#. ...", "×": "... #.# .#. #.# ...", "?": "##. ..# .#. ... .#.",
}


def _glyph(char: str) -> np.ndarray:
    rows = _FONT.get(char.upper(), _FONT["?"]).split()
    return np.array([[c == "#" for c in row] for row in rows], bool)


def text_image(text: str, scale: int = 1, fg: int = 0, bg: int = 255) -> np.ndarray:
    """``text`` in a 3×5 pixel font (capitals, digits, a few signs), one pixel between letters, ×``scale``."""
    if not text:
        return np.full((5 * scale, 0), bg, np.uint8)
    ink = np.zeros((5, 4 * len(text) - 1), bool)
    for i, char in enumerate(text):
        ink[:, 4 * i:4 * i + 3] = _glyph(char)
    return upscale(np.where(ink, fg, bg).astype(np.uint8), scale)
