"""Helpers for the course notebooks: Fashion-MNIST from the disk only, and pictures without matplotlib.

    from minigrad.notebook import fashion_mnist, sample_image, show

The notebooks' "see it work" cells must run offline: :func:`fashion_mnist` reads the files where
:mod:`minigrad.data` looks for them (``$MINIGRAD_DATA/fashion-mnist``, Debian's
``/usr/share/datasets/fashion-mnist``, the user cache) and never downloads; when they are absent it
says how to get them and returns None, and :func:`sample_image` draws a stand-in instead.
"""

from __future__ import annotations

import sys

import numpy as np

from .data import FASHION_MNIST_CLASSES, DatasetError, load_fashion_mnist
from .visualize import png_bytes

__all__ = ["DATA_HINT", "fashion_mnist", "sample_image", "show"]

DATA_HINT = ("Fashion-MNIST is not on this machine. Get it with `sudo apt-get install dataset-fashion-mnist` "
             "(Debian/Ubuntu), or put the four *-ubyte.gz files in $MINIGRAD_DATA/fashion-mnist, or run "
             "`python -c \"import minigrad.data as d; d.load_fashion_mnist()\"` once with a network (it downloads "
             "them into ~/.cache/minigrad).")


def fashion_mnist(n: int | None = None, split: str = "train") -> tuple[np.ndarray, np.ndarray] | None:
    """The first ``n`` (default all) images of ``split`` ("train" or "test"), from the disk only.

    Returns (images (n, 1, 28, 28) float32 in [0, 1], labels (n,) int64), or None after printing
    :data:`DATA_HINT` (and why) when the files are not found.
    """
    try:
        images, labels = load_fashion_mnist(split=split, download=False, normalize=False, progress=False)
    except DatasetError as err:
        print(f"{DATA_HINT}\n({err})")
        return None
    images, labels = images[:n], labels[:n]
    return images.astype(np.float32) / 255.0, labels


def _stand_in() -> np.ndarray:
    """A 28×28 T-shirt outline in [0, 1], drawn, for when the data set is absent."""
    image = np.zeros((28, 28))
    image[6:24, 9:19] = 0.8  # body
    image[6:12, 3:25] = 0.8  # sleeves
    image[6:8, 12:16] = 0.0  # neck
    return image


def sample_image(index: int = 0) -> tuple[np.ndarray, str]:
    """Test image ``index`` as a (28, 28) float64 array in [0, 1] and its class name.

    Without the data set: a drawn T-shirt, named "T-shirt/top (drawn: no data set)", after the hint.
    """
    found = fashion_mnist(index + 1, "test")
    if found is None:
        return _stand_in(), f"{FASHION_MNIST_CLASSES[0]} (drawn: no data set)"
    images, labels = found
    return images[index, 0].astype(np.float64), FASHION_MNIST_CLASSES[int(labels[index])]


def show(picture: np.ndarray, caption: str = "") -> None:
    """Show a uint8 picture ((H, W) grey or (H, W, 3) RGB) in Jupyter; elsewhere print what it is.

    The pictures come from :mod:`minigrad.filters` (``filter_grid_png(image, None)`` ...) or
    :func:`minigrad.visualize.grid`.
    """
    data = png_bytes(picture)
    if "IPython" in sys.modules:
        from IPython import get_ipython

        if get_ipython() is not None:
            from IPython.display import Image, display

            if caption:
                print(caption)
            display(Image(data=data, format="png"))
            return
    print(f"{caption + ': ' if caption else ''}a {picture.shape[1]}×{picture.shape[0]} picture "
          "(run this in Jupyter to see it)")
