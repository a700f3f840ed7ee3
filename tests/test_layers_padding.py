"""Output sizes over a grid of input sizes, kernels, strides and dilations, against TF's
documented rule (``tf.nn.convolution``: 'same' gives ``ceil(in / stride)``, 'valid' gives
``ceil((in - (k - 1) * dilation) / stride)``), and where the padding goes, against TF's split
(the odd pixel after). The numbers themselves are pinned by tests/test_layers_reference.py."""

import itertools
import math

import pytest
import torch

import torchscope as ts
from torchscope import layers

GRID = [(n, k, s) for n, k, s in itertools.product(range(1, 10), range(1, 5), range(1, 4))]


def tf_size(n, k, s, d, padding):
    if padding == "same":
        return math.ceil(n / s)
    return max(math.ceil((n - (k - 1) * d) / s), 0)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_and_pooling_output_sizes_follow_tfs_rule(padding, store):
    for n, k, s in GRID:
        expected = tf_size(n, k, s, 1, padding)
        if expected == 0:
            continue
        x = torch.zeros(1, n, n + 1, 1)
        shape = (1, expected, tf_size(n + 1, k, s, 1, padding))
        y = layers.conv2d(x, 1, k, strides=s, padding=padding, name=f"c{k}", reuse=ts.AUTO_REUSE)
        assert tuple(y.shape[:3]) == shape, (n, k, s)
        for pool in (layers.max_pooling2d, layers.average_pooling2d):
            assert tuple(pool(x, k, s, padding=padding).shape[:3]) == shape, (pool, n, k, s)


@pytest.mark.parametrize("padding", ["same", "valid", "causal"])
def test_conv1d_dilated_output_sizes_follow_tfs_rule(padding, store):
    for n, k, d in itertools.product(range(1, 12), range(1, 4), range(1, 4)):
        expected = tf_size(n, k, 1, d, "same" if padding == "causal" else padding)
        if expected == 0:
            continue
        y = layers.conv1d(torch.zeros(1, n, 1), 1, k, padding=padding, dilation_rate=d,
                          name=f"c{k}", reuse=ts.AUTO_REUSE)
        assert y.shape[1] == expected, (n, k, d)


@pytest.mark.parametrize("size, before, after", [(8, 0, 1), (7, 1, 1), (6, 0, 1)])
def test_same_padding_puts_the_odd_pixel_after(size, before, after, store):
    """A 3-tap box filter with stride 2 over 1..size: TF pads ``before`` zeros at the start."""
    x = torch.arange(1.0, size + 1).reshape(1, size, 1)
    y = layers.conv1d(x, 1, 3, strides=2, padding="same", use_bias=False,
                      kernel_initializer=ts.ones_initializer())
    padded = torch.cat([torch.zeros(before), x.flatten(), torch.zeros(after)])
    expected = padded.unfold(0, 3, 2).sum(1)
    torch.testing.assert_close(y.flatten(), expected)
