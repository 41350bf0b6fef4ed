"""What the notebooks stand on: data from the disk only (with a clear message when absent), pictures without
matplotlib, and a handout that ships the notebooks cleared and checks their code cells too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader.instructor import release
from minigrad import notebook
from minigrad.data import FASHION_MNIST_CLASSES, DatasetNotFoundError, write_idx
from minigrad.visualize import PNG_SIGNATURE, png_bytes

KIT = Path(__file__).resolve().parent.parent


def test_without_the_data_set_the_helpers_say_how_to_get_it_and_draw_a_stand_in(monkeypatch, capsys):
    def absent(*args, **kwargs):
        assert kwargs.get("download") is False  # never the network
        raise DatasetNotFoundError("Fashion-MNIST train files not found in /nowhere")

    monkeypatch.setattr(notebook, "load_fashion_mnist", absent)
    assert notebook.fashion_mnist(10) is None
    out = capsys.readouterr().out
    assert "sudo apt-get install dataset-fashion-mnist" in out and "MINIGRAD_DATA" in out and "/nowhere" in out
    image, label = notebook.sample_image(3)
    assert image.shape == (28, 28) and 0 <= image.min() < image.max() <= 1 and "drawn" in label


def test_the_helpers_read_the_files_from_minigrad_data(tmp_path, monkeypatch):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    images = np.arange(5 * 28 * 28, dtype=np.uint8).reshape(5, 28, 28)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.array([9, 0, 1, 2, 3], np.uint8))
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    x, y = notebook.fashion_mnist(3, "test")
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32 and y.tolist() == [9, 0, 1]
    np.testing.assert_allclose(x[1, 0], images[1] / 255.0, rtol=1e-6)
    image, label = notebook.sample_image(0)
    assert image.dtype == np.float64 and label == FASHION_MNIST_CLASSES[9]


def test_show_outside_jupyter_prints_what_the_picture_is(capsys):
    picture = np.zeros((10, 20), np.uint8)
    notebook.show(picture, "filters")
    assert capsys.readouterr().out == "filters: a 20×10 picture (run this in Jupyter to see it)\n"
    assert png_bytes(picture).startswith(PNG_SIGNATURE)


def _notebook(*sources: str, outputs: bool = False) -> dict:
    cells = [{"cell_type": "code", "metadata": {}, "source": s, "execution_count": 3 if outputs else None,
              "outputs": [{"output_type": "stream", "name": "stdout", "text": "reference at work"}] if outputs else []}
             for s in sources]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_the_handout_gets_the_notebooks_with_outputs_cleared(tmp_path):
    source = tmp_path / "notebooks"
    source.mkdir()
    (source / "01_x.ipynb").write_text(json.dumps(_notebook("%load_ext autoreload\nprint(1)", outputs=True)))
    release._copy_notebooks(source, tmp_path / "out")
    (cell,) = json.loads((tmp_path / "out" / "01_x.ipynb").read_text())["cells"]
    assert cell["outputs"] == [] and cell["execution_count"] is None and cell["source"].startswith("%load_ext")
    colab = _notebook(f'HANDOUT = "{release.COLAB_PLACEHOLDER}"')
    (source / "01_x.ipynb").write_text(json.dumps(colab))
    release._copy_notebooks(source, tmp_path / "url", "https://example.org/course/handout.git")
    (cell,) = json.loads((tmp_path / "url" / "01_x.ipynb").read_text())["cells"]
    assert cell["source"] == 'HANDOUT = "https://example.org/course/handout.git"'
    assert release.COLAB_PLACEHOLDER in (KIT / "notebooks" / "02_conv.ipynb").read_text()


def test_the_handout_check_reads_notebook_code_cells(tmp_path):
    planted = (KIT / "solutions" / "relu.py").read_text()
    body = planted[planted.index("def relu_backward("):]
    body = body[:body.index("\n\n\n")] if "\n\n\n" in body else body
    (tmp_path / "notebooks").mkdir()
    nb = _notebook("%autoreload 2\n!ls\nimport numpy as np", body.replace("def relu_backward(", "def helper("))
    (tmp_path / "notebooks" / "02_y.ipynb").write_text(json.dumps(nb))
    assert release.check_handout(tmp_path) == [
        "notebooks/02_y.ipynb: helper has the body of solutions/relu.py:relu_backward"]
    (tmp_path / "notebooks" / "02_y.ipynb").write_text(json.dumps(_notebook("%autoreload 2", "x = 1")))
    assert release.check_handout(tmp_path) == []


@pytest.mark.parametrize("name", sorted(p.name for p in (KIT / "notebooks").glob("*.ipynb")))
def test_the_kit_notebooks_hold_no_solution_code(name):
    fingerprints = release.solution_fingerprints()
    assert not [f for f, fp, _ in release._functions(KIT / "notebooks" / name) if fp in fingerprints]
