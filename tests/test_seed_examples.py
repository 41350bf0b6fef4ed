"""The worked examples of the lecture notes (shared/seeds), reproduced exactly by the kernels and layers."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import nn
from solutions.conv import conv1d_forward, conv2d_forward, conv_output_size
from solutions.pooling import l2pool2d_forward, maxpool2d_forward, sumpool2d_forward

IMAGE_5X5 = np.array([[3, 3, 2, 1, 0],
                      [0, 0, 1, 3, 1],
                      [3, 1, 2, 2, 3],
                      [2, 0, 0, 2, 2],
                      [2, 0, 0, 0, 1]], dtype=np.float64)
POOL_4X4 = np.array([[4, 3, 1, 5],
                     [1, 3, 4, 8],
                     [4, 5, 4, 3],
                     [6, 5, 9, 4]], dtype=np.float64)


def image(a):
    return a[None, None]


def test_box_kernel_on_the_5x5_image():
    out, _ = conv2d_forward(image(IMAGE_5X5), np.full((1, 1, 3, 3), 1 / 9))
    assert out.shape == (1, 1, 3, 3)  # size_out = size_in - size_kernel + 1
    np.testing.assert_array_equal(np.round(out[0, 0], 1), [[1.7, 1.7, 1.7], [1.0, 1.2, 1.8], [1.1, 0.8, 1.3]])


def test_binary_image_with_the_x_kernel_starts_with_4():
    img = np.array([[1, 1, 1, 0, 0],
                    [0, 1, 1, 1, 0],
                    [0, 0, 1, 1, 1],
                    [0, 0, 1, 1, 0],
                    [0, 1, 1, 0, 0]], float)
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float)
    out, _ = conv2d_forward(image(img), image(kernel))
    assert out.shape == (1, 1, 3, 3) and out[0, 0, 0, 0] == 4


def test_identity_kernel_with_same_padding_returns_the_image():
    identity = np.zeros((1, 1, 3, 3))
    identity[0, 0, 1, 1] = 1.0
    out, _ = conv2d_forward(image(IMAGE_5X5), identity, padding="same")
    np.testing.assert_array_equal(out[0, 0], IMAGE_5X5)


def test_max_pool_of_the_4x4_example():
    out, _ = maxpool2d_forward(image(POOL_4X4), 2, 2)
    np.testing.assert_array_equal(out[0, 0], [[4, 8], [6, 9]])
    assert out[0, 0, 0, 0] == max([4, 3, 1, 3])


def test_sum_and_square_sum_pooling_of_the_4x4_example():
    out, _ = sumpool2d_forward(image(POOL_4X4), 2)
    np.testing.assert_array_equal(out[0, 0], [[11, 18], [20, 20]])
    out, _ = l2pool2d_forward(image(POOL_4X4), 2)
    np.testing.assert_allclose(out[0, 0, 0, 0], np.sqrt(4**2 + 3**2 + 1**2 + 3**2), rtol=1e-15)


def test_7x7_input_with_a_3x3_filter():
    assert conv_output_size(7, 3, stride=1) == 5
    assert conv_output_size(7, 3, stride=2) == 3
    with pytest.raises(ValueError, match="stride 3 does not fit"):  # (7 - 3)/3 + 1 = 2.33
        conv_output_size(7, 3, stride=3, strict=True)
    assert conv_output_size(7, 3, stride=3) == 2  # frameworks floor it
    assert conv_output_size(7, 3, stride=1, padding=1) == 7  # a 1-pixel border of zeros keeps 7×7
    for f in (3, 5, 7):  # zero-padding (F - 1)/2 at stride 1 preserves the size
        assert conv_output_size(7, f, padding=(f - 1) // 2) == 7
    out, _ = conv2d_forward(np.zeros((1, 1, 7, 7)), np.zeros((1, 1, 3, 3)), stride=2)
    assert out.shape == (1, 1, 3, 3)


def test_32x32x3_input_with_ten_5x5_filters_stride_1_pad_2():
    layer = nn.Conv2d(3, 10, 5, padding=2)
    out = layer(minigrad.tensor(np.zeros((1, 3, 32, 32), np.float32)))
    assert out.shape == (1, 10, 32, 32)  # (32 + 2·2 - 5)/1 + 1 = 32
    assert layer.num_parameters() == 760 == (5 * 5 * 3 + 1) * 10
    assert nn.Conv2d(3, 32, 5).num_parameters() == 2432  # 32 filters of 5×5 on a colour image


def test_repeated_5x5_filters_shrink_32_to_28_to_24():
    sizes = [32]
    for _ in range(2):
        sizes.append(conv_output_size(sizes[-1], 5))
    assert sizes == [32, 28, 24]
    assert conv_output_size(conv_output_size(32, 3), 3) == 28  # two 3×3 layers see as far as one 5×5 ...
    assert 2 * 3 * 3 < 5 * 5  # ... with 18/25 of its weights per (C_in, C_out) pair


def test_alexnet_first_layers():
    conv1 = nn.Conv2d(3, 96, 11, stride=4)
    assert conv1.num_parameters() == 34_944  # (11·11·3 + 1)·96
    assert conv_output_size(227, 11, stride=4) == 55
    pools = [conv_output_size(s, 3, stride=2) for s in (55, 27, 13)]  # the three 3×3 max pools, stride 2
    assert pools == [27, 13, 6]
    out, _ = conv2d_forward(np.zeros((1, 3, 227, 227), np.float32), conv1.weight.numpy(), stride=4)
    assert out.shape == (1, 96, 55, 55)


def test_vgg_and_lenet_weight_counts():
    assert nn.Conv2d(3, 64, 3, padding=1, bias=False).num_parameters() == 1_728
    assert nn.Conv2d(64, 64, 3, padding=1, bias=False).num_parameters() == 36_864
    assert nn.Conv2d(512, 512, 3, padding=1, bias=False).num_parameters() == 2_359_296
    assert maxpool2d_forward(np.zeros((1, 1, 224, 224)), 2)[0].shape == (1, 1, 112, 112)
    c1 = nn.Conv2d(1, 6, 5, padding="same", bias=False)  # LeNet C1 on 28×28: 6 maps of 28×28, 150 weights
    assert c1.num_parameters() == 150
    assert c1(minigrad.tensor(np.zeros((1, 1, 28, 28), np.float32))).shape == (1, 6, 28, 28)


def test_true_convolution_flips_the_kernel_a_cnn_does_not():
    rng = np.random.default_rng(0)
    signal, kernel = rng.standard_normal(12), np.array([1.0, 2.0, -3.0])  # asymmetric: the flip shows
    out, _ = conv1d_forward(signal[None, None], kernel[None, None])
    np.testing.assert_allclose(out[0, 0], np.convolve(signal, kernel[::-1], mode="valid"), rtol=1e-12)
    np.testing.assert_allclose(out[0, 0], np.correlate(signal, kernel, mode="valid"), rtol=1e-12)


def test_1d_layer_z_i_is_w1_x_im1_plus_w2_x_i_plus_w3_x_ip1():
    x, (w1, w2, w3) = np.array([1.0, 4.0, -2.0, 3.0, 5.0]), (0.5, -1.0, 2.0)
    out, _ = conv1d_forward(x[None, None], np.array([[[w1, w2, w3]]]), padding=1)  # zeros beyond the ends
    padded = np.concatenate([[0.0], x, [0.0]])
    expected = [w1 * padded[i - 1] + w2 * padded[i] + w3 * padded[i + 1] for i in range(1, 6)]
    np.testing.assert_allclose(out[0, 0], expected, rtol=1e-15)
