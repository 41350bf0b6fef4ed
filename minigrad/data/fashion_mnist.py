"""Fashion-MNIST and MNIST: find (or download) the four IDX files and load them.

Both share one format and the same file names, so one :class:`IdxSpec` per data set drives
the same code. See :mod:`minigrad.data.paths` for where files are looked for.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dataset import TensorDataset
from .download import download_url
from .errors import DatasetError, DatasetNotFoundError
from .idx import read_idx
from .paths import DATA_ENV, candidate_dirs, find_file

__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_SPEC",
    "MNIST",
    "MNIST_CLASSES",
    "MNIST_SPEC",
    "URL_ENV",
    "FashionMNIST",
    "IdxDataset",
    "IdxSpec",
    "load_fashion_mnist",
    "load_idx_dataset",
    "load_mnist",
]

URL_ENV = "MINIGRAD_DATA_URL"
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
MNIST_CLASSES = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class IdxSpec:
    """Everything needed to find, fetch and check one MNIST-format data set."""

    name: str                      # sub-directory under $MINIGRAD_DATA and the cache
    title: str                     # for messages
    mirrors: tuple[str, ...]       # base URLs, tried in order
    md5: Mapping[str, str]         # file name -> md5 of the published .gz
    classes: tuple[str, ...]
    system_dir: str | None = None  # where a distribution package installs it
    apt_package: str | None = None


FASHION_MNIST_SPEC = IdxSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    mirrors=("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
             "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    # Published in the Fashion-MNIST README. Debian's copies differ only in the gzip header
    # (file name dropped, mtime reset), so their .gz md5s differ; putting the original header
    # back (name + mtime 2017-08-31) reproduces these md5s exactly, so the data is the same.
    md5={"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
         "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
         "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
         "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"},
    classes=FASHION_MNIST_CLASSES,
    system_dir="/usr/share/datasets/fashion-mnist",
    apt_package="dataset-fashion-mnist",
)

MNIST_SPEC = IdxSpec(
    name="mnist",
    title="MNIST",
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    md5={"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
         "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
         "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
         "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"},
    classes=MNIST_CLASSES,
)


def _check_split(split: str) -> tuple[str, str]:
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return SPLIT_FILES[split]


def _base_urls(spec: IdxSpec, base_url: str | None) -> tuple[str, ...]:
    """``base_url`` argument, else ``$MINIGRAD_DATA_URL`` (``{name}`` is replaced by the set's name),
    else the built-in mirrors."""
    url = base_url or os.environ.get(URL_ENV)
    if not url:
        return spec.mirrors
    url = url.replace("{name}", spec.name)
    return (url if url.endswith("/") else url + "/",)


def _fetch(spec: IdxSpec, directory: Path, filename: str, base_url: str | None,
           checksums: Mapping[str, str] | None, progress: bool) -> Path:
    """Download ``filename`` into ``directory``, trying each mirror; raise if all fail."""
    md5 = (checksums or spec.md5).get(filename)
    errors = []
    for base in _base_urls(spec, base_url):
        try:
            return download_url(base + filename, directory / filename, md5, progress=progress)
        except DatasetError as e:
            errors.append(str(e))
    raise DatasetNotFoundError(f"could not download {spec.title} file {filename}: " + "; ".join(errors))


def _not_found(spec: IdxSpec, split: str, looked: list[Path], why: str) -> DatasetNotFoundError:
    fixes = [f"set {DATA_ENV}=DIR with the files in DIR/{spec.name}", "pass path=DIR"]
    if why == "download=False":
        fixes.append("pass download=True")
    if spec.apt_package:
        fixes.insert(0, f"run `apt-get install {spec.apt_package}`")
    return DatasetNotFoundError(f"{spec.title} {split} files not found in {', '.join(map(str, looked))} "
                                f"({why}); to fix: {', or '.join(fixes)}")


def load_idx_dataset(spec: IdxSpec, path: str | os.PathLike[str] | None = None, split: str = "train", *,
                     download: bool = True, normalize: bool = True, base_url: str | None = None,
                     checksums: Mapping[str, str] | None = None,
                     progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of an MNIST-format data set; see :func:`load_fashion_mnist`."""
    image_file, label_file = _check_split(split)
    looked = candidate_dirs(spec.name, path, spec.system_dir)
    found = None
    for d in looked:
        images_path, labels_path = find_file(d, image_file), find_file(d, label_file)
        if images_path and labels_path:
            found = (images_path, labels_path)
            break
    if found is None:
        if not download:
            raise _not_found(spec, split, looked, "download=False")
        target = looked[0] if path is not None else looked[-1]  # explicit path, else the cache
        try:
            found = tuple(find_file(target, f) or _fetch(spec, target, f, base_url, checksums, progress)
                          for f in (image_file, label_file))
        except DatasetError as e:
            raise _not_found(spec, split, looked, str(e)) from None
    images_path, labels_path = found
    images = read_idx(images_path, dtype=np.uint8, ndim=3)
    labels = read_idx(labels_path, dtype=np.uint8, ndim=1)
    if images.shape[1:] != (28, 28):
        raise DatasetError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
    if len(images) != len(labels):
        raise DatasetError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                           f"{len(labels)} labels; expected equal counts")
    if labels.size and int(labels.max()) >= len(spec.classes):
        raise DatasetError(f"{labels_path}: holds label {int(labels.max())}, "
                           f"expected 0..{len(spec.classes) - 1}")
    images = images.reshape(-1, 1, 28, 28)
    if normalize:
        images = images.astype(np.float32)
        images /= 255.0  # in place: the float copy of the train set is 188 MB already
    return images, labels.astype(np.int64)


