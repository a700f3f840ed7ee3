"""What TF1's layer base class (``legacy_tf_layers/base.py``) does for every functional layer:
pick the variable scope, and create weights in it.

The scope rules, as TensorFlow applies them (checked against TF 2.21's ``tf.compat.v1.layers``):

* ``name`` given (a string or a ``VariableScope``): the layer's variables live in
  ``variable_scope(name)`` — not uniquified, so a second ``dense(x, 3, name="fc")`` without reuse
  raises "Variable fc/kernel already exists".
* no ``name``: ``variable_scope(None, default_name="dense")`` — the first free ``dense``,
  ``dense_1``, ... below the current scope, counted like any ``default_name`` (so a scope named
  ``dense`` opened earlier, or a layer named ``dense``, takes ``dense``).
* no ``name`` but ``reuse`` truthy: ``variable_scope("dense", reuse=reuse)`` — the base name,
  not uniquified, so the call shares the first unnamed layer's variables.
* layers without variables (``dropout``, ``flatten``, pooling) take no ``reuse``; even a given
  ``name`` is a ``default_name`` for them (``flatten(x, name="f")`` twice opens ``f``, ``f_1``).

``reuse`` is passed on to the scope: ``None``/``False`` inherit it (TF1 cannot switch reuse off),
``True`` shares, ``AUTO_REUSE`` gets or creates.

Example:
    >>> import torchscope as ts
    >>> with ts.ScopedParameterStore().as_default():
    ...     with layer_scope(None, "dense", None) as a:
    ...         pass
    ...     with layer_scope(None, "dense", None) as b, layer_scope("fc", "dense", None) as c:
    ...         pass
    ...     with layer_scope(None, "dense", True) as d:
    ...         pass
    >>> a.name, b.name, c.name, (d.name, d.reuse)
    ('dense', 'dense_1', 'dense_1/fc', ('dense', True))
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

import torch

from .._scope import get_variable_scope, variable_scope
from .._scope_object import VariableScope
from .._types import VariableAggregation, VariableSynchronization
from .._variables import get_variable
from ..regularizers import sum_regularizer

__all__ = ["LayerName", "add_weight", "add_moving_statistic", "layer_scope", "stateless_scope"]

LayerName = Union[str, VariableScope, None]


def layer_scope(name: LayerName, default_name: str, reuse: Any) -> variable_scope:
    """The variable scope a TF1 layer with weights creates them in (see the module docstring)."""
    if isinstance(name, VariableScope) or name:
        return variable_scope(name, reuse=reuse)
    if reuse:
        return variable_scope(default_name, reuse=reuse)
    return variable_scope(None, default_name=default_name, reuse=reuse)


def stateless_scope(name: Optional[str], default_name: str) -> variable_scope:
    """The scope a TF1 layer without weights opens: ``name`` is only a ``default_name``.

    It creates nothing, but it counts like TF's, so later ``default_name`` scopes and unnamed
    layers get the same names as in TensorFlow.
    """
    return variable_scope(None, default_name=name or default_name)


def add_weight(name: str, shape: Sequence[int], dtype: torch.dtype, initializer: Any,
               regularizer: Optional[Callable], constraint: Optional[Callable],
               trainable: bool) -> torch.nn.Parameter:
    """A layer weight: ``ts.get_variable`` in the current (layer) scope.

    TF1 creates it with ``get_variable`` (so the scope's initializer and regularizer apply) and
    adds the layer's own regularizer on top: with both, TF1 has two losses for the weight. Their
    sum is registered here, so ``ts.get_regularization_loss()`` totals the same.
    """
    if regularizer is not None:
        scope_regularizer = get_variable_scope().regularizer
        if scope_regularizer is not None:
            regularizer = sum_regularizer([scope_regularizer, regularizer])
    return get_variable(name, list(shape), dtype, initializer, regularizer, trainable=trainable,
                        constraint=constraint)


def add_moving_statistic(name: str, shape: Sequence[int], dtype: torch.dtype,
                         initializer: Any) -> torch.nn.Parameter:
    """A non-trainable statistic (``moving_mean``, ``moving_variance``), as TF1 makes it:
    ``trainable=False``, ``ON_READ`` synchronization, ``MEAN`` aggregation. In a
    ``ScopedModule`` it is a buffer: saved, moved by ``.to()``, never given to optimizers."""
    return get_variable(name, list(shape), dtype, initializer, trainable=False,
                        synchronization=VariableSynchronization.ON_READ,
                        aggregation=VariableAggregation.MEAN)
