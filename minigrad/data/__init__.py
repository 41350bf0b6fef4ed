"""Data loading for minigrad: datasets, a batching DataLoader, the IDX format and (Fashion-)MNIST.

>>> from minigrad.data import FashionMNIST, DataLoader
>>> train = FashionMNIST(train=True)              # (1, 28, 28) float32 images, int64 labels
>>> for x, y in DataLoader(train, batch_size=64, shuffle=True, seed=0):
...     ...                                      # x: Tensor (64, 1, 28, 28), y: Tensor (64,)
"""

from .dataset import Dataset, Subset, TensorDataset, random_split
from .download import download_url
from .errors import DatasetError, DatasetNotFoundError
from .fashion_mnist import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_SPEC,
    MNIST,
    MNIST_CLASSES,
    MNIST_SPEC,
    FashionMNIST,
    IdxDataset,
    IdxSpec,
    load_fashion_mnist,
    load_idx_dataset,
    load_mnist,
)
from .idx import read_idx, write_idx
from .loader import DataLoader
from .paths import cache_dir, candidate_dirs

__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_SPEC",
    "MNIST",
    "MNIST_CLASSES",
    "MNIST_SPEC",
    "DataLoader",
    "Dataset",
    "DatasetError",
    "DatasetNotFoundError",
    "FashionMNIST",
    "IdxDataset",
    "IdxSpec",
    "Subset",
    "TensorDataset",
    "cache_dir",
    "candidate_dirs",
    "download_url",
    "load_fashion_mnist",
    "load_idx_dataset",
    "load_mnist",
    "random_split",
    "read_idx",
    "write_idx",
]
