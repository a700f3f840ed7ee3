"""``batch_normalization``: TF1's batch norm, moving statistics updated during the forward.

TF1 needed ``tf.GraphKeys.UPDATE_OPS`` to update ``moving_mean``/``moving_variance``; here a
``training=True`` call updates them in place, under ``torch.no_grad()``, as TF2 does. The update
is TF's, ``moving -= (moving - batch_statistic) * (1 - momentum)``, and which batch variance goes
into it is TF's too (measured with TF 2.21, ``tf.compat.v1.layers`` in graph mode):

* the *fused* kernel — TF's choice for rank-4 input with the channel axis 1 or 3, or rank-5 with
  axis 1 or 4, in float16/bfloat16/float32 — feeds the **unbiased** batch variance
  (``n / (n - 1)`` Bessel correction) to the moving variance;
* otherwise (dense activations ``[batch, units]``, other axes, float64, ``fused=False``) it is the
  **biased** batch variance.

The output is always normalised with the biased batch variance (training) or the moving
statistics (inference). ``1 - momentum`` is rounded to float32 first, as TF's constant is. Two more TF1 facts kept: ``trainable=False`` with ``training=True``
normalises with batch statistics but updates nothing (TF1 put no UPDATE_OPS); float16/bfloat16
inputs get float32 variables and float32 math.

Example:
    >>> import torch, torchscope as ts
    >>> from torchscope import layers
    >>> with ts.ScopedParameterStore().as_default():
    ...     x = torch.randn(8, 4, 4, 3) * 2 + 5
    ...     y = layers.batch_normalization(x, training=True)
    ...     mean = ts.get_default_store()["batch_normalization/moving_mean"]
    ...     print(tuple(y.shape), torch.allclose(mean, 0.01 * x.mean((0, 1, 2))))
    (8, 4, 4, 3) True
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Union

import torch

from .._errors import LayerArgumentError
from ..initializers import Ones, Zeros
from ._args import Training, as_input, as_training, check_unsupported
from ._base import LayerName, add_moving_statistic, add_weight, layer_scope

__all__ = ["batch_normalization"]

_HALF = (torch.float16, torch.bfloat16)
_FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32)


def _axes(axis: Union[int, Sequence[int]], rank: int) -> List[int]:
    """``axis`` as a sorted list of non-negative dimensions (TF's ``validate_axis``)."""
    given = [axis] if isinstance(axis, int) else list(axis)
    axes = [a + rank if isinstance(a, int) and a < 0 else a for a in given]
    if (not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes)
            or not all(0 <= a < rank for a in axes) or len(set(axes)) != len(axes)):
        raise LayerArgumentError.make(
            "Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank (with "
            f"inputs.rank={rank}). Received: axis={axis!r}",
            fix="pass the channel axis: -1 for channels_last (the default), 1 for "
                "channels_first; a list of distinct axes normalises over the others.")
    return sorted(axes)


def _fusable(axes: List[int], rank: int, dtype: torch.dtype) -> bool:
    """Whether TF would run its fused kernel (see the module docstring)."""
    return (rank in (4, 5) and len(axes) == 1 and axes[0] in (1, rank - 1)
            and dtype in _FUSED_DTYPES)


