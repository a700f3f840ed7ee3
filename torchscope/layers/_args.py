"""Argument checks for ``ts.layers``: TF1's rules, with ``LayerArgumentError`` on failure.

Every check runs before a layer opens its variable scope, so a rejected call creates nothing.
The first line of each message is TensorFlow's own sentence (users search for it); the fix says
what the layer accepts.

Example:
    >>> normalize_tuple(3, 2, "kernel_size", "conv2d")
    (3, 3)
    >>> normalize_padding("SAME", "conv2d"), normalize_data_format("Channels_Last", "conv2d")
    ('same', 'channels_last')
"""

from __future__ import annotations

import numbers
from typing import Any, Optional, Sequence, Tuple, Union

import torch

from .._errors import LayerArgumentError

__all__ = [
    "Training",
    "as_input",
    "as_training",
    "check_unsupported",
    "normalize_data_format",
    "normalize_padding",
    "normalize_tuple",
    "positive_int",
]

Training = Union[bool, torch.Tensor]
"""A ``training`` flag: a Python bool, or a 0-d bool tensor decided at run time."""


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def normalize_tuple(value: Any, n: int, arg: str, layer: str) -> Tuple[int, ...]:
    """``value`` (an int or a sequence of ``n`` ints) as an ``n``-tuple of positive ints.

    Raises:
        LayerArgumentError: not an int or a sequence of ``n`` ints, or a value below 1.
    """
    if _is_int(value):
        values: Tuple[Any, ...] = (value,) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
        if len(values) != n or not all(_is_int(v) for v in values):
            values = ()
    else:
        values = ()
    if not values:
        raise LayerArgumentError.make(
            f"The `{arg}` argument must be a tuple of {n} integers. Received: {value!r}",
            fix=f"{layer} takes {arg}=k (the same for every spatial dimension) or a sequence "
                f"of {n} ints.")
    values = tuple(int(v) for v in values)
    bad = {v for v in values if v < 1}
    if bad:
        raise LayerArgumentError.make(
            f"The `{arg}` argument must be a tuple of {n} integers. Received: {value!r} "
            f"including {bad} that does not satisfy the requirement `>= 1`.",
            fix=f"{layer} needs every {arg} value >= 1.")
    return values


def positive_int(value: Any, arg: str, layer: str, allow_zero: bool = False) -> int:
    """``value`` as an int > 0 (>= 0 with ``allow_zero``; TF's ``dense`` accepts ``units=0``).

    Raises:
        LayerArgumentError: not an integer, or too small.
    """
    low = 0 if allow_zero else 1
    if not _is_int(value) or value < low:
        raise LayerArgumentError.make(
            f"Received an invalid value for `{arg}`, expected a "
            f"{'non-negative' if allow_zero else 'strictly positive'} integer. "
            f"Received: {arg}={value!r}",
            fix=f"pass {arg} as an int >= {low} to {layer}.")
    return int(value)


def normalize_padding(value: Any, layer: str, allow_causal: bool = False) -> str:
    """``'valid'``, ``'same'`` (or ``'causal'`` for ``conv1d``), case-insensitive like TF.

    Raises:
        LayerArgumentError: any other value.
    """
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        if padding == "causal":
            what = "Causal padding is only supported for `Conv1D`and `SeparableConv1D`."
        else:
            what = ('The `padding` argument must be one of "valid", "same" (or "causal", '
                    f"only for `Conv1D). Received: {value!r}")
        raise LayerArgumentError.make(
            what,
            fix=f"{layer} takes padding='valid' (no padding) or 'same' (output size = "
                "ceil(input / stride), padded as TensorFlow does: the odd pixel at the end)"
                + (", or 'causal' (left padding only)." if allow_causal else "."))
    return padding


def normalize_data_format(value: Any, layer: str) -> str:
    """``'channels_last'`` or ``'channels_first'``, case-insensitive like TF.

    Raises:
        LayerArgumentError: anything else (``'NHWC'``/``'nchw'`` included, as in TF).
    """
    data_format = value.lower() if isinstance(value, str) else value
    if data_format not in ("channels_last", "channels_first"):
        raise LayerArgumentError.make(
            'The `data_format` argument must be one of "channels_first", "channels_last". '
            f"Received: {value!r}",
            fix=f"{layer} takes data_format='channels_last' (NHWC, TF's default) or "
                "'channels_first' (NCHW).")
    return data_format


_UNSUPPORTED_FIXES = {
    # torchscope computes regularization losses from variables on demand (PyTorch re-runs the
    # forward every step); an activity is not a variable, and a loss appended to a collection
    # each pass would pile up.
    "activity_regularizer":
        "add the penalty to your loss yourself, e.g. loss = loss + reg(y) / y.shape[0] (TF1 "
        "divided the activity penalty by the batch size).",
}


def check_unsupported(layer: str, **arguments: Any) -> None:
    """Rejects TF1 arguments ``ts.layers`` does not implement (each given as ``name=value``,
    where ``None``/``False`` means unused).

    Raises:
        LayerArgumentError: one of them is set.
    """
    for arg, value in arguments.items():
        if value is None or value is False:
            continue
        raise LayerArgumentError.make(
            f"{layer}: `{arg}` is not supported by torchscope. Received: {arg}={value!r}",
            fix=_UNSUPPORTED_FIXES.get(arg, f"leave {arg} at its default."))


def as_input(inputs: Any, layer: str, min_rank: int, floating: bool = True,
             exact_rank: Optional[int] = None) -> torch.Tensor:
    """``inputs`` as a tensor of at least ``min_rank`` dimensions (a floating dtype unless
    ``floating=False``); numpy arrays and lists are converted like TF converts them.

    Raises:
        LayerArgumentError: too few dimensions, or an integer/bool tensor for a layer with
            weights (TF raised TypeError there).
    """
    if not isinstance(inputs, torch.Tensor):
        inputs = torch.as_tensor(inputs)
    rank = inputs.dim()
    if rank < min_rank or (exact_rank is not None and rank != exact_rank):
        expected = f"ndim={exact_rank}" if exact_rank is not None else f"min_ndim={min_rank}"
        raise LayerArgumentError.make(
            f'Input 0 of layer "{layer}" is incompatible with the layer: expected {expected}, '
            f"found ndim={rank}. Full shape received: {tuple(inputs.shape)}",
            fix=f"give {layer} a tensor of rank {exact_rank or min_rank}"
                f"{'' if exact_rank else ' or more'} in TF's layout (batch first).")
    if floating and not (inputs.is_floating_point() or inputs.is_complex()):
        raise LayerArgumentError.make(
            f"A {layer} layer can only be built with a floating-point dtype. Received: "
            f"dtype={str(inputs.dtype).replace('torch.', '')}",
            fix="convert the input first, e.g. inputs.float().")
    return inputs


def as_training(training: Any, layer: str) -> Training:
    """``training`` as a Python bool, or a 0-d bool tensor (decided when the graph runs, like a
    TF1 ``tf.placeholder(tf.bool, [])``). ``None`` is ``False``, TF1's learning-phase default.

    Raises:
        LayerArgumentError: a tensor that is not 0-d.
    """
    if isinstance(training, torch.Tensor):
        if training.dim() != 0:
            raise LayerArgumentError.make(
                f"{layer}: `training` must be a Python bool or a scalar (0-d) tensor. "
                f"Received a tensor of shape {tuple(training.shape)}.",
                fix="pass training=True/False, or torch.tensor(True).")
        return training if training.dtype is torch.bool else training.bool()
    return bool(training)
