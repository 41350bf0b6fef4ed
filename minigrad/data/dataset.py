"""Datasets: indexable collections of samples.

A dataset has ``len(ds)`` and ``ds[i]`` (a tuple of arrays, e.g. ``(image, label)``). It may
also offer ``get_batch(indices)``, returning each field stacked along a new first axis;
:class:`~minigrad.data.DataLoader` uses that to build a batch with one fancy-indexing call per
field instead of ``batch_size`` Python-level ``__getitem__`` calls.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__``."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def get_batch(self, indices: np.ndarray) -> Any:
        """Samples ``indices`` stacked field by field (slow generic path: one item at a time)."""
        return stack_items([self[int(i)] for i in indices])


def stack_items(items: list[Any]) -> Any:
    """Stack a list of samples: tuples of fields -> tuple of ``(B, ...)`` arrays; bare values -> one array."""
    first = items[0]
    if not isinstance(first, tuple):
        return np.stack([np.asarray(x) for x in items])
    for k, item in enumerate(items):
        if not isinstance(item, tuple) or len(item) != len(first):
            raise ValueError(f"dataset items must all have {len(first)} fields; "
                             f"item {k} of the batch is {item!r:.60}")
    try:
        return tuple(np.stack([np.asarray(item[f]) for item in items]) for f in range(len(first)))
    except ValueError as e:  # shapes differ between samples
        raise ValueError(f"cannot stack dataset items into a batch: {e}") from None


def _check_index(index: Any, n: int, owner: str) -> int:
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"{owner} index must be an int, got {type(index).__name__}")
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"{owner} index {i} out of range for length {n}")
    return i + n if i < 0 else i


class TensorDataset(Dataset):
    """Samples are rows of equal-length arrays: ``ds[i] == (arrays[0][i], arrays[1][i], ...)``.

    ``arrays``: NumPy arrays (or array-likes / Tensors, converted with ``np.asarray``) of shapes
    ``(N, ...)`` with one common N, e.g. ``TensorDataset(images (N,1,28,28), labels (N,))``.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        # A Tensor (which has .numpy()) is brought to the host; anything else goes through np.asarray.
        converted = [a.numpy() if hasattr(a, "numpy") and not isinstance(a, np.ndarray) else np.asarray(a)
                     for a in arrays]
        for k, a in enumerate(converted):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: arrays[{k}] is a scalar; "
                                 "each array needs a first (sample) dimension")
            if len(a) != len(converted[0]):
                raise ValueError(f"TensorDataset: arrays[{k}] has {len(a)} rows but arrays[0] has "
                                 f"{len(converted[0])}; all arrays need the same first dimension")
        self.arrays: tuple[np.ndarray, ...] = tuple(converted)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        i = _check_index(index, len(self), "TensorDataset")
        return tuple(a[i] for a in self.arrays)

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """Fast path: one fancy-indexing copy per array, each of shape ``(len(indices), ...)``."""
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (a view; nothing is copied up front)."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        n = _dataset_len(dataset, "Subset")
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError(f"Subset: indices must be a 1-d sequence of ints, got {idx.dtype} {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"Subset: indices must lie in [0, {n}), got range [{idx.min()}, {idx.max()}]")
        self.dataset = dataset
        self.indices = idx.astype(np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[_check_index(index, len(self), "Subset")])]

    def get_batch(self, indices: np.ndarray) -> Any:
        parent = self.indices[indices]
        if hasattr(self.dataset, "get_batch"):  # keeps the parent's fast path
            return self.dataset.get_batch(parent)
        return stack_items([self.dataset[int(i)] for i in parent])


def _dataset_len(dataset: Any, owner: str) -> int:
    if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
        raise TypeError(f"{owner}: dataset must define __len__ and __getitem__, got {type(dataset).__name__}")
    return len(dataset)


def random_split(dataset: Any, lengths: Sequence[int | float], seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given ``lengths``.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (rounded
    down, leftover samples handed out one by one from the first part). ``seed`` makes the
    split reproducible; ``None`` draws from minigrad's global generator.
    """
    n = _dataset_len(dataset, "random_split")
    lengths = list(lengths)
    if not lengths or any(isinstance(x, bool) or not isinstance(x, numbers.Real) or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative numbers, got {lengths}")
    if all(isinstance(x, numbers.Integral) for x in lengths):
        counts = [int(x) for x in lengths]
    elif abs(sum(lengths) - 1.0) < 1e-6:
        counts = [int(np.floor(n * float(f))) for f in lengths]
        for k in range(n - sum(counts)):
            counts[k % len(counts)] += 1
    else:
        raise ValueError(f"random_split: fractional lengths must sum to 1, got {lengths}")
    if sum(counts) != n:
        raise ValueError(f"random_split: lengths sum to {sum(counts)}, but the dataset has {n} samples")
    perm = _permutation(n, seed)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[a:b]) for a, b in itertools.pairwise(bounds)]


def _permutation(n: int, seed: int | None) -> np.ndarray:
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
        return np.random.default_rng(int(seed)).permutation(n)
    from minigrad import random as mg_random  # lazy: the core may import this package

    return mg_random.get_generator().permutation(n)
