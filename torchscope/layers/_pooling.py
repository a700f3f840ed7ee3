"""Max and average pooling, 1-D and 2-D, with TF's ``'same'`` padding and layouts.

TF pools a ``'same'`` window over the valid elements only: max pooling ignores the padding, and
average pooling divides by the number of valid elements (not by the window size). The padding is
split as for convolutions, the odd element at the end.

Example:
    >>> import torch
    >>> from torchscope import layers
    >>> x = torch.arange(1., 5.).reshape(1, 2, 2, 1)           # [[1, 2], [3, 4]], NHWC
    >>> layers.average_pooling2d(x, 2, 1, padding="same").flatten().tolist()
    [2.5, 3.0, 3.5, 4.0]
    >>> layers.max_pooling2d(-x, 2, 1, padding="same").flatten().tolist()
    [-1.0, -2.0, -3.0, -4.0]
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F

from ._args import as_input, normalize_data_format, normalize_padding, normalize_tuple
from ._base import stateless_scope
from ._padding import flat_pads, pads_for

__all__ = ["average_pooling1d", "average_pooling2d", "max_pooling1d", "max_pooling2d"]

IntOrTuple = Union[int, Sequence[int]]

_MAX = {1: F.max_pool1d, 2: F.max_pool2d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d}


def _pool(kind: str, rank: int, inputs: torch.Tensor, pool_size: IntOrTuple,
          strides: IntOrTuple, padding: str, data_format: str,
          name: Optional[str]) -> torch.Tensor:
    """The shared body of the four pooling layers (TF's ``Pooling1D``/``Pooling2D``)."""
    layer = f"{kind}_pooling{rank}d"
    inputs = as_input(inputs, layer, min_rank=rank + 2, exact_rank=rank + 2, floating=False)
    window = normalize_tuple(pool_size, rank, "pool_size", layer)
    stride = normalize_tuple(strides, rank, "strides", layer)
    padding = normalize_padding(padding, layer)
    channels_first = normalize_data_format(data_format, layer) == "channels_first"
    with stateless_scope(name, layer):
        x = inputs if channels_first else inputs.movedim(-1, 1)
        pads = pads_for(padding, x.shape[2:], window, stride, (1,) * rank)
        padded = any(before or after for before, after in pads)
        if kind == "max":
            if padded:
                x = F.pad(x, flat_pads(pads), value=_lowest(x.dtype))
            y = _MAX[rank](x, window, stride)
        elif not padded:
            y = _AVG[rank](x, window, stride)
        else:
            # sum over the window / number of valid elements in it, both via zero padding
            sums = _AVG[rank](F.pad(x, flat_pads(pads)), window, stride)
            ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
            y = sums / _AVG[rank](F.pad(ones, flat_pads(pads)), window, stride)
        return y if channels_first else y.movedim(1, -1)


def _lowest(dtype: torch.dtype) -> float:
    """The padding value max pooling never picks."""
    return float("-inf") if dtype.is_floating_point else torch.iinfo(dtype).min


def max_pooling1d(inputs: torch.Tensor, pool_size: IntOrTuple, strides: IntOrTuple,
                  padding: str = "valid", data_format: str = "channels_last",
                  name: Optional[str] = None) -> torch.Tensor:
    """Max pooling over ``[batch, width, channels]`` (TF1's ``layers.max_pooling1d``).

    Example:
        >>> import torch
        >>> from torchscope import layers
        >>> x = torch.tensor([[[1.], [5.], [2.], [4.], [3.]]])
        >>> layers.max_pooling1d(x, 2, 2, padding="same").flatten().tolist()
        [5.0, 4.0, 3.0]

    Args:
        inputs: ``[batch, width, channels]`` (``[batch, channels, width]`` with
            ``channels_first``).
        pool_size, strides: an int or a 1-sequence (``strides`` is required, as in TF1).
        padding: ``'valid'`` or ``'same'`` (padding never wins the max).
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        name: the scope the layer opens (uniquified: pooling holds no variables).

    Returns:
        The pooled tensor in ``inputs``' layout.

    Raises:
        LayerArgumentError: a bad ``pool_size``/``strides``, an unknown ``padding`` or
            ``data_format``, or an input that is not rank 3.
    """
    return _pool("max", 1, inputs, pool_size, strides, padding, data_format, name)


def average_pooling1d(inputs: torch.Tensor, pool_size: IntOrTuple, strides: IntOrTuple,
                      padding: str = "valid", data_format: str = "channels_last",
                      name: Optional[str] = None) -> torch.Tensor:
    """Average pooling over ``[batch, width, channels]`` (TF1's ``layers.average_pooling1d``).

    Example:
        >>> import torch
        >>> from torchscope import layers
        >>> x = torch.tensor([[[1.], [5.], [2.], [4.], [3.]]])
        >>> layers.average_pooling1d(x, 2, 2, padding="same").flatten().tolist()
        [3.0, 3.0, 3.0]

    Args:
        inputs, pool_size, strides, data_format, name: as for :func:`max_pooling1d`.
        padding: ``'valid'`` or ``'same'`` (a window is averaged over its valid elements).

    Returns:
        The pooled tensor in ``inputs``' layout.

    Raises:
        LayerArgumentError: as for :func:`max_pooling1d`.
    """
    return _pool("average", 1, inputs, pool_size, strides, padding, data_format, name)


def max_pooling2d(inputs: torch.Tensor, pool_size: IntOrTuple, strides: IntOrTuple,
                  padding: str = "valid", data_format: str = "channels_last",
                  name: Optional[str] = None) -> torch.Tensor:
    """Max pooling over NHWC images (TF1's ``layers.max_pooling2d``).

    Example:
        >>> import torch
        >>> from torchscope import layers
        >>> x = torch.randn(2, 7, 8, 3)
        >>> tuple(layers.max_pooling2d(x, 3, 2, padding="same").shape)
        (2, 4, 4, 3)
        >>> tuple(layers.max_pooling2d(x.permute(0, 3, 1, 2), (3, 2), 2,
        ...                            data_format="channels_first").shape)
        (2, 3, 3, 4)

    Args:
        inputs: NHWC (NCHW with ``channels_first``).
        pool_size, strides: an int or a pair ``(height, width)`` (``strides`` is required,
            as in TF1).
        padding: ``'valid'`` or ``'same'`` (padding never wins the max).
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        name: the scope the layer opens (uniquified: pooling holds no variables).

    Returns:
        The pooled tensor in ``inputs``' layout.

    Raises:
        LayerArgumentError: a bad ``pool_size``/``strides``, an unknown ``padding`` or
            ``data_format``, or an input that is not rank 4.
    """
    return _pool("max", 2, inputs, pool_size, strides, padding, data_format, name)


def average_pooling2d(inputs: torch.Tensor, pool_size: IntOrTuple, strides: IntOrTuple,
                      padding: str = "valid", data_format: str = "channels_last",
                      name: Optional[str] = None) -> torch.Tensor:
    """Average pooling over NHWC images (TF1's ``layers.average_pooling2d``).

    With ``'same'``, each window is averaged over its valid elements, as TF does (PyTorch's
    ``count_include_pad=True`` default would count the padding).

    Example:
        >>> import torch
        >>> from torchscope import layers
        >>> x = torch.ones(1, 3, 3, 1)
        >>> layers.average_pooling2d(x, 2, 2, padding="same").flatten().tolist()
        [1.0, 1.0, 1.0, 1.0]

    Args:
        inputs, pool_size, strides, data_format, name: as for :func:`max_pooling2d`.
        padding: ``'valid'`` or ``'same'``.

    Returns:
        The pooled tensor in ``inputs``' layout.

    Raises:
        LayerArgumentError: as for :func:`max_pooling2d`.
    """
    return _pool("average", 2, inputs, pool_size, strides, padding, data_format, name)
