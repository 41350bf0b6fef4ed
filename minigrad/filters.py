"""The classic hand-made 3×3 image filters of the lecture, applied with the active conv kernel, as PNGs.

Before a CNN learns its filters, these are designed by hand (the lecture's
"Simple Kernels / Filters" table, also in the setosa.io image-kernels demo):

    identity        [0 0 0; 0 1 0; 0 0 0]          sum 1  the image itself
    edge_diagonal   [1 0 -1; 0 0 0; -1 0 1]        sum 0  diagonal changes
    edge_laplacian  [0 1 0; 1 -4 1; 0 1 0]         sum 0  edges in all directions (4-neighbour Laplacian)
    edge_strong     [-1 -1 -1; -1 8 -1; -1 -1 -1]  sum 0  "strong" edges / outline (8 neighbours)
    sharpen         [0 -1 0; -1 5 -1; 0 -1 0]      sum 1  identity + (−Laplacian): boosts edges
    box_blur        1/9 · all ones                 sum 1  mean of the 3×3 neighbourhood
    gaussian_blur   1/16 · [1 2 1; 2 4 2; 1 2 1]   sum 1  weighted mean, smoother than the box

A filter summing to 1 keeps the brightness of flat regions; one summing to 0
maps flat regions to 0 and responds only where the image changes. All seven
are symmetric under a 180° rotation, so the CNN's cross-correlation and a true
convolution (which flips the kernel) give the same result. With padding
P = (F - 1)/2 = 1 the output keeps the input size: (W - 3 + 2·1)/1 + 1 = W.

    python -m minigrad.filters --out docs/img/filters.png [--data DIR] [--index 0] [--clip]

writes a Fashion-MNIST test image through each filter as one PNG grid.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import kernels
from .autograd import no_grad
from .nn import Conv2d, Module
from .summary import leaf_modules, wrap_leaf_forwards
from .tensor import Tensor
from .visualize import grid, to_uint8, upscale, write_png

__all__ = ["CLASSIC_FILTERS", "FILTER_SUMS", "apply_filters", "feature_maps_png", "filter_grid_png",
           "filters_png", "layer_output", "main"]


def _f(rows: list[list[float]], scale: float = 1.0) -> np.ndarray:
    return np.array(rows, dtype=np.float64) * scale


#: name -> 3×3 float64 kernel, in the order of the lecture's table
CLASSIC_FILTERS: dict[str, np.ndarray] = {
    "identity": _f([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "edge_diagonal": _f([[1, 0, -1], [0, 0, 0], [-1, 0, 1]]),
    "edge_laplacian": _f([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "edge_strong": _f([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "sharpen": _f([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "box_blur": _f([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 1 / 9),
    "gaussian_blur": _f([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
}

#: the sum of each filter's weights: 1 keeps flat regions' brightness, 0 detects changes only
FILTER_SUMS: dict[str, float] = {"identity": 1.0, "edge_diagonal": 0.0, "edge_laplacian": 0.0,
                                 "edge_strong": 0.0, "sharpen": 1.0, "box_blur": 1.0, "gaussian_blur": 1.0}


def _as_array(x: Any) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def _filter_bank(filters: Mapping[str, Any] | Sequence[Any] | np.ndarray) -> np.ndarray:
    """The kernels stacked as a (K, F, F) float64 array."""
    if isinstance(filters, Mapping):
        kernels = [_as_array(k) for k in filters.values()]
    elif isinstance(filters, (np.ndarray, Tensor)) and _as_array(filters).ndim == 2:
        kernels = [_as_array(filters)]
    else:
        kernels = [_as_array(k) for k in filters]
    if not kernels:
        raise ValueError("apply_filters: no filters given")
    shapes = {k.shape for k in kernels}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"apply_filters: filters must be 2-D and all of one size, got {sorted(shapes)}")
    return np.stack(kernels).astype(np.float64)


def apply_filters(image: Any, filters: Mapping[str, Any] | Sequence[Any] | np.ndarray = CLASSIC_FILTERS,
                  padding: int | None = None) -> np.ndarray:
    """Filter ``image`` with each kernel using the active ``conv2d_forward`` kernel.

    ``image``: (H, W), or (C, H, W) to filter each channel separately.
    ``filters``: a name -> kernel mapping (default :data:`CLASSIC_FILTERS`), a
    list of kernels or one kernel, all F×F. ``padding`` defaults to (F - 1)/2
    (1 for 3×3), which keeps the size: H' = (H - F + 2P)/1 + 1 = H.
    Returns (K, H', W') for a 2-D image and (K, C, H', W') for a 3-D one, in float64.
    """
    bank = _filter_bank(filters)
    img = _as_array(image).astype(np.float64)
    if img.ndim not in (2, 3):
        raise ValueError(f"apply_filters: expected an (H, W) or (C, H, W) image, got shape {img.shape}")
    k, fh, fw = bank.shape
    pad = (fh // 2, fw // 2) if padding is None else padding
    channels = img.reshape(-1, 1, *img.shape[-2:])                      # (C, 1, H, W): channels as a batch
    out, _ = kernels.conv.conv2d_forward(channels, bank.reshape(k, 1, fh, fw), np.zeros(k), stride=1, padding=pad)
    out = np.asarray(out).transpose(1, 0, 2, 3)                          # (K, C, H', W')
    return out[:, 0] if img.ndim == 2 else out


def _panels(maps: np.ndarray, scale: int, lo: float | None = None,
            hi: float | None = None) -> list[np.ndarray]:
    return [upscale(to_uint8(m, lo, hi), scale) for m in maps]


def filter_grid_png(image: Any, path: str | os.PathLike[str] | None,
                    filters: Mapping[str, Any] = CLASSIC_FILTERS, scale: int = 4, pad: int = 4,
                    ncols: int = 4, labels: bool = True, clip: bool = False) -> np.ndarray:
    """Write the (H, W) ``image`` and its version through each filter as one PNG grid; returns the grid.

    ``path=None`` only returns it (a notebook shows it with :func:`minigrad.notebook.show`).

    Panels, in order: the original, then one per filter (``identity`` first),
    enlarged ``scale``× and, with ``labels``, captioned with the filter's name.
    Each panel is stretched to 0..255 on its own (min → black, max → white; an
    edge map's 0 then shows as grey). ``clip=True`` instead keeps the image's
    own range [min, max] for every panel and clips the rest, as the setosa demo
    does: a detected edge is white, no response black.
    """
    img = _as_array(image).astype(np.float64)
    img = img.reshape(img.shape[-2:]) if img.ndim > 2 and math.prod(img.shape[:-2]) == 1 else img
    if img.ndim != 2:
        raise ValueError(f"filter_grid_png: expected one grey (H, W) image, got shape {img.shape}")
    names = list(filters)
    maps = np.concatenate([img[None], apply_filters(img, filters)])
    caption_scale = max(1, scale // 2)
    lo, hi = (float(img.min()), float(img.max())) if clip else (None, None)
    picture = grid(_panels(maps, scale, lo, hi), ncols=ncols, pad=pad,
                   labels=["original", *names] if labels else None, label_scale=caption_scale)
    write_png(path, picture)
    return picture


def _first_conv_name(model: Module) -> str:
    for name, module in leaf_modules(model):
        if isinstance(module, Conv2d):
            return name
    raise ValueError("feature_maps_png: the model has no Conv2d layer; name the layer to show")


def layer_output(model: Module, image: Any, layer: str | None = None) -> np.ndarray:
    """The output of leaf layer ``layer`` (dotted name; default the first Conv2d) for one image, (C, H', W').

    Runs the model in eval mode under ``no_grad`` (modes restored afterwards).
    """
    name = layer or _first_conv_name(model)
    leaves = dict(leaf_modules(model))
    if name not in leaves:
        raise KeyError(f"no leaf layer named {name!r}; layers: {', '.join(leaves)}")
    x = _as_array(image).astype(np.float32)
    while x.ndim < 4:
        x = x[None]
    params = list(model.parameters())
    captured: list[np.ndarray] = []

    def keep(current: str, module: Module, forward: Any, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Any:
        out = forward(*args, **kwargs)
        if current == name and not captured:
            captured.append(out.numpy())
        return out

    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad(), wrap_leaf_forwards(model, keep):
            model(Tensor(x, device=params[0].device if params else None))
    finally:
        for module, mode in modes:
            object.__setattr__(module, "training", mode)
    if not captured:
        raise RuntimeError(f"layer {name!r} did not run in the forward pass")
    return captured[0][0]


def feature_maps_png(model: Module, image: Any, path: str | os.PathLike[str] | None, layer: str | None = None,
                     scale: int = 3, ncols: int = 8, max_maps: int = 64, pad: int = 2) -> np.ndarray:
    """Write the feature maps of ``layer`` (default: the first conv) for one image as a PNG grid.

    ``image``: (C, H, W), (H, W) for one channel, or a batch of one. Each map is
    stretched to 0..255 on its own; at most ``max_maps`` are shown. Returns the grid.
    """
    maps = layer_output(model, image, layer)
    maps = maps.reshape(-1, *maps.shape[-2:]) if maps.ndim >= 2 else maps.reshape(1, 1, -1)
    picture = grid(_panels(maps[:max_maps], scale), ncols=ncols, pad=pad)
    write_png(path, picture)
    return picture


def filters_png(conv_weight: Any, path: str | os.PathLike[str] | None, scale: int = 8, ncols: int = 8,
                pad: int = 2, max_in: int = 16) -> np.ndarray:
    """Write a conv layer's filters, weight (C_out, C_in, KH, KW) or the Conv2d itself, as a PNG grid.

    Grey values are symmetric around 0 (mid-grey = 0, white = +max|w|, black =
    -max|w|, per filter). RGB input (C_in = 3) gives one colour panel per filter;
    otherwise each filter's first ``max_in`` input channels make one row.
    """
    w = _as_array(conv_weight.weight if isinstance(conv_weight, Module) else conv_weight).astype(np.float64)
    if w.ndim != 4:
        raise ValueError(f"filters_png: expected a (C_out, C_in, KH, KW) weight, got shape {w.shape}")
    panels = []
    for f in w:
        m = float(np.abs(f).max())
        scaled = to_uint8(f, -m, m) if m > 0 else np.full(f.shape, 128, np.uint8)
        if f.shape[0] == 3:
            panels.append(upscale(scaled.transpose(1, 2, 0), scale))
        else:
            panels.extend(upscale(c, scale) for c in scaled[:max_in])
    in_shown = 1 if w.shape[1] in (1, 3) else min(w.shape[1], max_in)
    picture = grid(panels, ncols=ncols if in_shown == 1 else in_shown, pad=pad, pad_value=255)
    write_png(path, picture)
    return picture


def _load_sample(data: str | None, index: int) -> tuple[np.ndarray, str]:
    """One Fashion-MNIST test image (28×28 float in [0, 1]) and its class name."""
    from .data import FASHION_MNIST_CLASSES, DatasetError, load_fashion_mnist, read_idx

    try:
        images, labels = load_fashion_mnist(data, split="test", download=False, progress=False)
        return images[index, 0], FASHION_MNIST_CLASSES[int(labels[index])]
    except DatasetError as err:
        fallback = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        if data is None and os.path.exists(fallback):
            return read_idx(fallback, ndim=3)[index].astype(np.float64) / 255.0, "?"
        raise SystemExit(f"minigrad.filters: {err}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m minigrad.filters --out docs/img/filters.png [--data DIR] [--index N] [--scale S]``."""
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.filters",
        description="Write a Fashion-MNIST image through the classic 3×3 filters as a PNG grid.")
    parser.add_argument("--out", default="docs/img/filters.png", help="PNG file to write")
    parser.add_argument("--data", default=None, help="directory with the Fashion-MNIST files")
    parser.add_argument("--index", type=int, default=0, help="test image to use (0..9999)")
    parser.add_argument("--scale", type=int, default=4, help="enlargement of each 28×28 panel")
    parser.add_argument("--clip", action="store_true",
                        help="clip every panel to the image's range instead of stretching each one")
    args = parser.parse_args(argv)
    image, label = _load_sample(args.data, args.index)
    picture = filter_grid_png(image, args.out, scale=args.scale, clip=args.clip)
    print(f"wrote {args.out}: test image {args.index} ({label}), {picture.shape[1]}×{picture.shape[0]} px; "
          f"panels: original, {', '.join(CLASSIC_FILTERS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
