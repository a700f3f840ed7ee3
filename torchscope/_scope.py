"""Variable scopes and name scopes, with TF1's exact rules.

Scope state is per thread and per store (TF1: per graph and thread): each thread starts at the
root scope, and ``with store.as_default():`` switches to that store's state. The state lives in a
``threading.local`` — not a ``ContextVar``, whose reads break ``torch.compile(fullgraph=True)``.

Example:
    >>> import torchscope as ts
    >>> with ts.ScopedParameterStore().as_default():
    ...     with ts.variable_scope("tower") as scope:
    ...         with ts.variable_scope("conv"):
    ...             print(ts.get_variable_scope().name)
    ...     print(scope.name, scope.original_name_scope, scope.reuse)
    tower/conv
    tower tower/ False
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional, Tuple, Union

import torch

from ._errors import InvalidNameError, InvalidReuseError, ScopeArgumentError, ScopeNestingError
from ._names import OpNames
from ._scope_object import (CACHING_DEVICE, CUSTOM_GETTER, DTYPE, INITIALIZER, PARTITIONER,
                            PLAIN, REGULARIZER, USE_RESOURCE, AUTO_REUSE, ReuseArg,
                            VariableScope, _child_scope, _defaults)
from ._state import ENTER, ENTER_DEFAULT, EXIT, ScopeState, current_state
from ._store import _thread
from ._types import DTypeLike, as_dtype

__all__ = [
    "get_name_scope",
    "get_variable_scope",
    "name_scope",
    "variable_creator_scope",
    "variable_scope",
]


def get_variable_scope() -> VariableScope:
    """The current variable scope (TF1's ``tf.compat.v1.get_variable_scope``).

    Example:
        >>> import torchscope as ts
        >>> with ts.ScopedParameterStore().as_default():
        ...     root = ts.get_variable_scope()
        ...     print(repr(root.name), root.reuse, root.dtype)
        '' False torch.float32
    """
    return current_state().current


def get_name_scope() -> str:
    """The current name scope (``""`` at the root), as TF's ``Graph.get_name_scope()``.

    Example:
        >>> import torchscope as ts
        >>> with ts.ScopedParameterStore().as_default():
        ...     with ts.variable_scope("a"):
        ...         with ts.name_scope("b"):
        ...             print(ts.get_name_scope())
        a/b
    """
    return current_state().name_stack


# ------------------------------------------------------------------------------- name scopes

def check_scope_name(stack: str, name: str) -> None:
    """TF's name-scope validation: the root pattern at the root, the nested one below it.

    Raises:
        InvalidNameError: a name TF1 would refuse there.
    """
    if not OpNames.is_valid_scope_name(name, at_root=not stack):
        raise InvalidNameError.nested(name) if stack else InvalidNameError.root(name)


_is_compiling = torch.compiler.is_compiling
# torch keeps this flag for "fast python checks" whether a profiler runs: one attribute read
# when none does. Inside torch.compile it would be a guarded constant, so a pass being traced
# (``ScopeState.traced``) does not read it: starting a profiler then recompiles nothing.
_profiler = torch.autograd.profiler


def _enter_name_scope(state: ScopeState, name: Optional[str]) -> Tuple[str, str, Any]:
    """Enters a name scope (TF's ``Graph.name_scope``): validates, uniquifies, labels.

    Returns ``(returned_scope, old_stack, profiler_label)``; nothing changes if it raises. The
    profiler label is free when no profiler runs (and skipped inside ``torch.compile``).
    """
    stack = state.name_stack
    if name:
        check_scope_name(stack, name)
        if name[-1] == "/":
            new_stack, returned = name[:-1], name
        else:
            new_stack = state.unique_name(name)
            returned = new_stack + "/"
    else:
        new_stack = returned = ""
    state.name_stack = new_stack
    label = None
    if new_stack and not state.traced and _profiler._is_profiler_enabled and not _is_compiling():
        label = torch.autograd.profiler.record_function(new_stack)
        label.__enter__()
    return returned, stack, label


def _exit_name_scope(state: ScopeState, old_stack: str, label: Any) -> None:
    if label is not None:
        label.__exit__(None, None, None)
    state.name_stack = old_stack


class name_scope:  # noqa: N801 - TF1's spelling
    """TF1's ``name_scope``: shapes ``ts.Variable`` names and labels code in the profiler.

    ``get_variable`` ignores name scopes (as in TF1). Names are uniquified (``ns``, ``ns_1``); a
    name ending in ``/`` re-enters that exact scope; ``None`` or ``""`` returns to the root. The
    enclosed code shows up under the scope's name in ``torch.profiler`` traces, at no cost when
    no profiler runs.

    Example:
        >>> import torchscope as ts
        >>> with ts.ScopedParameterStore().as_default():
        ...     with ts.name_scope("ns") as scope:
        ...         v = ts.get_variable("v", [1])
        ...         w = ts.Variable(torch.zeros(1), name="w")
        ...     store = ts.get_default_store()
        ...     print(scope, store.name_of(v), store.name_of(w))
        ns/ v ns/w

    Args:
        name: the scope name.
        default_name: used when ``name`` is None (TF1's ``name_scope(name, default_name)``).
        values: accepted for TF1 compatibility; unused.
    """

    __slots__ = ("_name", "_entered")

    def __init__(self, name: Optional[str], default_name: Optional[str] = None,
                 values: Any = None) -> None:
        if name is None and default_name is None and values is not None:
            raise ScopeArgumentError.bad_argument(
                f"At least one of name ({name}) and default_name ({default_name}) must be "
                "provided.", fix="pass a name.")
        self._name = default_name if name is None else name
        self._entered: Optional[Tuple[ScopeState, str, Any]] = None

    def __enter__(self) -> str:
        state = current_state()
        returned, old_stack, label = _enter_name_scope(state, self._name)
        self._entered = (state, old_stack, label)
        return returned

    def __exit__(self, *exc: Any) -> None:
        entered, self._entered = self._entered, None
        if entered is not None:
            _exit_name_scope(*entered)


# ------------------------------------------------------------------------------- variable scopes

def _wrap_getter(new: Callable, old: Optional[Callable]) -> Callable:
    """TF1's ``_maybe_wrap_custom_getter``: the new getter runs first and calls the old one."""
    if old is None:
        return new

    # The parameter must be called ``getter``: the store passes it by keyword, as TF1 does.
    def wrapped_custom_getter(getter: Callable, *args: Any, **kwargs: Any) -> Any:
        return new(functools.partial(old, getter), *args, **kwargs)

    return wrapped_custom_getter


class variable_scope:  # noqa: N801 - TF1's spelling
    """TF1's ``variable_scope``: a prefix, reuse mode and defaults for ``get_variable``.

    Enter by name (relative to the current scope; a new name scope is opened and uniquified), by
    ``VariableScope`` object (absolute), or anonymously with ``default_name`` (uniquified to the
    first free ``name``, ``name_1``, ...). ``reuse``: ``True`` shares existing variables only,
    ``AUTO_REUSE`` gets or creates, ``None``/``False`` inherit the parent's (by name) or the
    captured scope's (by object) reuse — ``False`` can never switch reuse off. Scope-level
    ``initializer``, ``regularizer``, ``caching_device``, ``partitioner``, ``dtype`` are inherited;
    ``custom_getter`` chains (the innermost runs first); ``constraint`` is not inherited.

    Example:
        >>> import torchscope as ts
        >>> with ts.ScopedParameterStore().as_default():
        ...     for i in range(2):
        ...         with ts.variable_scope("tower", reuse=i > 0):
        ...             w = ts.get_variable("w", [3])
        ...             print(ts.get_default_store().name_of(w))
        tower/w
        tower/w

    Args:
        name_or_scope: a name, a ``VariableScope``, or None (then ``default_name`` is required).
        default_name: the base of a unique name when ``name_or_scope`` is None.
        values: accepted for TF1 compatibility; unused.
        initializer, regularizer, caching_device, partitioner, custom_getter, dtype,
            use_resource, constraint: scope defaults for ``get_variable``.
        reuse: ``True``, ``False``/``None`` or ``ts.AUTO_REUSE``.
        auxiliary_name_scope: open a name scope too (default); ``False`` keeps the current one.

    Raises:
        ScopeArgumentError: no name and no default_name; a non-bool auxiliary_name_scope; a
            name_or_scope that is neither a str nor a VariableScope (on entry).
        InvalidReuseError: a reuse value other than True/False/None/AUTO_REUSE; reuse with an
            anonymous scope (on entry).
        InvalidNameError: a name TF1 would reject (on entry).
        ScopeNestingError: exited while an inner scope is still open.
    """

    __slots__ = ("_name_or_scope", "_default_name", "_initializer", "_regularizer",
                 "_caching_device", "_partitioner", "_custom_getter", "_reuse", "_dtype",
                 "_use_resource", "_constraint", "_aux", "_overrides", "_entered")

    def __init__(self, name_or_scope: Union[str, VariableScope, None],
                 default_name: Optional[str] = None, values: Any = None,
                 initializer: Any = None, regularizer: Optional[Callable] = None,
                 caching_device: Any = None, partitioner: Optional[Callable] = None,
                 custom_getter: Optional[Callable] = None, reuse: ReuseArg = None,
                 dtype: DTypeLike = None, use_resource: Optional[bool] = None,
                 constraint: Optional[Callable] = None,
                 auxiliary_name_scope: bool = True) -> None:
        if name_or_scope is None and default_name is None:
            raise ScopeArgumentError.no_name()
        if reuse is False:
            reuse = None  # TF1: no non-inheriting scopes, False means "inherit"
        elif not (reuse is None or reuse is True or reuse is AUTO_REUSE):
            raise InvalidReuseError.bad_value(reuse)
        if auxiliary_name_scope is not True and auxiliary_name_scope is not False:
            raise ScopeArgumentError.bad_auxiliary(auxiliary_name_scope)
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._reuse = reuse
        self._aux = auxiliary_name_scope
        self._constraint = constraint
        self._entered: Optional[Tuple[Any, ...]] = None
        self._overrides = not (initializer is None and regularizer is None
                               and caching_device is None and partitioner is None
                               and custom_getter is None and dtype is None
                               and use_resource is None)
        if self._overrides:
            self._initializer = initializer
            self._regularizer = regularizer
            self._caching_device = caching_device
            self._partitioner = partitioner
            self._custom_getter = custom_getter
            self._dtype = None if dtype is None else as_dtype(dtype)
            self._use_resource = use_resource

    def __enter__(self) -> VariableScope:
        state = _thread.defaults.state
        if state is None or state.store._retired:
            state = current_state()
        target = self._name_or_scope
        old = state.current
        if self._aux and not self._overrides:
            # The everyday entries — by a non-empty name (ENTER) or a default_name
            # (ENTER_DEFAULT), with a name scope and no scope defaults — inline, as they run
            # for every layer of every pass, and replayed from the previous pass when the same
            # code runs again (see ScopeState). Same rules as the general path below. The
            # replay markers are read only while replaying: a pass traced by torch.compile
            # replays nothing, and each module constant its trace read would be guarded.
            if target.__class__ is str and target:
                name, by_default = target, False
            elif target is None and not self._reuse and self._default_name:
                name, by_default = self._default_name, True
            else:
                name = None
            if name is not None:
                stack = state.name_stack
                replay = state.replay
                if (replay is not None
                        and (step := replay[state.pos])[0] is (ENTER_DEFAULT if by_default
                                                                else ENTER)
                        and step[1] == name):
                    state.pos += 1
                    _, _, _, full_name, new_stack, name_scope = step
                else:
                    full_name, new_stack, name_scope = self._new_names(state, name, old,
                                                                       by_default, stack)
                state.name_stack = new_stack
                label = None
                if not state.traced and _profiler._is_profiler_enabled and not _is_compiling():
                    label = torch.autograd.profiler.record_function(new_stack)
                    label.__enter__()
                # _child_scope, inline (a call per entry costs more than the six stores); the
                # class read off ``old`` (always a VariableScope: only _child_scope, ScopeState
                # and this line make current scopes), as a second global name for it would cost
                # torch.compile a Python-level guard that the two names stay one class, and its
                # __new__ (object's) read off it too: ``object`` would be a guard on a builtin
                cls = old.__class__
                scope = cls.__new__(cls)
                scope._name = full_name
                scope._name_scope = name_scope
                scope._reuse = self._reuse or old._reuse
                scope._defaults = old._defaults
                scope._plain_dtype = old._plain_dtype
                scope._constraint = self._constraint
                state.current = scope
                self._entered = (state, old, scope, stack, label, True)
                return scope
        by_object = False
        if target.__class__ is str or isinstance(target, str):
            # By name (TF1's string branch): the name scope first (an invalid name fails
            # here, changing nothing), then a scope below the current one.
            if not self._aux:
                stack = state.name_stack
                opened, old_stack, label = _enter_name_scope(state, stack + "/" if stack else "")
            elif target:
                opened, old_stack, label = _enter_name_scope(state, target)
            else:
                opened, old_stack, label = target, None, None
            scope = _child_scope(self._reuse or old._reuse,
                                 old._name + "/" + target if old._name else target,
                                 old, opened, self._constraint)
            if self._overrides:
                self._override(scope, old._defaults[CUSTOM_GETTER])
        elif target is None:
            if self._reuse:
                raise InvalidReuseError.without_name()
            stack = state.name_stack
            opened, old_stack, label = _enter_name_scope(
                state, self._default_name if self._aux else (stack + "/" if stack else ""))
            unique = state.counts.unique_default(old._name, self._default_name)
            scope = _child_scope(self._reuse or old._reuse,
                                 old._name + "/" + unique if old._name else unique,
                                 old, opened, self._constraint)
            if self._overrides:
                self._override(scope, old._defaults[CUSTOM_GETTER])
        elif isinstance(target, VariableScope):
            # By object: absolute name and the captured scope's defaults and reuse.
            stack = state.name_stack
            last = target._name.split("/")[-1]
            if not self._aux:
                opened, old_stack, label = _enter_name_scope(state, stack + "/" if stack else "")
            elif last:
                opened, old_stack, label = _enter_name_scope(state, last)
            else:
                old_stack, label = None, None
            scope = _child_scope(self._reuse if self._reuse else target._reuse, target._name,
                                 target, target._name_scope, self._constraint)
            if self._overrides:
                self._override(scope, target._defaults[CUSTOM_GETTER])
            by_object = True
        else:
            raise ScopeArgumentError.bad_scope_type(target)
        counts = state.counts
        counts.open(scope._name)
        # by object, counts are restored on exit (TF1); by name, the scope's subscopes reset
        token = counts.snapshot() if by_object else None
        state.current = scope
        self._entered = (state, old, scope, old_stack, label, token)
        return scope

    @staticmethod
    def _new_names(state: ScopeState, name: str, old: VariableScope, by_default: bool,
                   stack: str) -> Tuple[str, str, str]:
        """An everyday entry that is not replayed: its scope name, name stack and name scope,
        by the same rules as the general path (the name checked, uniquified and counted), and
        recorded for the next pass. Ends any replay.

        It runs in every pass that torch.compile traces, where each module global read is a
        guard on every call: a traced pass reads none here (check_scope_name only to raise, the
        replay markers only to record, which a traced pass does not; see
        OpNames.is_valid_scope_name).
        """
        if state.replay is not None:
            state._materialize()
        counts, used = state._tables()
        if not used.is_valid_scope_name(name, at_root=not stack):
            check_scope_name(stack, name)
        if name[-1] == "/":
            new_stack = name[:-1]
        elif state.shared_op_names:
            new_stack = state.unique_name(name)
        else:
            new_stack = used.unique(stack, name)
        # by name: that name; by default_name: the first free name_k (TF1's counters)
        last = counts.unique_default(old._name, name) if by_default else name
        full_name = old._name + "/" + last if old._name else last
        counts.open(full_name)
        name_scope = new_stack + "/"
        record = state.record
        if record is not None:
            record.append((ENTER_DEFAULT if by_default else ENTER, name, stack, full_name,
                           new_stack, name_scope))
        return full_name, new_stack, name_scope

    def _override(self, scope: VariableScope, old_getter: Optional[Callable]) -> None:
        """Explicit arguments override the inherited defaults; a getter chains."""
        values = list(scope._defaults[:PLAIN])
        for index, value in ((INITIALIZER, self._initializer), (REGULARIZER, self._regularizer),
                             (CACHING_DEVICE, self._caching_device),
                             (PARTITIONER, self._partitioner), (DTYPE, self._dtype),
                             (USE_RESOURCE, self._use_resource)):
            if value is not None:
                values[index] = value
        if self._custom_getter is not None:
            values[CUSTOM_GETTER] = _wrap_getter(self._custom_getter, old_getter)
        scope._set_defaults(_defaults(*values))

    def __exit__(self, *exc: Any) -> None:
        entered = self._entered
        if entered is None:
            return
        state, old, scope, old_stack, label, token = entered
        if state.current is not scope:
            # TF1 raises before touching any state, so the scope can still be exited properly
            # later (VST testVarScopeNestingError); keep everything, the name scope included.
            raise ScopeNestingError.variable_scope()
        self._entered = None
        try:
            if token is True:               # an everyday entry (see __enter__)
                replay = state.replay
                if replay is not None and replay[state.pos][0] is EXIT:
                    state.pos += 1          # replayed: the counters are left alone
                else:
                    state.exit_scope(scope._name)
            elif token is not None:
                state.counts.restore(token)
            else:
                counts = state.counts
                if scope._name in counts._children:
                    counts.close_subscopes(scope._name)
            state.current = old
        finally:
            if old_stack is not None:
                if label is not None:
                    label.__exit__(None, None, None)
                state.name_stack = old_stack


class variable_creator_scope:  # noqa: N801 - TF1's spelling
    """TF1's ``variable_creator_scope``: intercept the creation of every new variable.

    ``creator(next_creator, **kwargs)`` is called when a variable is created (by ``get_variable``
    or ``Variable``; not on reuse) with ``initial_value`` (a tensor), ``name``, ``trainable``,
    ``collections``, ``caching_device``, ``dtype``, ``constraint``, ``synchronization``,
    ``aggregation``, ``validate_shape`` and ``use_resource``; it may change them and must return
    ``next_creator(**kwargs)``. The innermost creator runs first.

    Example:
        >>> import torchscope as ts
        >>> def no_grad_creator(next_creator, **kwargs):
        ...     kwargs["trainable"] = False
        ...     return next_creator(**kwargs)
        >>> with ts.ScopedParameterStore().as_default():
        ...     with ts.variable_creator_scope(no_grad_creator):
        ...         v = ts.get_variable("v", [2])
        ...     print(v.requires_grad)
        False
    """

    __slots__ = ("_creator", "_state")

    def __init__(self, variable_creator: Callable) -> None:
        if not callable(variable_creator):
            raise ScopeArgumentError.bad_argument(
                f"variable_creator must be callable, got {variable_creator!r}.",
                fix="pass a function creator(next_creator, **kwargs).")
        self._creator = variable_creator
        self._state: Optional[ScopeState] = None

    def __enter__(self) -> None:
        self._state = current_state()
        self._state.creators.append(self._creator)

    def __exit__(self, *exc: Any) -> None:
        state, self._state = self._state, None
        if state is None or not state.creators or state.creators[-1] is not self._creator:
            raise ScopeNestingError.other("Improper nesting of variable_creator_scope.")
        state.creators.pop()
