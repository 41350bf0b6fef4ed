"""The classic 3×3 filters, the PNG writer and grids, and the filter / feature-map pictures."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from minigrad import nn
from minigrad.data import write_idx
from minigrad.filters import (
    CLASSIC_FILTERS,
    FILTER_SUMS,
    apply_filters,
    feature_maps_png,
    filter_grid_png,
    filters_png,
    layer_output,
    main,
)
from minigrad.kernels import get_kernel, override_kernels
from minigrad.models import keras_convnet, lenet5
from minigrad.visualize import PNG_SIGNATURE, grid, text_image, to_uint8, upscale, write_png


def read_png(path) -> tuple[dict, np.ndarray]:
    """Parse a PNG written by write_png: check every chunk's CRC, undo filter type 0."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == PNG_SIGNATURE
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    header = {"width": width, "height": height, "depth": depth, "color": color,
              "rest": (compression, filtering, interlace)}
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    channels = {0: 1, 2: 3, 6: 4}[color]
    rows = np.frombuffer(raw, np.uint8).reshape(height, 1 + width * channels)
    assert not rows[:, 0].any()  # filter type 0 on every row
    pixels = rows[:, 1:].reshape(height, width, channels)
    return header, pixels[:, :, 0] if channels == 1 else pixels


# ----- PNG writer -----
def test_write_png_grey(tmp_path):
    image = np.arange(5 * 7, dtype=np.uint8).reshape(5, 7) * 7
    write_png(tmp_path / "g.png", image)
    header, pixels = read_png(tmp_path / "g.png")
    assert header == {"width": 7, "height": 5, "depth": 8, "color": 0, "rest": (0, 0, 0)}
    np.testing.assert_array_equal(pixels, image)