def batch_normalization(
        inputs: torch.Tensor, axis: Union[int, Sequence[int]] = -1, momentum: float = 0.99,
        epsilon: float = 1e-3, center: bool = True, scale: bool = True,
        beta_initializer: Any = Zeros(), gamma_initializer: Any = Ones(),
        moving_mean_initializer: Any = Zeros(), moving_variance_initializer: Any = Ones(),
        beta_regularizer: Optional[Callable] = None, gamma_regularizer: Optional[Callable] = None,
        beta_constraint: Optional[Callable] = None, gamma_constraint: Optional[Callable] = None,
        training: Any = False, trainable: bool = True, name: LayerName = None, reuse: Any = None,
        renorm: bool = False, renorm_clipping: Optional[dict] = None,
        renorm_momentum: float = 0.99, fused: Optional[bool] = None,
        virtual_batch_size: Optional[int] = None,
        adjustment: Optional[Callable] = None) -> torch.Tensor:
    """Batch normalization with TF1's variables, defaults and update rule
    (TF1's ``layers.batch_normalization``).

    Variables, in scope ``batch_normalization``, ``batch_normalization_1``, ... or ``name``:
    ``gamma`` (if ``scale``), ``beta`` (if ``center``) — trainable — and ``moving_mean``,
    ``moving_variance`` — never trainable (buffers in a ``ScopedModule``). ``training=True``
    normalises with the batch statistics and updates the moving ones in place.

    Example:
        >>> import torch, torchscope as ts
        >>> from torchscope import layers
        >>> bn = lambda x, training: layers.batch_normalization(x, training=training, name="bn")
        >>> net = ts.ScopedModule.wrap(bn).build(torch.zeros(2, 3), False)
        >>> sorted(net.state_dict()), [n for n, _ in net.named_parameters()]
        (['bn/beta', 'bn/gamma', 'bn/moving_mean', 'bn/moving_variance'], ['bn/gamma', 'bn/beta'])
        >>> y = net(torch.tensor([[1., 2., 3.], [3., 2., 1.]]), True)   # 2-D: biased variance
        >>> [round(v, 4) for v in net.get_buffer("bn/moving_variance").tolist()]
        [1.0, 0.99, 1.0]

    Args:
        inputs: a floating tensor; ``axis`` is its channel axis.
        axis: the axis (or list of axes) kept; the others are reduced. -1 for NHWC,
            1 for NCHW.
        momentum: of the moving averages (TF's default 0.99).
        epsilon: added to the variance (TF's default 1e-3).
        center, scale: whether to create and use ``beta`` / ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer: TF's defaults zeros, ones, zeros, ones.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: as for
            ``dense``'s bias.
        training: a Python bool, or a 0-d bool tensor decided at run time (then both paths
            are computed and selected, like TF's ``smart_cond``).
        trainable: False: ``gamma``/``beta`` are not trainable and the moving statistics are
            never updated (TF1).
        name, reuse: as for ``dense``.
        renorm, renorm_clipping, renorm_momentum, virtual_batch_size, adjustment: batch
            renormalization and ghost batches are not supported (raise when set).
        fused: None (TF's choice), True (raise unless TF could fuse) or False (the unfused path:
            biased variance in the moving average).

    Returns:
        The normalised tensor, in ``inputs``' shape and dtype.

    Raises:
        LayerArgumentError: an ``axis`` out of range, ``fused=True`` where TF cannot fuse, one
            of the unsupported options, or a non-floating input; nothing is created.
        VariableExistsError, VariableNotFoundError, ShapeMismatchError: from ``get_variable``.
    """
    layer = "batch_normalization"
    inputs = as_input(inputs, layer, min_rank=1)
    rank = inputs.dim()
    axes = _axes(axis, rank)
    check_unsupported(layer, renorm=renorm, virtual_batch_size=virtual_batch_size,
                      adjustment=adjustment)
    training = as_training(training, layer)
    fusable = _fusable(axes, rank, inputs.dtype)
    if fused and not fusable:
        raise LayerArgumentError.make(
            "Passing `fused=True` is only supported for rank-4 inputs with axis 1 or 3, or "
            "rank-5 inputs with axis 1 or 4, in float16, bfloat16 or float32. Received: "
            f"rank={rank}, axis={axis!r}, dtype={str(inputs.dtype).replace('torch.', '')}",
            fix="leave fused=None: TF then picks the unfused computation by itself.")
    unbiased = fusable and fused is not False
    param_dtype = torch.float32 if inputs.dtype in _HALF else inputs.dtype
    if len(axes) == 1:
        shape = [inputs.shape[axes[0]]]
    else:
        shape = [n if d in axes else 1 for d, n in enumerate(inputs.shape)]
    with layer_scope(name, layer, reuse):
        gamma = (add_weight("gamma", shape, param_dtype, gamma_initializer, gamma_regularizer,
                            gamma_constraint, trainable) if scale else None)
        beta = (add_weight("beta", shape, param_dtype, beta_initializer, beta_regularizer,
                           beta_constraint, trainable) if center else None)
        moving_mean = add_moving_statistic("moving_mean", shape, param_dtype,
                                           moving_mean_initializer)
        moving_variance = add_moving_statistic("moving_variance", shape, param_dtype,
                                               moving_variance_initializer)
        return _normalize(inputs, axes, gamma, beta, moving_mean, moving_variance, training,
                          momentum, epsilon, bool(trainable), unbiased)


def _normalize(inputs: torch.Tensor, axes: List[int], gamma: Optional[torch.Tensor],
               beta: Optional[torch.Tensor], moving_mean: torch.Tensor,
               moving_variance: torch.Tensor, training: Training, momentum: float,
               epsilon: float, update: bool, unbiased: bool) -> torch.Tensor:
    """``tf.nn.batch_normalization`` with the statistics ``training`` picks, then the update."""
    rank = inputs.dim()
    x = inputs.float() if inputs.dtype in _HALF else inputs
    reduced = [d for d in range(rank) if d not in axes]
    view = [n if d in axes else 1 for d, n in enumerate(inputs.shape)]

    def broadcast(v: torch.Tensor) -> torch.Tensor:
        return v if len(axes) > 1 else v.reshape(view)

    if training is False:
        mean, variance = moving_mean, moving_variance
    else:
        batch_variance, batch_mean = torch.var_mean(x, dim=reduced, correction=0,
                                                    keepdim=len(axes) > 1)
        if training is True:
            mean, variance = batch_mean, batch_variance
        else:
            mean = torch.where(training, batch_mean, moving_mean)
            variance = torch.where(training, batch_variance, moving_variance)
    inv = torch.rsqrt(broadcast(variance) + epsilon)
    if gamma is not None:
        inv = inv * broadcast(gamma)
    shift = -broadcast(mean) * inv
    if beta is not None:
        shift = shift + broadcast(beta)
    outputs = (x * inv + shift).to(inputs.dtype)
    if training is not False and update:
        count = x.numel() // max(moving_mean.numel(), 1)
        _update_moving(moving_mean, moving_variance, batch_mean, batch_variance, training,
                       momentum, count, unbiased)
    return outputs


def _update_moving(moving_mean: torch.Tensor, moving_variance: torch.Tensor,
                   batch_mean: torch.Tensor, batch_variance: torch.Tensor, training: Training,
                   momentum: float, count: int, unbiased: bool) -> None:
    """TF's ``_assign_moving_average``: ``moving -= (moving - value) * (1 - momentum)``, in
    place; a no-op where a ``training`` tensor is False."""
    with torch.no_grad():
        if unbiased:
            # TF's fused kernel returns the Bessel-corrected variance; a single sample has none
            batch_variance = batch_variance * (count / (count - 1) if count > 1 else 0.0)
        # TF converts 1 - momentum to a float32 constant, then casts it to the variable's dtype
        decay = torch.tensor(1.0 - momentum, dtype=torch.float32, device=moving_mean.device)
        if training is not True:
            decay = torch.where(training, decay, 0.0)
        moving_mean.sub_((moving_mean - batch_mean) * decay)
        moving_variance.sub_((moving_variance - batch_variance) * decay)
