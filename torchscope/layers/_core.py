"""``dense``, ``dropout`` and ``flatten``: TF1's core functional layers.

Example:
    >>> import torch, torchscope as ts
    >>> from torchscope import layers
    >>> with ts.ScopedParameterStore().as_default():
    ...     x = torch.ones(2, 3, 3, 4)
    ...     h = layers.flatten(layers.dropout(x, rate=0.5, training=False))
    ...     y = layers.dense(h, 10, activation=torch.relu)
    ...     print(y.shape, [ts.get_default_store().name_of(v) for v in ts.global_variables()])
    torch.Size([2, 10]) ['dense/kernel', 'dense/bias']
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Optional, Sequence

import torch
import torch.nn.functional as F

from .._errors import LayerArgumentError
from ..initializers import Zeros
from ._args import as_input, as_training, check_unsupported, normalize_data_format, positive_int
from ._base import LayerName, add_weight, layer_scope, stateless_scope

__all__ = ["dense", "dropout", "flatten"]


def dense(inputs: torch.Tensor, units: int, activation: Optional[Callable] = None,
          use_bias: bool = True, kernel_initializer: Any = None,
          bias_initializer: Any = Zeros(), kernel_regularizer: Optional[Callable] = None,
          bias_regularizer: Optional[Callable] = None,
          activity_regularizer: Optional[Callable] = None,
          kernel_constraint: Optional[Callable] = None, bias_constraint: Optional[Callable] = None,
          trainable: bool = True, name: LayerName = None, reuse: Any = None) -> torch.Tensor:
    """A fully connected layer, ``activation(inputs @ kernel + bias)`` (TF1's ``layers.dense``).

    Variables ``kernel`` (``[in, units]``, TF's layout) and ``bias`` (``[units]``) are made with
    ``ts.get_variable`` in the layer's scope: ``dense``, ``dense_1``, ... when unnamed, ``name``
    otherwise; ``reuse=True`` shares them.

    Example:
        >>> import torch, torchscope as ts
        >>> from torchscope import layers
        >>> with ts.ScopedParameterStore().as_default():
        ...     x = torch.ones(4, 3)
        ...     y1 = layers.dense(x, 2, name="fc")
        ...     y2 = layers.dense(x, 2, name="fc", reuse=True)      # the same variables
        ...     store = ts.get_default_store()
        ...     print(sorted(store), tuple(store["fc/kernel"].shape), torch.equal(y1, y2))
        ['fc/bias', 'fc/kernel'] (3, 2) True

    Args:
        inputs: a floating tensor of rank >= 2; the last dimension is contracted.
        units: output size (an int >= 0, as in TF).
        activation: a torch callable (``torch.relu``, ``torch.tanh``, ...) or None.
        use_bias: whether to add ``bias``.
        kernel_initializer: None for the scope's default (glorot_uniform at the root).
        bias_initializer: default zeros.
        kernel_regularizer, bias_regularizer: ``w -> Tensor`` (``ts.regularizers.l2(1e-4)``),
            added to the scope's regularizer; read with ``ts.get_regularization_loss()``.
        activity_regularizer: not supported (raises; add the penalty to your loss).
        kernel_constraint, bias_constraint: recorded; ``store.apply_constraints()`` runs them.
        trainable: False makes the variables non-trainable (buffers in a ``ScopedModule``).
        name: the variable scope (a str or ``ts.VariableScope``); default ``dense``, uniquified.
        reuse: None/False (inherit), True or ``ts.AUTO_REUSE``.

    Returns:
        ``inputs.shape[:-1] + (units,)``, in ``inputs``' dtype.

    Raises:
        LayerArgumentError: a negative or non-integer ``units``, rank < 2, a non-floating input,
            or an ``activity_regularizer``; nothing is created.
        VariableExistsError, VariableNotFoundError, ShapeMismatchError: from ``get_variable``.
    """
    inputs = as_input(inputs, "dense", min_rank=2)
    units = positive_int(units, "units", "dense", allow_zero=True)
    check_unsupported("dense", activity_regularizer=activity_regularizer)
    with layer_scope(name, "dense", reuse):
        kernel = add_weight("kernel", (inputs.shape[-1], units), inputs.dtype,
                            kernel_initializer, kernel_regularizer, kernel_constraint, trainable)
        bias = (add_weight("bias", (units,), inputs.dtype, bias_initializer, bias_regularizer,
                           bias_constraint, trainable) if use_bias else None)
        outputs = F.linear(inputs, kernel.t(), bias)
        return activation(outputs) if activation is not None else outputs


def dropout(inputs: torch.Tensor, rate: float = 0.5,
            noise_shape: Optional[Sequence[Optional[int]]] = None, seed: Optional[int] = None,
            training: Any = False, name: Optional[str] = None) -> torch.Tensor:
    """Zeroes each element with probability ``rate`` and scales the rest by ``1 / (1 - rate)``
    when ``training`` (TF1's ``layers.dropout``); the identity otherwise.

    Example:
        >>> import torch, torchscope as ts
        >>> from torchscope import layers
        >>> x = torch.ones(1000)
        >>> torch.equal(layers.dropout(x, 0.5), x)                 # training=False by default
        True
        >>> y = layers.dropout(x, 0.5, training=True)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]

    Args:
        inputs: any tensor.
        rate: the fraction dropped, in ``[0, 1)`` when training (TF accepts 1 only when not
            training).
        noise_shape: the shape of the keep mask, broadcast over ``inputs`` (``None`` entries take
            the input's size), e.g. ``[batch, 1, 1, channels]`` drops whole feature maps.
        seed: accepted for TF1 compatibility and ignored: masks come from torch's global RNG
            (seed it with ``torch.manual_seed``); TF's random streams cannot be reproduced.
        training: a Python bool, or a 0-d bool tensor decided at run time.
        name: the scope the layer opens (uniquified: dropout layers hold no variables).

    Returns:
        A tensor of ``inputs``' shape and dtype.

    Raises:
        LayerArgumentError: ``rate`` outside ``[0, 1]``, ``rate == 1`` while training, a
            ``noise_shape`` that does not broadcast, or a ``training`` tensor that is not 0-d.
    """
    inputs = as_input(inputs, "dropout", min_rank=0, floating=False)
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
        raise LayerArgumentError.make(
            f"Invalid value {rate!r} received for `rate`, expected a value between 0 and 1.",
            fix="pass the fraction of units to drop, e.g. rate=0.1 (TF1's layers.dropout takes "
                "the drop rate; tf.nn.dropout's old keep_prob is 1 - rate).")
    training = as_training(training, "dropout")
    if rate == 1 and training is not False:
        raise LayerArgumentError.make(
            f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={rate}",
            fix="a rate of 1 drops everything; use a rate below 1 while training.")
    shape = _noise_shape(noise_shape, inputs)
    with stateless_scope(name, "dropout"):
        if training is False or rate == 0:
            return inputs
        keep = torch.rand(shape, dtype=inputs.dtype, device=inputs.device) >= rate
        dropped = inputs * (1.0 / (1.0 - rate)) * keep
        return dropped if training is True else torch.where(training, dropped, inputs)


def _noise_shape(noise_shape: Optional[Sequence[Optional[int]]],
                 inputs: torch.Tensor) -> Sequence[int]:
    """The keep-mask shape: ``None`` entries filled from ``inputs`` (TF's ``_get_noise_shape``)."""
    if noise_shape is None:
        return inputs.shape
    shape = list(noise_shape)
    ok = len(shape) == inputs.dim()
    if ok:
        shape = [n if s is None else s for s, n in zip(shape, inputs.shape)]
        ok = all(isinstance(s, int) and s in (1, n) for s, n in zip(shape, inputs.shape))
    if not ok:
        raise LayerArgumentError.make(
            f"dropout: noise_shape {list(noise_shape)} does not broadcast to the input shape "
            f"{list(inputs.shape)}.",
            fix="give one entry per input dimension, each 1, None or the input's size "
                "(e.g. [None, 1, 1, None] drops whole NHWC feature maps).")
    return shape


def flatten(inputs: torch.Tensor, name: Optional[str] = None,
            data_format: str = "channels_last") -> torch.Tensor:
    """Flattens each example to a vector in TF's element order (TF1's ``layers.flatten``).

    The order is channels-last: with ``data_format='channels_first'`` the input is first permuted
    to channels-last, exactly as TensorFlow does, so a ``dense`` layer after it keeps its
    checkpointed weights. A rank-1 input becomes ``[batch, 1]``.

    Example:
        >>> import torch
        >>> from torchscope import layers
        >>> nchw = torch.arange(8.).reshape(1, 2, 2, 2)
        >>> layers.flatten(nchw, data_format="channels_first").tolist()
        [[0.0, 4.0, 1.0, 5.0, 2.0, 6.0, 3.0, 7.0]]
        >>> layers.flatten(nchw).tolist()
        [[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]

    Args:
        inputs: a tensor of rank >= 1, batch first.
        name: the scope the layer opens (uniquified: flatten holds no variables).
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.

    Returns:
        ``[batch, prod(other dims)]``.

    Raises:
        LayerArgumentError: an unknown ``data_format`` or a 0-d input.
    """
    inputs = as_input(inputs, "flatten", min_rank=1, floating=False)
    data_format = normalize_data_format(data_format, "flatten")
    with stateless_scope(name, "flatten"):
        if inputs.dim() == 1:
            return inputs.unsqueeze(1)
        if data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.flatten(1)
