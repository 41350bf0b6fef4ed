"""Saving and loading weights as .npz: round trips, never pickle, clear errors for bad files."""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.serialization import FORMAT_VERSION, METADATA_KEY, load, load_into, save


def make_model(seed: int) -> nn.Module:
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3, bias=False))
    model(mg.randn(8, 4))  # running statistics away from their start
    return model


def write_bytes(path, data: bytes):
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------- round trips


def test_module_round_trip(tmp_path):
    model = make_model(0)
    path = save(model, tmp_path / "model.npz")
    assert path == tmp_path / "model.npz" and path.is_file()
    state = load(path)
    expected = model.state_dict()
    assert list(state) == list(expected)  # dotted names, in order, no header
    for key, value in expected.items():
        assert state[key].dtype == value.dtype and state[key].shape == value.shape
        np.testing.assert_array_equal(state[key], value)

    fresh = make_model(1)
    assert load_into(fresh, path) is fresh
    x = mg.randn(5, 4)
    model.eval()
    fresh.eval()
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_float64_model_keeps_float64(tmp_path):
    model = make_model(0).double()
    state = load(save(model, tmp_path / "m64.npz"))
    assert all(v.dtype == np.float64 for v in state.values())


def test_state_dict_round_trip_with_arrays_tensors_and_lists(tmp_path):
    state = {"a.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "b": mg.tensor([1.5, 2.5]),
             "steps": np.array(7, dtype=np.int64), "mask": np.array([True, False]), "plain": [1.0, 2.0]}
    loaded = load(save(state, tmp_path / "state.npz"))
    assert list(loaded) == list(state)
    np.testing.assert_array_equal(loaded["a.weight"], state["a.weight"])
    assert loaded["b"].dtype == np.float32 and loaded["b"].tolist() == [1.5, 2.5]
    assert loaded["steps"].shape == () and loaded["steps"] == 7
    assert loaded["mask"].dtype == np.bool_
    np.testing.assert_array_equal(loaded["plain"], [1.0, 2.0])


def test_keys_that_are_numpy_savez_argument_names_survive(tmp_path):
    state = {"file": np.ones(2), "allow_pickle": np.zeros(3), "arr_0": np.full(1, 5.0), "a/b": np.ones(1)}
    loaded = load(save(state, tmp_path / "names.npz"))
    assert list(loaded) == list(state)
    for key, value in state.items():
        np.testing.assert_array_equal(loaded[key], value)


def test_npz_suffix_is_added_and_found(tmp_path):
    path = save(nn.Linear(2, 2), tmp_path / "weights")
    assert path.name == "weights.npz" and path.is_file()
    assert list(load(tmp_path / "weights")) == ["weight", "bias"]
    assert list(load(str(path))) == ["weight", "bias"]


def test_saving_again_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "w.npz"
    save({"x": np.zeros(2)}, path)
    save({"y": np.ones(3)}, path)
    assert list(load(path)) == ["y"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]


def test_file_is_a_plain_npz_with_a_json_header(tmp_path):
    path = save(nn.Linear(3, 2), tmp_path / "lin.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"weight", "bias", METADATA_KEY}
        header = archive[METADATA_KEY]
        assert header.dtype == np.uint8
        meta = json.loads(header.tobytes().decode("utf-8"))
    assert meta["version"] == FORMAT_VERSION and meta["keys"] == ["weight", "bias"]
    with zipfile.ZipFile(path) as zf:
        assert all(name.endswith(".npy") for name in zf.namelist())


def test_plain_numpy_savez_files_load_too(tmp_path):
    np.savez(tmp_path / "plain.npz", weight=np.ones((2, 2)), bias=np.zeros(2))
    state = load(tmp_path / "plain.npz")
    assert list(state) == ["weight", "bias"]
    lin = load_into(nn.Linear(2, 2), tmp_path / "plain.npz")
    np.testing.assert_array_equal(lin.weight.numpy(), np.ones((2, 2)))


def test_save_works_on_a_model_on_another_device(tmp_path):
    fakecupy = pytest.importorskip("minigrad.testing.fakecupy")
    mg.backend.register_device("cuda", fakecupy)
    try:
        model = nn.Linear(3, 2)
        expected = model.state_dict()
        model.to("cuda")
        state = load(save(model, tmp_path / "gpu.npz"))
        for key in expected:
            np.testing.assert_array_equal(state[key], expected[key])
        load_into(model, tmp_path / "gpu.npz")
        assert model.weight.device == "cuda"
    finally:
        mg.backend.unregister_device("cuda")


# ----------------------------------------------------------------------------- no pickle


class _Exploit:
    triggered = False

    def __reduce__(self):
        return (_trigger, ())


def _trigger():
    _Exploit.triggered = True
    return "pwned"


def test_a_pickled_object_npz_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, weight=np.ones(2), payload=np.array([_Exploit()], dtype=object))
    with pytest.raises(ValueError, match=r"'payload'.*holds Python objects \(pickle\)"):
        load(path)
    assert not _Exploit.triggered
    model = nn.Linear(2, 1)
    before = model.state_dict()
    with pytest.raises(ValueError, match="pickle"):
        load_into(model, path)
    np.testing.assert_array_equal(model.weight.numpy(), before["weight"])