def test_write_png_rgb_and_rgba(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    write_png(tmp_path / "sub" / "c.png", rgb)  # makes the folder
    header, pixels = read_png(tmp_path / "sub" / "c.png")
    assert (header["width"], header["height"], header["color"]) == (6, 4, 2)
    np.testing.assert_array_equal(pixels, rgb)
    rgba = np.dstack([rgb, np.full((4, 6), 200, np.uint8)])
    write_png(tmp_path / "a.png", rgba)
    header, pixels = read_png(tmp_path / "a.png")
    assert header["color"] == 6
    np.testing.assert_array_equal(pixels, rgba)


def test_write_png_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match="uint8"):
        write_png(tmp_path / "x.png", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        write_png(tmp_path / "x.png", np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        write_png(tmp_path / "x.png", np.zeros((0, 3), np.uint8))


def test_to_uint8_upscale_grid_text():
    np.testing.assert_array_equal(to_uint8([-1.0, 0.0, 1.0]), [0, 128, 255])
    np.testing.assert_array_equal(to_uint8([3.0, 3.0]), [0, 0])
    np.testing.assert_array_equal(to_uint8([-2.0, 0.5, 2.0], 0, 1), [0, 128, 255])  # clipped
    np.testing.assert_array_equal(upscale(np.array([[1, 2]]), 2), [[1, 1, 2, 2], [1, 1, 2, 2]])

    panels = [np.full((3, 4), v, np.uint8) for v in (10, 20, 30)]
    g = grid(panels, ncols=2, pad=1, pad_value=255)
    assert g.shape == (2 * (3 + 1) + 1, 2 * (4 + 1) + 1)
    assert (g[1:4, 1:5] == 10).all() and (g[1:4, 6:10] == 20).all() and (g[5:8, 1:5] == 30).all()
    assert (g[0] == 255).all() and (g[:, 5] == 255).all() and (g[5:8, 6:10] == 255).all()  # gaps, empty cell
    assert grid([panels[0], np.zeros((3, 4, 3), np.uint8)]).shape[-1] == 3  # grey made RGB
    labelled = grid(panels, ncols=3, pad=1, labels=["a", "b", "c"])
    assert labelled.shape[0] == 1 + 3 + 7 + 1  # 5-pixel text plus a pixel above and below
    assert text_image("AB1").shape == (5, 11) and text_image("x", scale=3).shape == (15, 9)
    with pytest.raises(ValueError, match="shape"):
        grid([panels[0], np.zeros((2, 2), np.uint8)])


# ----- the filters -----
def test_classic_filters_and_their_sums():
    assert list(CLASSIC_FILTERS) == ["identity", "edge_diagonal", "edge_laplacian", "edge_strong", "sharpen",
                                     "box_blur", "gaussian_blur"]
    for name, k in CLASSIC_FILTERS.items():
        assert k.shape == (3, 3) and k.dtype == np.float64
        assert k.sum() == pytest.approx(FILTER_SUMS[name], abs=1e-12), name
        np.testing.assert_array_equal(k, k[::-1, ::-1])  # 180° symmetric: correlation = convolution
    assert FILTER_SUMS == {"identity": 1, "edge_diagonal": 0, "edge_laplacian": 0, "edge_strong": 0,
                           "sharpen": 1, "box_blur": 1, "gaussian_blur": 1}
    np.testing.assert_array_equal(CLASSIC_FILTERS["gaussian_blur"] * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_allclose(CLASSIC_FILTERS["box_blur"], np.full((3, 3), 1 / 9))
    np.testing.assert_array_equal(CLASSIC_FILTERS["edge_strong"], [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(CLASSIC_FILTERS["sharpen"],
                                  CLASSIC_FILTERS["identity"] - CLASSIC_FILTERS["edge_laplacian"])


def test_identity_returns_the_image(rng):
    image = rng.random((9, 11))
    out = apply_filters(image)
    assert out.shape == (7, 9, 11)
    np.testing.assert_allclose(out[0], image, rtol=0, atol=1e-12)


def test_flat_image_keeps_its_value_or_vanishes():
    out = apply_filters(np.full((6, 6), 0.5))
    interior = out[:, 1:-1, 1:-1]
    for k, name in enumerate(CLASSIC_FILTERS):
        np.testing.assert_allclose(interior[k], 0.5 * FILTER_SUMS[name], atol=1e-12, err_msg=name)


def test_apply_filters_channels_list_and_active_kernel(rng):
    rgb = rng.random((3, 5, 5))
    out = apply_filters(rgb, [CLASSIC_FILTERS["identity"], CLASSIC_FILTERS["box_blur"]])
    assert out.shape == (2, 3, 5, 5)
    np.testing.assert_allclose(out[0], rgb, atol=1e-12)
    assert apply_filters(rgb[0], np.ones((5, 5))).shape == (1, 5, 5)  # one 5×5 kernel, padding 2

    calls = []
    real = get_kernel("conv2d_forward")

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    with override_kernels(conv2d_forward=spy):
        apply_filters(rgb[0])
    assert calls and calls[0]["padding"] == (1, 1)
    with pytest.raises(ValueError, match="one size"):
        apply_filters(rgb[0], [np.ones((3, 3)), np.ones((5, 5))])


def test_filter_grid_png(tmp_path, rng):
    image = rng.random((28, 28))
    picture = filter_grid_png(image, tmp_path / "f.png", scale=2, pad=3, ncols=4, labels=False)
    header, pixels = read_png(tmp_path / "f.png")
    assert (header["height"], header["width"]) == (2 * (56 + 3) + 3, 4 * (56 + 3) + 3)
    np.testing.assert_array_equal(pixels, picture)
    np.testing.assert_array_equal(pixels[3:59, 3:59], upscale(to_uint8(image), 2))  # the original
    np.testing.assert_array_equal(pixels[3:59, 62:118], pixels[3:59, 3:59])          # identity = original
    assert pixels[3:59, 3:59].min() == 0 and pixels[3:59, 3:59].max() == 255         # stretched per panel
    clipped = filter_grid_png(image, tmp_path / "c.png", labels=True, clip=True)
    assert clipped.shape[0] > 2 * 112  # captions below each panel


def test_feature_maps_and_filters_png(tmp_path, rng):
    net = keras_convnet()
    image = rng.random((1, 28, 28)).astype(np.float32)
    maps = layer_output(net, image)  # the first conv
    assert maps.shape == (32, 28, 28)
    picture = feature_maps_png(net, image, tmp_path / "maps.png", layer="relu2", scale=1, ncols=8, pad=2)
    assert picture.shape == (8 * (14 + 2) + 2, 8 * (14 + 2) + 2)  # 64 maps of 14×14
    assert read_png(tmp_path / "maps.png")[0]["width"] == picture.shape[1]
    assert net.training and not any("forward" in m.__dict__ for m in net.modules())
    with pytest.raises(KeyError, match="no leaf layer"):
        layer_output(net, image, "conv9")

    grey = filters_png(net.conv1, tmp_path / "w1.png", scale=4, ncols=8, pad=1)
    assert grey.shape == (4 * (20 + 1) + 1, 8 * (20 + 1) + 1)  # 32 filters 5×5, ×4
    deep = filters_png(net.conv2.weight, tmp_path / "w2.png", scale=1, max_in=4, pad=1)
    assert deep.shape == (64 * 4 + 1, 4 * 4 + 1)               # a row of 4 channels per filter
    rgb = filters_png(np.ones((2, 3, 3, 3)), tmp_path / "w3.png", scale=1, pad=1)
    assert rgb.shape == (5, 9, 3) and read_png(tmp_path / "w3.png")[0]["color"] == 2
    lenet = lenet5()
    assert layer_output(lenet, image[0]).shape == (6, 28, 28)
    with pytest.raises(ValueError, match="Conv2d"):
        layer_output(nn.Sequential(nn.Flatten()), image)


def _fake_fashion_mnist(directory) -> np.ndarray:
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    write_idx(directory / "t10k-images-idx3-ubyte", images)  # the loader also takes un-gzipped files
    write_idx(directory / "t10k-labels-idx1-ubyte", np.array([9, 2, 1], np.uint8))
    return images


def test_cli_with_a_data_directory(tmp_path, capsys):
    images = _fake_fashion_mnist(tmp_path)
    out = tmp_path / "img" / "filters.png"
    assert main(["--out", str(out), "--data", str(tmp_path), "--index", "1", "--scale", "1"]) == 0
    header, pixels = read_png(out)
    assert header["width"] == 4 * (28 + 4) + 4
    assert np.abs(pixels[4:32, 4:32].astype(int) - to_uint8(images[1])).max() <= 1
    assert "Pullover" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--out", str(out), "--data", str(tmp_path / "missing")])
