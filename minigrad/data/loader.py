"""DataLoader: iterate over a dataset in (optionally shuffled) batches of Tensors."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .dataset import _dataset_len, stack_items

__all__ = ["DataLoader"]


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader: {name} must be True or False, got {value!r}")
    return bool(value)


class DataLoader:
    """Batches of ``dataset`` as ``minigrad.Tensor`` s, e.g. ``for x, y in DataLoader(ds, 64, shuffle=True)``.

    Each batch mirrors a sample: a tuple of Tensors for tuple samples (``x (B, 1, 28, 28)``,
    ``y (B,)``), one Tensor for bare samples. Floating fields become float32, integer and
    bool fields int64 (what losses and ``embedding`` want); no batch requires grad.
    B = ``batch_size`` except possibly the last batch, which ``drop_last=True`` drops if short.

    Shuffling: with ``seed`` given, epoch ``e`` (the e-th ``iter()``, or :meth:`set_epoch`)
    uses a permutation drawn from ``(seed, e)``: the same on every run, different each epoch.
    Without ``seed`` it draws from ``minigrad.random.get_generator()``, so
    ``minigrad.random.manual_seed`` makes it reproducible.
    ``transform``, if given, maps the batch's first field (a NumPy array, e.g. images) to a
    new array before it becomes a Tensor -- a cheap place for augmentation.
    ``device``: where the batches go; ``None`` means minigrad's default device at iteration time.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, transform: Callable[[np.ndarray], np.ndarray] | None = None,
                 device: str | None = None) -> None:
        self._n = _dataset_len(dataset, "DataLoader")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise ValueError(f"DataLoader: seed must be a non-negative int or None, got {seed!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be callable or None, got {type(transform).__name__}")
        if device is not None:
            from minigrad.backend import normalize_device  # validates now, not mid-epoch

            device = normalize_device(device)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = _check_bool(shuffle, "shuffle")
        self.drop_last = _check_bool(drop_last, "drop_last")
        self.seed = None if seed is None else int(seed)
        self.transform = transform
        self.device = device
        self.epoch = 0  # the epoch the next iter() will run

    def __len__(self) -> int:
        """Number of batches per epoch."""
        if self.drop_last:
            return self._n // self.batch_size
        return math.ceil(self._n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` run epoch ``epoch`` (its shuffle order, when ``seed`` is set)."""
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"DataLoader.set_epoch: epoch must be a non-negative int, got {epoch!r}")
        self.epoch = int(epoch)

    def order(self, epoch: int | None = None) -> np.ndarray:
        """The sample order (int64 indices, shape ``(len(dataset),)``) for ``epoch`` (default: the next).

        Without ``seed``, each call draws a fresh permutation from the global generator.
        """
        epoch = self.epoch if epoch is None else epoch
        if not self.shuffle:
            return np.arange(self._n, dtype=np.int64)
        if self.seed is not None:
            rng = np.random.default_rng([self.seed, epoch])  # a stream per (seed, epoch) pair
        else:
            from minigrad import random as mg_random  # lazy: the core may import this package

            rng = mg_random.get_generator()
        return rng.permutation(self._n).astype(np.int64)

    def __iter__(self) -> Iterator[Any]:
        import minigrad  # lazy: the core may import this package
        from minigrad.backend import get_default_device

        if len(self.dataset) != self._n:
            raise RuntimeError(f"DataLoader: dataset length changed from {self._n} to {len(self.dataset)}")
        order = self.order()
        self.epoch += 1
        device = self.device or get_default_device()
        get_batch = getattr(self.dataset, "get_batch", None)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            if get_batch is not None:
                batch = get_batch(idx)
            else:  # duck-typed dataset without get_batch: one item at a time
                batch = stack_items([self.dataset[int(i)] for i in idx])
            fields = list(batch) if isinstance(batch, tuple) else [batch]
            if self.transform is not None:
                fields[0] = np.asarray(self.transform(fields[0]))
            tensors = tuple(minigrad.tensor(f, dtype=_batch_dtype(f), device=device) for f in fields)
            yield tensors if isinstance(batch, tuple) else tensors[0]


def _batch_dtype(array: np.ndarray) -> np.dtype:
    kind = np.asarray(array).dtype.kind
    if kind == "f":
        return np.dtype(np.float32)
    if kind in "iub":
        return np.dtype(np.int64)
    raise TypeError(f"DataLoader: cannot batch a field of dtype {array.dtype}; use numbers (float or int)")