def test_a_raw_pickle_file_is_refused(tmp_path):
    path = write_bytes(tmp_path / "model.npz", pickle.dumps({"weight": _Exploit()}))
    with pytest.raises(ValueError, match=r"not an .npz archive"):
        load(path)
    assert not _Exploit.triggered


@pytest.mark.parametrize("value", [np.array([None, 1], dtype=object), np.array(["a", "b"]), [{"a": 1}],
                                   np.array([1 + 2j])])
def test_save_refuses_non_numeric_arrays_and_writes_nothing(tmp_path, value):
    path = tmp_path / "bad.npz"
    with pytest.raises(TypeError, match=r"'w' holds .* values; only numeric arrays can be saved"):
        save({"w": value}, path)
    assert not path.exists() and list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- errors


def test_save_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="obj must be a Module or a state dict"):
        save([np.ones(2)], tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be non-empty strings"):
        save({1: np.ones(2)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be non-empty strings"):
        save({"": np.ones(2)}, tmp_path / "x.npz")
    with pytest.raises(ValueError, match="reserved"):
        save({METADATA_KEY: np.ones(2)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike"):
        save({"a": np.ones(2)}, 3)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load: no such file: .*nothing.npz"):
        load(tmp_path / "nothing.npz")
    with pytest.raises(FileNotFoundError):
        load_into(nn.Linear(2, 2), tmp_path / "nothing.npz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load(tmp_path)  # a directory is no file


@pytest.mark.parametrize("content", [b"", b"hello, weights", b"\x93NUMPY not really"])
def test_a_file_that_is_not_an_npz(tmp_path, content):
    with pytest.raises(ValueError, match=r"not an .npz archive") as err:
        load(write_bytes(tmp_path / "w.npz", content))
    assert "\n" not in str(err.value)


def test_a_npy_file_is_not_an_npz(tmp_path):
    np.save(tmp_path / "w.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"not an .npz archive"):
        load(tmp_path / "w.npy")


def test_a_truncated_npz_is_reported_as_corrupted(tmp_path):
    path = save(nn.Linear(8, 8), tmp_path / "w.npz")
    data = path.read_bytes()
    write_bytes(path, data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupted") as err:
        load(path)
    assert "\n" not in str(err.value)


def test_a_damaged_member_is_reported_as_corrupted(tmp_path):
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("weight.npy", b"\x93NUMPY garbage that is no header")
    with pytest.raises(ValueError, match=r"entry 'weight' of .* is corrupted"):
        load(path)


def _with_header(path, header: bytes):
    np.savez(path, weight=np.ones(2), **{METADATA_KEY: np.frombuffer(header, dtype=np.uint8)})
    return path


def test_a_newer_format_version_is_refused(tmp_path):
    header = json.dumps({"format": "minigrad-state-dict", "version": FORMAT_VERSION + 1}).encode()
    with pytest.raises(ValueError, match=r"format version 2.*upgrade minigrad"):
        load(_with_header(tmp_path / "w.npz", header))


@pytest.mark.parametrize("header", [b"{not json", b"[1, 2]", b'{"format": "other", "version": 1}', b"\xff\xfe"])
def test_an_unreadable_header_is_refused(tmp_path, header):
    with pytest.raises(ValueError, match="unreadable __minigrad__ header"):
        load(_with_header(tmp_path / "w.npz", header))


def test_load_into_checks_the_model_and_changes_nothing_on_failure(tmp_path):
    path = save(nn.Linear(3, 2), tmp_path / "small.npz")
    target = nn.Linear(4, 2)
    before = target.state_dict()
    with pytest.raises(ValueError, match=r"weight has shape \(2, 3\), this module expects \(2, 4\)"):
        load_into(target, path)
    for key, value in before.items():
        np.testing.assert_array_equal(target.state_dict()[key], value)
    with pytest.raises(KeyError, match="missing keys"):
        load_into(nn.Sequential(nn.Linear(3, 2)), path)
    with pytest.raises(TypeError, match="module must be a Module"):
        load_into({"weight": None}, path)


def test_load_into_non_strict(tmp_path):
    path = save({"weight": np.ones((2, 3)), "unused": np.zeros(1)}, tmp_path / "partial.npz")
    lin = load_into(nn.Linear(3, 2), path, strict=False)
    np.testing.assert_array_equal(lin.weight.numpy(), np.ones((2, 3)))


def test_the_package_exports_save_and_load():
    assert mg.serialization.save is save and mg.serialization.load is load
    assert mg.save is save and mg.load is load
