"""TF1's weight regularizers: factories returning ``w -> Tensor`` (or ``None`` when disabled).

``l2`` is TF's ``l2_regularizer``: ``scale * sum(w**2) / 2`` (``tf.nn.l2_loss``), not
``scale * sum(w**2)``. Pass one to ``get_variable``/``variable_scope`` and read the losses with
``ts.get_regularization_loss()`` or ``store.regularization_losses()``: they are computed from the
variables' current values each time.

Example:
    >>> import torch, torchscope as ts
    >>> w = torch.tensor([3.0, -4.0])
    >>> ts.regularizers.l1(0.5)(w).item(), ts.regularizers.l2(1.0)(w).item()
    (3.5, 12.5)
    >>> ts.regularizers.l1_l2(0.5, 1.0)(w).item()
    16.0
    >>> ts.regularizers.l2(0.0)(w) is None        # a zero scale disables it, as in TF1
    True

TF1 rejects integer scales (``l2_regularizer(1)``); torchscope accepts them as floats.
"""

from __future__ import annotations

import numbers
from typing import Callable, Optional, Sequence

import torch

from ._errors import RegularizerError

__all__ = [
    "Regularizer", "l1", "l1_l2", "l1_l2_regularizer", "l1_regularizer", "l2", "l2_regularizer",
    "no_regularizer", "sum_regularizer",
]

Regularizer = Callable[[torch.Tensor], Optional[torch.Tensor]]


def _check_scale(scale: float) -> float:
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise RegularizerError.make(
            f"scale must be a real number, got {scale!r}.", fix="pass e.g. scale=1e-4.")
    if scale < 0.0:
        raise RegularizerError.make(
            f"Setting a scale less than 0 on a regularizer: {scale:g}", fix="pass scale >= 0.")
    return float(scale)


def no_regularizer(_: torch.Tensor) -> None:
    """Disables regularization where a scope set one (TF1's ``no_regularizer``)."""
    return None


def l1(scale: float, scope: Optional[str] = None) -> Regularizer:
    """``scale * sum(|w|)``. TF1: ``l1_regularizer``.

    Raises:
        RegularizerError: a negative or non-numeric scale.
    """
    scale = _check_scale(scale)
    if scale == 0.0:
        return no_regularizer

    def l1_loss(weights: torch.Tensor) -> torch.Tensor:
        return scale * weights.abs().sum()

    return l1_loss


def l2(scale: float, scope: Optional[str] = None) -> Regularizer:
    """``scale * sum(w**2) / 2``. TF1: ``l2_regularizer``.

    Raises:
        RegularizerError: a negative or non-numeric scale.
    """
    scale = _check_scale(scale)
    if scale == 0.0:
        return no_regularizer

    def l2_loss(weights: torch.Tensor) -> torch.Tensor:
        return scale * weights.square().sum() / 2

    return l2_loss


def sum_regularizer(regularizer_list: Sequence[Optional[Regularizer]],
                    scope: Optional[str] = None) -> Optional[Regularizer]:
    """The sum of several regularizers' outputs (those returning None are skipped); None when
    the list is empty, as in TF1."""
    regularizers = [r for r in regularizer_list if r is not None]
    if not regularizers:
        return None

    def summed(weights: torch.Tensor) -> Optional[torch.Tensor]:
        losses = [loss for loss in (r(weights) for r in regularizers) if loss is not None]
        if not losses:
            return None
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total

    return summed


def l1_l2(scale_l1: float = 1.0, scale_l2: float = 1.0,
          scope: Optional[str] = None) -> Regularizer:
    """``l1(scale_l1) + l2(scale_l2)``. TF1: ``l1_l2_regularizer``.

    Raises:
        RegularizerError: a negative or non-numeric scale.
    """
    if _check_scale(scale_l1) == 0.0 and _check_scale(scale_l2) == 0.0:
        return no_regularizer
    return sum_regularizer([l1(scale_l1), l2(scale_l2)])  # type: ignore[return-value]


# TF1 spellings
l1_regularizer = l1
l2_regularizer = l2
l1_l2_regularizer = l1_l2
