"""``VariableScope`` objects: a scope's name, reuse mode and inheritable defaults.

The objects ``with ts.variable_scope(...) as scope`` and ``ts.get_variable_scope()`` return.
Entering scopes is ``_scope``'s business; this module only holds what a scope *is*, built so that
entering one (every layer of every ``ScopedModule`` pass) copies six slots.

Example:
    >>> import torchscope as ts
    >>> root = ts.VariableScope(False)
    >>> root.name, root.reuse, root.dtype, root.initializer
    ('', False, torch.float32, None)
    >>> root.reuse_variables(); root.reuse
    True
"""

from __future__ import annotations

import enum
from typing import Any, Callable, List, Optional, Union

import torch

from ._store import ScopedParameterStore
from ._types import DTypeLike, as_dtype

__all__ = ["AUTO_REUSE", "ReuseArg", "VariableScope"]


class _ReuseMode(enum.Enum):
    """TF1's ``_ReuseMode``; its single member is truthy, which matters for inheritance."""

    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE
"""Get-or-create: ``get_variable`` returns an existing variable or creates a missing one."""

ReuseArg = Union[None, bool, _ReuseMode]


(INITIALIZER, REGULARIZER, CACHING_DEVICE, PARTITIONER, CUSTOM_GETTER, DTYPE, USE_RESOURCE,
 PLAIN, PLAIN_CREATE) = range(9)


def _defaults(initializer: Any, regularizer: Any, caching_device: Any, partitioner: Any,
              custom_getter: Any, dtype: torch.dtype, use_resource: Any) -> tuple:
    """A scope's inheritable defaults; the last two items say whether ``get_variable`` may take
    its fast paths: PLAIN, no caching device, partitioner or custom getter to honour (reuse in a
    pass); PLAIN_CREATE, not even a regularizer (creation outside passes)."""
    plain = caching_device is None and partitioner is None and custom_getter is None
    return (initializer, regularizer, caching_device, partitioner, custom_getter, dtype,
            use_resource, plain, plain and regularizer is None)


_ROOT_DTYPE = torch.float32
_ROOT_DEFAULTS = _defaults(None, None, None, None, None, _ROOT_DTYPE, None)


