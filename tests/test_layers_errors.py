"""Bad layer arguments: ``ts.LayerArgumentError`` (a ``ValueError``) with TF's sentence first and
a fix, raised before the layer opens its scope — nothing is created and no default name is used.
"""

import re

import pytest
import torch

import torchscope as ts
from torchscope import layers

X2, X3, X4 = torch.zeros(2, 4), torch.zeros(2, 6, 3), torch.zeros(2, 6, 6, 3)

BAD_CALLS = {
    "conv2d_padding_full": (
        lambda: layers.conv2d(X4, 2, 3, padding="full"),
        'The `padding` argument must be one of "valid", "same" (or "causal", only for `Conv1D). '
        "Received: 'full'"),
    "conv2d_padding_causal": (
        lambda: layers.conv2d(X4, 2, 3, padding="causal"),
        "Causal padding is only supported for `Conv1D`and `SeparableConv1D`."),
    "conv2d_data_format_nchw": (
        lambda: layers.conv2d(X4, 2, 3, data_format="nchw"),
        'The `data_format` argument must be one of "channels_first", "channels_last". '
        "Received: 'nchw'"),
    "conv2d_data_format_NHWC": (
        lambda: layers.conv2d(X4, 2, 3, data_format="NHWC"),
        'must be one of "channels_first", "channels_last". Received: \'NHWC\''),
    "conv2d_kernel_size_of_length_3": (
        lambda: layers.conv2d(X4, 2, (3, 3, 3)),
        "The `kernel_size` argument must be a tuple of 2 integers. Received: (3, 3, 3)"),
    "conv2d_kernel_size_zero": (
        lambda: layers.conv2d(X4, 2, 0),
        "The `kernel_size` argument must be a tuple of 2 integers. Received: 0 including {0} "
        "that does not satisfy the requirement `>= 1`."),
    "conv2d_kernel_size_float": (
        lambda: layers.conv2d(X4, 2, 3.0),
        "The `kernel_size` argument must be a tuple of 2 integers. Received: 3.0"),
    "conv2d_strides_zero": (
        lambda: layers.conv2d(X4, 2, 3, strides=(1, 0)),
        "The `strides` argument must be a tuple of 2 integers. Received: (1, 0) including {0}"),
    "conv1d_kernel_size_of_length_2": (
        lambda: layers.conv1d(X3, 2, (3, 3)),
        "The `kernel_size` argument must be a tuple of 1 integers. Received: (3, 3)"),
    "conv2d_filters_zero": (
        lambda: layers.conv2d(X4, 0, 3),
        "Received an invalid value for `filters`, expected a strictly positive integer. "
        "Received: filters=0"),
    "conv2d_strides_and_dilation": (
        lambda: layers.conv2d(X4, 2, 3, strides=2, dilation_rate=2),
        "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
        "Received: strides=(2, 2) and dilation_rate=(2, 2)"),
    "conv2d_rank_3_input": (
        lambda: layers.conv2d(X3, 2, 3),
        'Input 0 of layer "conv2d" is incompatible with the layer: expected min_ndim=4, '
        "found ndim=3. Full shape received: (2, 6, 3)"),
    "conv2d_integer_input": (
        lambda: layers.conv2d(torch.zeros(1, 3, 3, 1, dtype=torch.int64), 2, 3),
        "A conv2d layer can only be built with a floating-point dtype. Received: dtype=int64"),
    "conv2d_activity_regularizer": (
        lambda: layers.conv2d(X4, 2, 3, activity_regularizer=torch.sum),
        "conv2d: `activity_regularizer` is not supported by torchscope."),
    "dense_negative_units": (
        lambda: layers.dense(X2, -1),
        "Received an invalid value for `units`, expected a non-negative integer. "
        "Received: units=-1"),
    "dense_float_units": (
        lambda: layers.dense(X2, 2.5),
        "expected a non-negative integer. Received: units=2.5"),
    "dense_rank_1_input": (
        lambda: layers.dense(torch.zeros(4), 3),
        'Input 0 of layer "dense" is incompatible with the layer: expected min_ndim=2, '
        "found ndim=1."),
    "dense_activity_regularizer": (
        lambda: layers.dense(X2, 3, activity_regularizer=torch.sum),
        "dense: `activity_regularizer` is not supported by torchscope."),
    "dropout_negative_rate": (
        lambda: layers.dropout(X2, -0.1),
        "Invalid value -0.1 received for `rate`, expected a value between 0 and 1."),
    "dropout_rate_above_one": (
        lambda: layers.dropout(X2, 1.5),
        "Invalid value 1.5 received for `rate`, expected a value between 0 and 1."),
    "dropout_rate_one_while_training": (
        lambda: layers.dropout(X2, 1.0, training=True),
        "`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate=1.0"),
    "dropout_noise_shape_not_broadcasting": (
        lambda: layers.dropout(X2, 0.5, noise_shape=[2, 3], training=True),
        "dropout: noise_shape [2, 3] does not broadcast to the input shape [2, 4]."),
    "dropout_training_vector": (
        lambda: layers.dropout(X2, 0.5, training=torch.tensor([True, False])),
        "dropout: `training` must be a Python bool or a scalar (0-d) tensor. "
        "Received a tensor of shape (2,)."),
    "max_pooling2d_pool_size_of_length_3": (
        lambda: layers.max_pooling2d(X4, (2, 2, 2), 2),
        "The `pool_size` argument must be a tuple of 2 integers. Received: (2, 2, 2)"),
    "max_pooling2d_padding_full": (
        lambda: layers.max_pooling2d(X4, 2, 2, padding="full"),
        'The `padding` argument must be one of "valid", "same"'),
    "average_pooling2d_data_format_nhwc": (
        lambda: layers.average_pooling2d(X4, 2, 2, data_format="nhwc"),
        'The `data_format` argument must be one of "channels_first", "channels_last". '
        "Received: 'nhwc'"),
    "max_pooling2d_rank_5_input": (
        lambda: layers.max_pooling2d(torch.zeros(1, 2, 4, 4, 1), 2, 2),
        'Input 0 of layer "max_pooling2d" is incompatible with the layer: expected ndim=4, '
        "found ndim=5."),
    "average_pooling1d_rank_4_input": (
        lambda: layers.average_pooling1d(X4, 2, 2),
        'Input 0 of layer "average_pooling1d" is incompatible with the layer: expected ndim=3, '
        "found ndim=4."),
    "flatten_data_format_nchw": (
        lambda: layers.flatten(X4, data_format="nchw"),
        'The `data_format` argument must be one of "channels_first", "channels_last".'),
    "flatten_scalar_input": (
        lambda: layers.flatten(torch.tensor(1.0)),
        'Input 0 of layer "flatten" is incompatible with the layer: expected min_ndim=1, '
        "found ndim=0."),
    "batch_normalization_axis_4_on_rank_4": (
        lambda: layers.batch_normalization(X4, axis=4),
        "Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank (with "
        "inputs.rank=4). Received: axis=4"),
    "batch_normalization_axis_minus_5": (
        lambda: layers.batch_normalization(X4, axis=-5),
        "Expected 0 <= axis < inputs.rank (with inputs.rank=4). Received: axis=-5"),
    "batch_normalization_repeated_axis": (
        lambda: layers.batch_normalization(X4, axis=[1, -3]),
        "Received: axis=[1, -3]"),
    "batch_normalization_renorm": (
        lambda: layers.batch_normalization(X4, renorm=True),
        "batch_normalization: `renorm` is not supported by torchscope. Received: renorm=True"),
    "batch_normalization_virtual_batch_size": (
        lambda: layers.batch_normalization(X4, virtual_batch_size=1),
        "batch_normalization: `virtual_batch_size` is not supported by torchscope."),
    "batch_normalization_adjustment": (
        lambda: layers.batch_normalization(X4, adjustment=lambda shape: (1.0, 0.0)),
        "batch_normalization: `adjustment` is not supported by torchscope."),
    "batch_normalization_fused_on_rank_2": (
        lambda: layers.batch_normalization(X2, fused=True),
        "Passing `fused=True` is only supported for rank-4 inputs with axis 1 or 3, or rank-5 "
        "inputs with axis 1 or 4, in float16, bfloat16 or float32. Received: rank=2, axis=-1, "
        "dtype=float32"),
    "batch_normalization_fused_float64": (
        lambda: layers.batch_normalization(X4.double(), fused=True),
        "Received: rank=4, axis=-1, dtype=float64"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_layer_bad_argument_raises_before_creating_anything(case, store):
    call, message = BAD_CALLS[case]
    with pytest.raises(ts.LayerArgumentError, match=re.escape(message)) as info:
        call()
    assert isinstance(info.value, ValueError) and "\n\nFix: " in str(info.value)
    assert len(store) == 0
    # the failed call took no default name: the next unnamed layer of its kind gets the first
    layer = max((name for name in layers.__all__ if case.startswith(name)), key=len)
    with ts.variable_scope(None, default_name=layer) as first:
        pass
    assert first.name == layer


def test_layer_bad_reuse_value_raises_invalid_reuse(store):
    with pytest.raises(ts.InvalidReuseError,
                       match="The reuse parameter must be True or False or None"):
        layers.dense(X2, 3, reuse="yes")
    assert len(store) == 0


def test_layer_bad_name_raises_invalid_name(store):
    with pytest.raises(ts.InvalidNameError, match="'a b' is not a valid root scope name"):
        layers.conv2d(X4, 2, 3, name="a b")
    assert len(store) == 0


def test_layer_shape_change_on_reuse_raises_shape_mismatch(store):
    layers.dense(X2, 3, name="fc")
    with pytest.raises(ts.ShapeMismatchError,
                       match=re.escape("Trying to share variable fc/kernel, but specified shape "
                                       "(4, 5) and found shape (4, 3).")):
        layers.dense(X2, 5, name="fc", reuse=True)


def test_layer_argument_error_is_a_valueerror_and_a_torchscope_error():
    assert issubclass(ts.LayerArgumentError, ValueError)
    assert issubclass(ts.LayerArgumentError, ts.TorchscopeError)