def load_fashion_mnist(path: str | os.PathLike[str] | None = None, split: str = "train", *,
                       download: bool = True, normalize: bool = True, base_url: str | None = None,
                       checksums: Mapping[str, str] | None = None,
                       progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load a Fashion-MNIST split as ``(images, labels)``.

    images: ``(N, 1, 28, 28)`` float32 in [0, 1] (uint8 0..255 with ``normalize=False``);
    labels: ``(N,)`` int64 in 0..9 (names in :data:`FASHION_MNIST_CLASSES`); N = 60000 for
    ``split="train"``, 10000 for ``"test"``. Files are looked for as described in
    :mod:`minigrad.data.paths`; missing ones are downloaded (``download=True``) from
    ``base_url`` / ``$MINIGRAD_DATA_URL`` / the official mirrors and checked against
    ``checksums`` (file name -> md5, for a mirror or a test server; default: the published
    md5s; a file it does not list is not checked). Files found on disk are not checksummed
    (Debian re-gzips them) but the IDX reader rejects any truncated or inconsistent file.
    Raises :class:`DatasetNotFoundError` or :class:`DatasetError` with a one-line reason.
    """
    return load_idx_dataset(FASHION_MNIST_SPEC, path, split, download=download, normalize=normalize,
                            base_url=base_url, checksums=checksums, progress=progress)


def load_mnist(path: str | os.PathLike[str] | None = None, split: str = "train", *,
               download: bool = True, normalize: bool = True, base_url: str | None = None,
               checksums: Mapping[str, str] | None = None,
               progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST (digits) split; same contract as :func:`load_fashion_mnist`.

    Looked for in ``$MINIGRAD_DATA/mnist`` and ``$XDG_CACHE_HOME/minigrad/mnist`` (Debian has no package).
    """
    return load_idx_dataset(MNIST_SPEC, path, split, download=download, normalize=normalize,
                            base_url=base_url, checksums=checksums, progress=progress)


class IdxDataset(TensorDataset):
    """An MNIST-format data set as a Dataset: item ``i`` is ``(image (1, 28, 28), label)``.

    Subclasses set ``spec``. ``images``/``labels`` hold the whole split (see :func:`load_fashion_mnist`);
    :class:`~minigrad.data.DataLoader` batches them by fancy indexing.
    """

    spec: IdxSpec

    def __init__(self, root: str | os.PathLike[str] | None = None, train: bool = True, *,
                 download: bool = True, normalize: bool = True) -> None:
        if not isinstance(train, bool):
            raise TypeError(f"{type(self).__name__}: train must be True or False, got {train!r}")
        images, labels = load_idx_dataset(self.spec, root, "train" if train else "test",
                                          download=download, normalize=normalize)
        super().__init__(images, labels)
        self.images, self.labels = images, labels
        self.classes = self.spec.classes
        self.train = train


class FashionMNIST(IdxDataset):
    """Fashion-MNIST (10 clothing classes, :data:`FASHION_MNIST_CLASSES`) as a Dataset."""

    spec = FASHION_MNIST_SPEC


class MNIST(IdxDataset):
    """MNIST digits as a Dataset."""

    spec = MNIST_SPEC