class VariableScope:
    """A variable scope: the prefix and the defaults ``get_variable`` uses inside it.

    Objects come from ``with ts.variable_scope(...) as scope`` or ``ts.get_variable_scope()``.
    Re-entering a scope by object (``ts.variable_scope(scope)``) uses its absolute name and
    defaults wherever you are. Every entry returns a new object, as in TF1.

    Example:
        >>> import torchscope as ts
        >>> with ts.ScopedParameterStore().as_default():
        ...     with ts.variable_scope("foo") as foo:
        ...         v = ts.get_variable("v", [1])
        ...         foo.reuse_variables()
        ...         assert ts.get_variable("v", [1]) is v
        ...     with ts.variable_scope("bar"):
        ...         with ts.variable_scope(foo) as again:      # absolute: foo, not bar/foo
        ...             print(again.name, again.reuse)
        foo True
    """

    # The inheritable defaults live in one tuple (see _defaults) shared between a scope and the
    # scopes derived from it: entering a scope copies six slots, not twelve. ``_plain_dtype`` is
    # the one default get_variable's fast path in a pass reads: the scope's dtype where the
    # defaults allow that path (PLAIN), else None. A slot, not an item read by an index
    # constant, because a pass traced by torch.compile would guard every module constant it
    # reads, on every call.
    __slots__ = ("_name", "_name_scope", "_reuse", "_defaults", "_plain_dtype", "_constraint")

    def __init__(self, reuse: ReuseArg, name: str = "", initializer: Any = None,
                 regularizer: Optional[Callable] = None, caching_device: Any = None,
                 partitioner: Optional[Callable] = None, custom_getter: Optional[Callable] = None,
                 name_scope: str = "", dtype: DTypeLike = torch.float32,
                 use_resource: Optional[bool] = None, constraint: Optional[Callable] = None) -> None:
        self._name = name
        self._name_scope = name_scope
        self._reuse = reuse
        self._set_defaults(_defaults(initializer, regularizer, caching_device, partitioner,
                                     custom_getter, as_dtype(dtype), use_resource))
        self._constraint = constraint

    def __repr__(self) -> str:
        return f"<VariableScope name={self._name!r} reuse={self._reuse!r}>"

    name = property(lambda self: self._name, doc="The full scope name (variable prefix).")
    original_name_scope = property(lambda self: self._name_scope,
                                   doc="The name scope opened when the scope was first entered.")
    reuse = property(lambda self: self._reuse, doc="False, True or AUTO_REUSE.")
    initializer = property(lambda self: self._defaults[INITIALIZER])
    regularizer = property(lambda self: self._defaults[REGULARIZER])
    caching_device = property(lambda self: self._defaults[CACHING_DEVICE])
    partitioner = property(lambda self: self._defaults[PARTITIONER])
    custom_getter = property(lambda self: self._defaults[CUSTOM_GETTER])
    dtype = property(lambda self: self._defaults[DTYPE])
    use_resource = property(lambda self: self._defaults[USE_RESOURCE])
    constraint = property(lambda self: self._constraint)

    def reuse_variables(self) -> None:
        """Sets ``reuse=True`` on this scope object (and scopes entered below it from now on)."""
        self._reuse = True

    def _set_defaults(self, defaults: tuple) -> None:
        """Sets the defaults tuple (see ``_defaults``) and the slot derived from it."""
        self._defaults = defaults
        self._plain_dtype = defaults[DTYPE] if defaults[PLAIN] else None

    def _set(self, index: int, value: Any) -> None:
        values = list(self._defaults[:PLAIN])
        values[index] = value
        self._set_defaults(_defaults(*values))

    def set_initializer(self, initializer: Any) -> None:
        self._set(INITIALIZER, initializer)

    def set_regularizer(self, regularizer: Optional[Callable]) -> None:
        self._set(REGULARIZER, regularizer)

    def set_caching_device(self, caching_device: Any) -> None:
        self._set(CACHING_DEVICE, caching_device)

    def set_partitioner(self, partitioner: Optional[Callable]) -> None:
        self._set(PARTITIONER, partitioner)

    def set_custom_getter(self, custom_getter: Optional[Callable]) -> None:
        self._set(CUSTOM_GETTER, custom_getter)

    def set_dtype(self, dtype: DTypeLike) -> None:
        self._set(DTYPE, as_dtype(dtype))

    def set_use_resource(self, use_resource: Optional[bool]) -> None:
        self._set(USE_RESOURCE, use_resource)

    def get_collection(self, name: str) -> List[Any]:
        """Items of collection ``name`` under this scope (``scope.name + "/"``; root: all)."""
        from ._state import current_state

        scope = self._name + "/" if self._name else ""
        return current_state().store.get_collection(name, scope)

    def trainable_variables(self) -> List[Any]:
        return self.get_collection("trainable_variables")

    def global_variables(self) -> List[Any]:
        return self.get_collection("variables")

    def local_variables(self) -> List[Any]:
        return self.get_collection("local_variables")

    def get_variable(self, var_store: ScopedParameterStore, name: str, *args: Any,
                     **kwargs: Any) -> Any:
        """TF1's ``VariableScope.get_variable(var_store, name, ...)``: ``get_variable`` with this
        scope's prefix and defaults, in ``var_store``."""
        from ._variables import scoped_get_variable

        return scoped_get_variable(self, var_store, name, *args, **kwargs)


def _child_scope(reuse: ReuseArg, name: str, src: VariableScope, name_scope: str,
                 constraint: Optional[Callable]) -> VariableScope:
    """A new VariableScope with ``src``'s inheritable defaults (``constraint`` is never
    inherited). Built slot by slot, as the everyday scope entry (``variable_scope.__enter__``)
    and ``ScopeState`` build theirs inline, and spelled ``object.__new__(VariableScope)``:
    torch.compile before 2.13 cannot trace an alias of it."""
    scope = object.__new__(VariableScope)
    scope._name = name
    scope._name_scope = name_scope
    scope._reuse = reuse
    scope._defaults = src._defaults
    scope._plain_dtype = src._plain_dtype
    scope._constraint = constraint
    return scope
