"""Datasets and the DataLoader: indexing, subsets and splits, batching, shuffling, devices and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_helpers import one_line

import minigrad
from minigrad.data import DataLoader, Dataset, Subset, TensorDataset, random_split

# ---------------------------------------------------------------- datasets

class ItemDataset(Dataset):
    """Item-by-item dataset (no fast path): sample i is (float64 features, int label i)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(3, float(i)), i


def test_tensor_dataset_validates():
    ds = TensorDataset(np.zeros((4, 2)), np.arange(4))
    assert len(ds) == 4
    assert ds[-1][1] == 3
    with pytest.raises(ValueError, match=r"arrays\[1\] has 3 rows but arrays\[0\] has 4"):
        TensorDataset(np.zeros((4, 2)), np.arange(3))
    with pytest.raises(ValueError, match=r"arrays\[0\] is a scalar"):
        TensorDataset(np.float32(1))
    with pytest.raises(IndexError, match="index 4 out of range for length 4"):
        ds[4]


def test_random_split_and_subset():
    ds = TensorDataset(np.arange(10))
    a, b = random_split(ds, [7, 3], seed=1)
    seen = np.concatenate([a.get_batch(np.arange(7))[0], b.get_batch(np.arange(3))[0]])
    assert sorted(seen) == list(range(10))
    assert list(random_split(ds, [7, 3], seed=1)[0].indices) == list(a.indices)
    assert [len(s) for s in random_split(ds, [0.5, 0.25, 0.25], seed=0)] == [6, 2, 2]  # leftover goes first
    with pytest.raises(ValueError, match="lengths sum to 9, but the dataset has 10"):
        random_split(ds, [6, 3])
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 10\)"):
        Subset(ds, [0, 10])


# ---------------------------------------------------------------- DataLoader

@pytest.mark.parametrize(("n", "bs", "drop_last", "batches"),
                         [(10, 3, False, 4), (10, 3, True, 3), (9, 3, True, 3), (2, 5, False, 1),
                          (2, 5, True, 0)])
def test_loader_len(n, bs, drop_last, batches):
    loader = DataLoader(TensorDataset(np.arange(n)), batch_size=bs, drop_last=drop_last)
    assert len(loader) == batches == len(list(loader))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 40), bs=st.integers(1, 12), drop_last=st.booleans(), seed=st.integers(0, 2**32))
def test_loader_sees_each_index_once_per_epoch(n, bs, drop_last, seed):
    loader = DataLoader(TensorDataset(np.arange(n)), bs, shuffle=True, drop_last=drop_last, seed=seed)
    for _ in range(2):
        seen = np.concatenate([b[0].numpy() for b in loader] or [np.zeros(0, np.int64)])
        assert len(seen) == len(loader) * bs if drop_last else n
        assert len(set(seen.tolist())) == len(seen)


def test_seeded_shuffle_reproducible_and_differs_across_epochs():
    def orders(seed):
        loader = DataLoader(TensorDataset(np.arange(100)), batch_size=100, shuffle=True, seed=seed)
        return [next(iter(loader))[0].numpy() for _ in range(2)]

    e0, e1 = orders(5)
    np.testing.assert_array_equal(orders(5)[0], e0)
    np.testing.assert_array_equal(orders(5)[1], e1)
    assert not np.array_equal(e0, e1)
    assert not np.array_equal(orders(6)[0], e0)
    assert not np.array_equal(e0, np.arange(100))
    loader = DataLoader(TensorDataset(np.arange(100)), batch_size=100, shuffle=True, seed=5)
    loader.set_epoch(1)  # e.g. resuming a run at epoch 1
    np.testing.assert_array_equal(next(iter(loader))[0].numpy(), e1)


def test_unseeded_shuffle_follows_global_generator():
    loader = DataLoader(TensorDataset(np.arange(50)), batch_size=50, shuffle=True)
    minigrad.random.manual_seed(3)
    first = next(iter(loader))[0].numpy()
    minigrad.random.manual_seed(3)
    np.testing.assert_array_equal(next(iter(loader))[0].numpy(), first)


def test_batch_dtypes_device_and_grad():
    ds = TensorDataset(np.random.default_rng(0).random((6, 1, 2, 2)), np.arange(6, dtype=np.uint8))
    x, y = next(iter(DataLoader(ds, batch_size=4, transform=lambda a: a * 2)))
    assert isinstance(x, minigrad.Tensor)
    assert x.dtype == np.float32
    assert y.dtype == np.int64
    assert x.shape == (4, 1, 2, 2)
    assert not x.requires_grad
    assert not y.requires_grad
    assert x.device == y.device == minigrad.get_default_device()
    np.testing.assert_allclose(x.numpy(), (ds.arrays[0][:4] * 2).astype(np.float32))


def test_item_dataset_slow_path_matches_fast_path():
    slow = list(DataLoader(ItemDataset(7), batch_size=3, shuffle=True, seed=0))
    fast = list(DataLoader(TensorDataset(np.repeat(np.arange(7.0)[:, None], 3, 1), np.arange(7)),
                           batch_size=3, shuffle=True, seed=0))
    for (xs, ys), (xf, yf) in zip(slow, fast, strict=True):
        np.testing.assert_array_equal(xs.numpy(), xf.numpy())
        np.testing.assert_array_equal(ys.numpy(), yf.numpy())
    sub = Subset(ItemDataset(10), [9, 8])
    assert next(iter(DataLoader(sub, batch_size=2)))[1].numpy().tolist() == [9, 8]


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"batch_size": 0}, ValueError, "batch_size must be a positive int, got 0"),
    ({"batch_size": 2.5}, ValueError, "batch_size must be a positive int, got 2.5"),
    ({"batch_size": True}, ValueError, "batch_size must be a positive int, got True"),
    ({"shuffle": "yes"}, TypeError, "shuffle must be True or False"),
    ({"drop_last": None}, TypeError, "drop_last must be True or False"),
    ({"seed": -1}, ValueError, "seed must be a non-negative int or None, got -1"),
    ({"transform": 3}, TypeError, "transform must be callable or None"),
    ({"device": "tpu"}, minigrad.DeviceError, "device must be 'cpu' or 'cuda'"),
])
def test_loader_argument_errors(kwargs, error, message):
    with pytest.raises(error) as e:
        DataLoader(TensorDataset(np.arange(3)), **kwargs)
    assert message in one_line(e)
    with pytest.raises(TypeError, match="dataset must define __len__ and __getitem__, got int"):
        DataLoader(5)
