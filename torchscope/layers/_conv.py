"""``conv1d`` and ``conv2d``: TF1's convolution layers, computed with torch in TF's layouts.

Inputs and outputs are in TF's layout (``channels_last``: NWC/NHWC by default); kernels are
stored as TF stores them (``[k, in, out]``, HWIO ``[kh, kw, in, out]``), so TF checkpoints load
unchanged. Each call permutes the kernel to PyTorch's OIHW (a view) and runs ``F.conv1d/2d``;
``'same'`` padding is TF's, explicitly asymmetric where TF pads more at the bottom/right.

Example:
    >>> import torch, torchscope as ts
    >>> from torchscope import layers
    >>> with ts.ScopedParameterStore().as_default():
    ...     y = layers.conv2d(torch.ones(2, 8, 8, 3), 16, 3, strides=2, padding="same")
    ...     print(tuple(y.shape), tuple(ts.get_default_store()["conv2d/kernel"].shape))
    (2, 4, 4, 16) (3, 3, 3, 16)
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from .._errors import LayerArgumentError
from ..initializers import Zeros
from ._args import (as_input, check_unsupported, normalize_data_format, normalize_padding,
                    normalize_tuple, positive_int)
from ._base import LayerName, add_weight, layer_scope
from ._padding import flat_pads, is_symmetric, pads_for

__all__ = ["conv1d", "conv2d"]

IntOrTuple = Union[int, Sequence[int]]

_CONV = {1: F.conv1d, 2: F.conv2d}


def _convolution(rank: int, layer: str, inputs: Any, filters: int, kernel_size: IntOrTuple,
                 strides: IntOrTuple, padding: str, data_format: str, dilation_rate: IntOrTuple,
                 activation: Optional[Callable], use_bias: bool, kernel_initializer: Any,
                 bias_initializer: Any, kernel_regularizer: Optional[Callable],
                 bias_regularizer: Optional[Callable], activity_regularizer: Optional[Callable],
                 kernel_constraint: Optional[Callable], bias_constraint: Optional[Callable],
                 trainable: bool, name: LayerName, reuse: Any) -> torch.Tensor:
    """The shared body of ``conv1d``/``conv2d`` (TF's ``Conv`` base layer)."""
    inputs = as_input(inputs, layer, min_rank=rank + 2)
    filters = positive_int(filters, "filters", layer)
    kernel = normalize_tuple(kernel_size, rank, "kernel_size", layer)
    stride = normalize_tuple(strides, rank, "strides", layer)
    dilation = normalize_tuple(dilation_rate, rank, "dilation_rate", layer)
    padding = normalize_padding(padding, layer, allow_causal=rank == 1)
    data_format = normalize_data_format(data_format, layer)
    if max(stride) > 1 and max(dilation) > 1:
        raise LayerArgumentError.make(
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            f"Received: strides={stride} and dilation_rate={dilation}",
            fix=f"use strides=1 with a dilated {layer} (or dilation_rate=1 with strides).")
    check_unsupported(layer, activity_regularizer=activity_regularizer)
    channels_first = data_format == "channels_first"
    in_channels = inputs.shape[-rank - 1] if channels_first else inputs.shape[-1]
    with layer_scope(name, layer, reuse):
        weights = add_weight("kernel", kernel + (in_channels, filters), inputs.dtype,
                             kernel_initializer, kernel_regularizer, kernel_constraint, trainable)
        bias = (add_weight("bias", (filters,), inputs.dtype, bias_initializer,
                           bias_regularizer, bias_constraint, trainable) if use_bias else None)
        outputs = _apply(rank, inputs, weights, bias, stride, padding, dilation, channels_first)
        return activation(outputs) if activation is not None else outputs


def _apply(rank: int, inputs: torch.Tensor, kernel: torch.Tensor, bias: Optional[torch.Tensor],
           strides: Tuple[int, ...], padding: str, dilation: Tuple[int, ...],
           channels_first: bool) -> torch.Tensor:
    """The convolution itself; extra leading dimensions are folded into the batch, as TF does."""
    batch_shape = inputs.shape[:-rank - 1]
    x = inputs.reshape((-1,) + tuple(inputs.shape[-rank - 1:])) if len(batch_shape) > 1 else inputs
    if not channels_first:
        x = x.movedim(-1, 1)
    weight = kernel.permute(rank + 1, rank, *range(rank))     # [k..., in, out] -> [out, in, k...]
    pads = pads_for(padding, x.shape[2:], kernel.shape[:rank], strides, dilation)
    if is_symmetric(pads):
        y = _CONV[rank](x, weight, bias, strides, tuple(p for p, _ in pads), dilation)
    else:
        y = _CONV[rank](F.pad(x, flat_pads(pads)), weight, bias, strides, 0, dilation)
    if not channels_first:
        y = y.movedim(1, -1)
    return y.reshape(tuple(batch_shape) + tuple(y.shape[1:])) if len(batch_shape) > 1 else y


def conv1d(inputs: torch.Tensor, filters: int, kernel_size: IntOrTuple, strides: IntOrTuple = 1,
           padding: str = "valid", data_format: str = "channels_last",
           dilation_rate: IntOrTuple = 1, activation: Optional[Callable] = None,
           use_bias: bool = True, kernel_initializer: Any = None,
           bias_initializer: Any = Zeros(), kernel_regularizer: Optional[Callable] = None,
           bias_regularizer: Optional[Callable] = None,
           activity_regularizer: Optional[Callable] = None,
           kernel_constraint: Optional[Callable] = None,
           bias_constraint: Optional[Callable] = None, trainable: bool = True,
           name: LayerName = None, reuse: Any = None) -> torch.Tensor:
    """A 1-D convolution over ``[batch, width, channels]`` (TF1's ``layers.conv1d``).

    Variables: ``kernel`` ``[kernel_size, in_channels, filters]`` and ``bias`` ``[filters]``, in
    scope ``conv1d``, ``conv1d_1``, ... or ``name``.

    Example:
        >>> import torch, torchscope as ts
        >>> from torchscope import layers
        >>> with ts.ScopedParameterStore().as_default():
        ...     x = torch.randn(2, 10, 3)
        ...     print(tuple(layers.conv1d(x, 4, 3, padding="causal", dilation_rate=2).shape),
        ...           tuple(layers.conv1d(x, 4, 3, strides=2).shape),
        ...           tuple(ts.get_default_store()["conv1d_1/kernel"].shape))
        (2, 10, 4) (2, 4, 4) (3, 3, 4)

    Args:
        inputs: a floating tensor ``[batch, width, channels]`` (``[batch, channels, width]`` with
            ``channels_first``); more leading dimensions are treated as batch, as in TF.
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: an int or a 1-sequence; strides > 1 and
            dilation_rate > 1 exclude each other, as in TF.
        padding: ``'valid'``, ``'same'`` (TF's split: the odd pixel at the end) or
            ``'causal'`` (all padding before).
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer, kernel_constraint, bias_constraint, trainable, name, reuse: as for
            :func:`dense`.
        activity_regularizer: not supported (raises).

    Returns:
        The convolved tensor in ``inputs``' layout.

    Raises:
        LayerArgumentError: bad ``filters``/``kernel_size``/``strides``/``dilation_rate``, an
            unknown ``padding`` or ``data_format``, strides and dilation both > 1, rank < 3, a
            non-floating input, an ``activity_regularizer``; nothing is created.
    """
    return _convolution(1, "conv1d", inputs, filters, kernel_size, strides, padding,
                        data_format, dilation_rate, activation, use_bias, kernel_initializer,
                        bias_initializer, kernel_regularizer, bias_regularizer,
                        activity_regularizer, kernel_constraint, bias_constraint, trainable,
                        name, reuse)


def conv2d(inputs: torch.Tensor, filters: int, kernel_size: IntOrTuple,
           strides: IntOrTuple = (1, 1), padding: str = "valid",
           data_format: str = "channels_last", dilation_rate: IntOrTuple = (1, 1),
           activation: Optional[Callable] = None, use_bias: bool = True,
           kernel_initializer: Any = None, bias_initializer: Any = Zeros(),
           kernel_regularizer: Optional[Callable] = None,
           bias_regularizer: Optional[Callable] = None,
           activity_regularizer: Optional[Callable] = None,
           kernel_constraint: Optional[Callable] = None,
           bias_constraint: Optional[Callable] = None, trainable: bool = True,
           name: LayerName = None, reuse: Any = None) -> torch.Tensor:
    """A 2-D convolution over NHWC images (TF1's ``layers.conv2d``).

    Variables: ``kernel`` HWIO ``[kh, kw, in_channels, filters]`` and ``bias`` ``[filters]``, in
    scope ``conv2d``, ``conv2d_1``, ... or ``name``. ``'same'`` padding is TensorFlow's: with
    stride 2 on an even size TF pads only at the bottom/right, and so does this.

    Example:
        >>> import torch, torchscope as ts
        >>> from torchscope import layers
        >>> with ts.ScopedParameterStore().as_default():
        ...     x = torch.randn(2, 8, 8, 3)
        ...     y = layers.conv2d(x, 16, 3, strides=2, padding="same", activation=torch.relu,
        ...                       name="conv1")
        ...     z = layers.conv2d(x.permute(0, 3, 1, 2), 16, 3, strides=2, padding="same",
        ...                       data_format="channels_first", name="conv1", reuse=True)
        ...     print(tuple(y.shape), torch.allclose(y, torch.relu(z).permute(0, 2, 3, 1),
        ...                                          atol=1e-6))
        (2, 4, 4, 16) True

    Args:
        inputs: a floating tensor, NHWC (NCHW with ``channels_first``); more leading
            dimensions are treated as batch, as in TF.
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: an int or a pair ``(height, width)``; strides > 1
            and dilation_rate > 1 exclude each other, as in TF.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``. The kernel is HWIO
            either way, as in TF.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer, kernel_constraint, bias_constraint, trainable, name, reuse: as for
            :func:`dense`.
        activity_regularizer: not supported (raises).

    Returns:
        The convolved tensor in ``inputs``' layout.

    Raises:
        LayerArgumentError: as for :func:`conv1d` (``'causal'`` padding included, as in TF).
    """
    return _convolution(2, "conv2d", inputs, filters, kernel_size, strides, padding,
                        data_format, dilation_rate, activation, use_bias, kernel_initializer,
                        bias_initializer, kernel_regularizer, bias_regularizer,
                        activity_regularizer, kernel_constraint, bias_constraint, trainable,
                        name, reuse)
