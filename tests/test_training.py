"""The training command end to end: a synthetic data set (fast) and real Fashion-MNIST (slow)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad.data import write_idx
from minigrad.examples import train

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def tiny_fashion(tmp_path, monkeypatch):
    """A learnable 10-class toy set in Fashion-MNIST's file layout: class k lights up row band k."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "fashion-mnist"
    folder.mkdir(parents=True)
    for prefix, n in (("train", 300), ("t10k", 100)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 * k + 4: 2 * k + 6, :] = 250
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "data"))
    return folder


def test_train_command_writes_weights_curve_and_result(tiny_fashion, tmp_path, capsys):
    out = tmp_path / "run"
    code = train.main(["--model", "mlp", "--epochs", "2", "--batch-size", "32", "--out", str(out), "--no-progress"])
    assert code == 0
    result = json.loads((out / "result.json").read_text())
    assert result["epochs"] == 2 and result["kernels"] == "solutions"
    assert result["final_test_accuracy"] > 0.9
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    state = minigrad.load(out / "weights.npz")
    model = minigrad.models.get_model("mlp")
    model.load_state_dict(state)
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "235,146 parameters" in printed


def test_train_command_with_unfinished_exercises_says_so(tiny_fashion, tmp_path, capsys):
    code = train.main(["--model", "mlp", "--epochs", "1", "--kernels", "exercises", "--out", str(tmp_path / "r"),
                       "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "not implemented yet" in err and "--kernels solutions" in err
    assert err.count("\n") == 1


def test_train_command_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--epochs", "0"])
    assert exit_info.value.code == 2
    assert "--epochs must be a positive integer" in capsys.readouterr().err


def test_missing_data_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("MINIGRAD_DATA_URL", "http://127.0.0.1:9/{name}/")
    code = train.main(["--data", str(tmp_path / "empty"), "--out", str(tmp_path / "r"), "--no-progress"])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: ")


@pytest.mark.slow
@pytest.mark.skipif(not DEBIAN_DIR.exists(), reason="needs Debian's dataset-fashion-mnist (CI installs it)")
def test_mlp_reaches_85_percent_on_real_fashion_mnist(tmp_path):
    result = train.train(train.parse_args(["--model", "mlp", "--epochs", "3", "--data", str(DEBIAN_DIR),
                                           "--out", str(tmp_path), "--no-progress"]))
    assert result["final_test_accuracy"] >= 0.85
