"""Tests for minigrad.data: IDX files, locating and downloading (Fashion-)MNIST.

Datasets and the DataLoader are tested in test_dataloader.py. Nothing here touches the network:
downloads go to a loopback HTTP server serving small synthetic IDX files made in tmp_path, and every
test runs with a dead MINIGRAD_DATA_URL.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.data import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_SPEC,
    DatasetError,
    DatasetNotFoundError,
    FashionMNIST,
    candidate_dirs,
    load_fashion_mnist,
    load_idx_dataset,
    read_idx,
    write_idx,
)

FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
DEBIAN = Path("/usr/share/datasets/fashion-mnist")
HAVE_DEBIAN = all((DEBIAN / f).is_file() for pair in FILES.values() for f in pair)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No real data dirs, a private cache, and any accidental download fails at once on loopback."""
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("MINIGRAD_DATA_URL", "http://127.0.0.1:9/")  # discard port: refused
    monkeypatch.setenv("no_proxy", "*")  # urllib would send 127.0.0.1 through an http_proxy


def make_split(directory: Path, split: str = "train", n: int = 12, seed: int = 0, gz: bool = True):
    """Write a synthetic split (uint8 28x28 images, labels 0..9) and return (images, labels, md5s)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    directory.mkdir(parents=True, exist_ok=True)
    md5s = {}
    for name, arr in zip(FILES[split], (images, labels), strict=True):
        path = directory / (name if gz else name.removesuffix(".gz"))
        write_idx(path, arr)
        md5s[name] = hashlib.md5(path.read_bytes()).hexdigest()
    return images, labels, md5s


def spec_with(tmp_path, **changes):
    """The Fashion-MNIST spec with a fake system dir (the real Debian one must not interfere)."""
    return dataclasses.replace(FASHION_MNIST_SPEC, **{"system_dir": str(tmp_path / "system"), **changes})


def assert_one_line(excinfo, *parts):
    msg = str(excinfo.value)
    assert "\n" not in msg
    for p in parts:
        assert str(p) in msg, f"{p!r} not in {msg!r}"


# ---------------------------------------------------------------- IDX format

@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=4),
       dtype=st.sampled_from(["uint8", "int8", "int16", "int32", "float32", "float64"]),
       gz=st.booleans())
def test_idx_round_trip(tmp_path_factory, shape, dtype, gz):
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx")
    arr = (np.arange(int(np.prod(shape))) * 37 % 101 - 50).astype(dtype).reshape(shape)
    write_idx(path, arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)
    assert back.shape == tuple(shape)
    assert back.flags.writeable
    np.testing.assert_array_equal(back, arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz


def _idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


GOOD = _idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
CORRUPTIONS = {
    "bad magic": (b"\x08\x03" + GOOD[2:], "magic number"),
    "unknown dtype code": (GOOD[:2] + b"\x07" + GOOD[3:], "unknown IDX dtype code 0x07"),
    "truncated data": (GOOD[:-5], "truncated: header dims (2, 3, 4) need 24 data bytes, found 19"),
    "trailing bytes": (GOOD + b"\x00", "trailing bytes"),
    "truncated header": (GOOD[:9], "truncated header"),
    "empty file": (b"", "not an IDX file"),
    "truncated gzip": (gzip.compress(GOOD)[:-12], "truncated gzip"),
    "corrupt gzip": (gzip.compress(GOOD)[:-8] + b"\xff" * 8, "corrupt gzip"),
}


@pytest.mark.parametrize("case", CORRUPTIONS)
def test_idx_corruption_gives_clear_error(tmp_path, case):
    payload, expected = CORRUPTIONS[case]
    path = tmp_path / "bad-idx3-ubyte.gz"
    path.write_bytes(payload)
    with pytest.raises(DatasetError) as e:
        read_idx(path)
    assert_one_line(e, path, expected)


def test_idx_expected_dtype_ndim_and_missing_file(tmp_path):
    path = tmp_path / "x.idx"
    write_idx(path, np.zeros((2, 3), np.int32))
    with pytest.raises(DatasetError) as e:
        read_idx(path, dtype=np.uint8)
    assert_one_line(e, path, "holds int32 data", "expected uint8")
    with pytest.raises(DatasetError) as e:
        read_idx(path, ndim=3)
    assert_one_line(e, "2-d array, expected 3-d")
    with pytest.raises(DatasetError, match="no such file"):
        read_idx(tmp_path / "missing.gz")
    with pytest.raises(DatasetError, match="cannot be stored in IDX"):
        write_idx(path, np.zeros(3, np.int64))


# ---------------------------------------------------------------- locating files

def test_candidate_dirs_order(tmp_path, monkeypatch):
    cache = tmp_path / "cache" / "minigrad" / "fashion-mnist"
    assert candidate_dirs("fashion-mnist", system_dir="/sys/dir") == [Path("/sys/dir"), cache]
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    assert candidate_dirs("fashion-mnist", system_dir="/sys/dir") == [tmp_path / "env" / "fashion-mnist",
                                                                      Path("/sys/dir"), cache]
    assert candidate_dirs("fashion-mnist", tmp_path / "mine", "/sys/dir") == [tmp_path / "mine"]


def test_search_order_env_then_system_then_cache(tmp_path, monkeypatch):
    spec = spec_with(tmp_path)
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    dirs = [tmp_path / "env/fashion-mnist", tmp_path / "system", tmp_path / "cache/minigrad/fashion-mnist"]
    for k, d in enumerate(dirs):  # each dir holds a different number of samples
        make_split(d, n=3 + k)
    for k in range(3):
        images, _ = load_idx_dataset(spec, download=False)
        assert len(images) == 3 + k
        for f in FILES["train"]:
            (dirs[k] / f).unlink()  # remove the winner: the next dir in line must be used


def test_explicit_path_raw_files_and_dtypes(tmp_path):
    images, labels, _ = make_split(tmp_path / "mine", "test", n=5, gz=False)
    x, y = load_fashion_mnist(tmp_path / "mine", "test", download=False)
    assert x.shape == (5, 1, 28, 28)
    assert x.dtype == np.float32
    assert y.dtype == np.int64
    np.testing.assert_allclose(x[:, 0] * 255, images, atol=1e-4)
    np.testing.assert_array_equal(y, labels)
    raw, _ = load_fashion_mnist(tmp_path / "mine", "test", download=False, normalize=False)
    assert raw.dtype == np.uint8
    assert raw.max() == images.max()


def test_not_found_message_says_where_and_how(tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        load_idx_dataset(spec_with(tmp_path), split="test", download=False)
    assert_one_line(e, tmp_path / "system", tmp_path / "cache", "apt-get install dataset-fashion-mnist",
                    "MINIGRAD_DATA", "download=False")
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        load_fashion_mnist(tmp_path, "val")


@pytest.mark.parametrize(("labels_n", "bad_label", "expected"),
                         [(11, None, "holds 12 images but"), (12, 10, "holds label 10, expected 0..9")])
def test_inconsistent_files_are_rejected(tmp_path, labels_n, bad_label, expected):
    make_split(tmp_path, n=12)
    labels = np.zeros(labels_n, np.uint8)
    if bad_label is not None:
        labels[3] = bad_label
    write_idx(tmp_path / FILES["train"][1], labels)
    with pytest.raises(DatasetError) as e:
        load_fashion_mnist(tmp_path, download=False)
    assert_one_line(e, expected)


# ---------------------------------------------------------------- downloading (loopback only)

class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self.requests.append(self.path)
        if self.path.startswith("/lying/"):  # promises more bytes than it sends
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"\x1f\x8b" * 10)
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1; yields (base_url, list of requested paths)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = type("H", (_Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", handler.requests
    httpd.shutdown()
    httpd.server_close()


def _cache_files(tmp_path):
    d = tmp_path / "cache" / "minigrad" / "fashion-mnist"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_download_into_cache_verifies_and_reuses(tmp_path, server, monkeypatch):
    url, requests = server
    images, labels, md5s = make_split(tmp_path / "www" / "fashion-mnist", "test", n=7)
    monkeypatch.setenv("MINIGRAD_DATA_URL", url + "{name}")  # {name} -> fashion-mnist
    spec = spec_with(tmp_path)
    x, y = load_idx_dataset(spec, split="test", checksums=md5s, progress=False)
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(np.rint(x[:, 0] * 255).astype(np.uint8), images)
    assert _cache_files(tmp_path) == sorted(FILES["test"])  # no .part files left behind
    assert len(requests) == 2
    load_idx_dataset(spec, split="test", checksums=md5s, progress=False)
    assert len(requests) == 2  # second load comes from the cache


def test_download_to_explicit_path_and_mirror_fallback(tmp_path, server, monkeypatch):
    url, requests = server
    _, labels, md5s = make_split(tmp_path / "www" / "good", n=4)
    spec = spec_with(tmp_path, mirrors=(url + "missing/", url + "good/"))
    monkeypatch.delenv("MINIGRAD_DATA_URL")  # so the spec's mirrors are used, in order
    _, y = load_idx_dataset(spec, tmp_path / "mine", checksums=md5s, progress=False)
    np.testing.assert_array_equal(y, labels)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == sorted(FILES["train"])
    assert requests[0].startswith("/missing/")
    assert requests[1].startswith("/good/")


@pytest.mark.parametrize("case", ["wrong checksum", "404", "short transfer"])
def test_failed_download_leaves_nothing_and_explains(tmp_path, server, case):
    url, _ = server
    _, _, md5s = make_split(tmp_path / "www", n=4)
    if case == "wrong checksum":
        md5s[FILES["train"][0]] = "0" * 32
        expected = f"checksum mismatch for {url}train-images-idx3-ubyte.gz: expected md5 {'0' * 32}"
    elif case == "404":
        url += "nowhere/"
        expected = "HTTP 404"
    else:
        url += "lying/"
        expected = "ended after 20 of 1000 bytes"
    with pytest.raises(DatasetNotFoundError) as e:
        load_idx_dataset(spec_with(tmp_path), base_url=url, checksums=md5s, progress=False)
    assert_one_line(e, expected, "could not download Fashion-MNIST file train-images-idx3-ubyte.gz")
    assert _cache_files(tmp_path) == []


def test_truncated_file_with_matching_checksum_is_caught_by_reader(tmp_path, server):
    url, _ = server
    _, _, md5s = make_split(tmp_path / "www", n=40)
    img = tmp_path / "www" / FILES["train"][0]
    img.write_bytes(img.read_bytes()[:-100])  # e.g. a mirror that stores a cut-off file
    md5s[img.name] = hashlib.md5(img.read_bytes()).hexdigest()
    with pytest.raises(DatasetError) as e:
        load_idx_dataset(spec_with(tmp_path), base_url=url, checksums=md5s, progress=False)
    assert_one_line(e, "train-images-idx3-ubyte.gz: truncated gzip")


def test_unreachable_host_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:  # MINIGRAD_DATA_URL points at a closed port
        load_idx_dataset(spec_with(tmp_path), progress=False)
    assert_one_line(e, "download of http://127.0.0.1:9/train-images-idx3-ubyte.gz failed")


# ---------------------------------------------------------------- the real Debian files

@pytest.fixture(scope="module")
def real_fashion():
    return {split: load_fashion_mnist(DEBIAN, split, download=False) for split in FILES}


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_DEBIAN, reason="apt-get install dataset-fashion-mnist")
@pytest.mark.parametrize(("split", "n"), [("train", 60000), ("test", 10000)])
def test_real_fashion_mnist(real_fashion, split, n):
    x, y = real_fashion[split]
    assert x.shape == (n, 1, 28, 28)
    assert x.dtype == np.float32
    assert y.shape == (n,)
    assert y.dtype == np.int64
    assert x.min() == 0.0
    assert x.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y, minlength=10), [n // 10] * 10)  # exactly balanced
    assert len(FASHION_MNIST_CLASSES) == 10
    assert FASHION_MNIST_CLASSES[9] == "Ankle boot"


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_DEBIAN, reason="apt-get install dataset-fashion-mnist")
def test_default_search_finds_debian_package():
    ds = FashionMNIST(train=False, download=False)  # no path, no MINIGRAD_DATA: the system dir
    image, label = ds[0]
    assert len(ds) == 10000
    assert image.shape == (1, 28, 28)
    assert ds.classes[label] == "Ankle boot"
