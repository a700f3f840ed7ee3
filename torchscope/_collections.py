"""TF1's module-level collection functions, acting on the default store.

Inside a ``ScopedModule`` pass, variables in a collection resolve to the module's current
bindings (so ``functional_call`` sees its own tensors), and regularization losses are computed
from them.

Example:
    >>> import torchscope as ts
    >>> with ts.ScopedParameterStore().as_default():
    ...     with ts.variable_scope("foo"):
    ...         a = ts.get_variable("a", [1])
    ...     with ts.variable_scope("foo_bar"):
    ...         b = ts.get_variable("b", [1], trainable=False)
    ...     names = lambda vs: [ts.get_default_store().name_of(v) for v in vs]
    ...     print(names(ts.global_variables("foo")), names(ts.trainable_variables()))
    ['foo/a', 'foo_bar/b'] ['foo/a']
"""

from __future__ import annotations

from typing import Any, Iterable, List, Optional

import torch

from ._errors import ScopeNestingError
from ._state import current_state
from ._store import GraphKeys, ScopedParameterStore, _thread

__all__ = [
    "add_to_collection", "add_to_collections", "get_collection", "get_regularization_loss",
    "get_regularization_losses", "global_variables", "local_variables", "model_variables",
    "reset_default_graph", "trainable_variables",
]


def _resolver() -> tuple:
    state = current_state()
    binder = state.binder
    return state.store, (binder.resolve if binder is not None else None)


def get_collection(key: str, scope: Optional[str] = None) -> List[Any]:
    """Items of collection ``key``; ``scope`` is a regex prefix-matched against names (so
    ``"foo"`` also matches ``"foo_bar/b"``, as in TF1)."""
    store, resolve = _resolver()
    return store.get_collection(key, scope, resolve)


def add_to_collection(name: str, value: Any) -> None:
    """Appends ``value`` to collection ``name`` of the default store."""
    current_state().store.add_to_collection(name, value)


def add_to_collections(names: Iterable[str], value: Any) -> None:
    """Appends ``value`` to each collection in ``names`` (a single str is one name)."""
    if isinstance(names, str):
        names = [names]
    for name in dict.fromkeys(names):
        add_to_collection(name, value)


def trainable_variables(scope: Optional[str] = None) -> List[Any]:
    return get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def global_variables(scope: Optional[str] = None) -> List[Any]:
    return get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def local_variables(scope: Optional[str] = None) -> List[Any]:
    return get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope: Optional[str] = None) -> List[Any]:
    return get_collection(GraphKeys.MODEL_VARIABLES, scope)


def get_regularization_losses(scope: Optional[str] = None) -> List[torch.Tensor]:
    """The regularization losses, computed now from current values."""
    return get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope: Optional[str] = None,
                            name: str = "total_regularization_loss") -> torch.Tensor:
    """The sum of the regularization losses (a zero tensor when there are none), as TF1's
    ``tf.compat.v1.losses.get_regularization_loss``.

    Example:
        >>> import torchscope as ts
        >>> with ts.ScopedParameterStore().as_default():
        ...     with ts.variable_scope("s", regularizer=ts.regularizers.l1(1.0)):
        ...         w = ts.get_variable("w", initializer=[1.0, -2.0])
        ...     print(ts.get_regularization_loss().item())
        3.0
    """
    losses = get_regularization_losses(scope)
    if not losses:
        return torch.tensor(0.0)
    total = losses[0]
    for loss in losses[1:]:
        total = total + loss
    return total


def reset_default_graph() -> None:
    """Replaces the process-wide default store with an empty one (TF1's
    ``reset_default_graph``).

    Raises:
        ScopeNestingError: called inside ``store.as_default()``.
    """
    from . import _store

    defaults = _thread.defaults
    if defaults.stack:
        raise ScopeNestingError.other(
            "Do not use reset_default_graph() to clear nested stores: a "
            "ScopedParameterStore.as_default() block is open in this thread.")
    _store._DEFAULT_STORE._retired = True   # threads holding its scope state move on too
    _store._DEFAULT_STORE = ScopedParameterStore()
    defaults.state = None
