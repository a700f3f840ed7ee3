"""``make_template``: a function whose variables are created on the first call and shared after.

Example:
    >>> import torch, torchscope as ts
    >>> def scale_by_y(x):
    ...     y = ts.get_variable("y", [], initializer=ts.constant_initializer(2.0))
    ...     return x * y
    >>> with ts.ScopedParameterStore().as_default():
    ...     scale = ts.make_template("scale_by_y", scale_by_y)
    ...     a, b = scale(torch.ones(2)), scale(torch.ones(2))        # one variable, shared
    ...     print([ts.get_default_store().name_of(v) for v in scale.trainable_variables])
    ['scale_by_y/y']
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable, List, Optional, Tuple

from ._errors import TemplateError
from ._names import join
from ._record import format_frame
from ._scope import _wrap_getter, variable_scope
from ._scope_object import VariableScope
from ._state import current_state
from ._store import GraphKeys

__all__ = ["Template", "make_template"]

Frame = Tuple[str, int, str]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _stack() -> Tuple[Frame, ...]:
    """The caller's stack, outermost first, without torchscope's own frames (TF1 drops its
    ``make_template``/``__init__`` frames too); cheap: no source lines read."""
    frames = []
    frame = sys._getframe(2)
    while frame is not None:
        if not frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            frames.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return tuple(reversed(frames))


def _format(frames: Tuple[Frame, ...]) -> str:
    return "".join(format_frame(*frame) + "\n" for frame in frames)


def _skip_common(defined: Tuple[Frame, ...], current: Tuple[Frame, ...]) -> Tuple[Frame, ...]:
    """The part of the definition stack not shared with the current one."""
    i = 0
    while i < min(len(defined), len(current)) and defined[i] == current[i]:
        i += 1
    return defined[i:]


class Template:
    """A function wrapped so that it creates its variables once and shares them afterwards.

    Built by :func:`make_template`; see there for the rules.
    """

    def __init__(self, name: str, func: Callable, create_scope_now: bool = False,
                 unique_name: Optional[str] = None,
                 custom_getter: Optional[Callable] = None) -> None:
        if name is None:
            raise TemplateError.no_name()
        self._func = func
        self._stacktrace = _stack()
        self._name = name
        self._unique_name = unique_name
        self._custom_getter = custom_getter
        self._variable_scope: Optional[VariableScope] = None
        if create_scope_now:
            self._variable_scope = _capture_scope(unique_name or _unique(name), custom_getter)
        self._variables_created = False
        self._first_call = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # A call that raises leaves no variable behind (torchscope's error policy), e.g. the
        # one a rejected later call created. Names it used stay taken, as in TF1's graph.
        store = current_state().store
        created_before = len(store)
        try:
            return self._scoped_call(args, kwargs)
        except BaseException:
            for record in store.records()[created_before:]:
                store.remove(record)
            raise

    def _scoped_call(self, args: tuple, kwargs: dict) -> Any:
        if self._variable_scope is not None:
            with variable_scope(self._variable_scope, reuse=not self._first_call):
                return self._call_func(args, kwargs)
        with variable_scope(self._unique_name, self._name,
                            custom_getter=self._custom_getter) as scope:
            self._variable_scope = scope
            return self._call_func(args, kwargs)

    def _call_func(self, args: tuple, kwargs: dict) -> Any:
        try:
            if not self._variables_created:
                self._first_call = False
                try:
                    result = self._func(*args, **kwargs)
                except BaseException:
                    # TF1: a failed first call leaves the template unbuilt, so the next call
                    # creates its variables instead of reusing ones that were never made.
                    self._first_call = True
                    raise
                self._variables_created = True
                return result
            store = current_state().store
            trainable_before = len(store._collections.get(GraphKeys.TRAINABLE_VARIABLES, ()))
            result = self._func(*args, **kwargs)
            trainable = store._collections.get(GraphKeys.TRAINABLE_VARIABLES, [])
            if len(trainable) != trainable_before:
                raise TemplateError.new_trainable([r.display for r in trainable[trainable_before:]])
            return result
        except Exception as exc:
            trace = _format(_skip_common(self._stacktrace, _stack()))
            first = exc.args[0] if exc.args else ""
            exc.args = (f"{first}\n\noriginally defined at:\n{trace}",) + tuple(exc.args[1:])
            raise

    @property
    def name(self) -> str:
        return self._name

    @property
    def func(self) -> Callable:
        return self._func

    @property
    def variable_scope(self) -> Optional[VariableScope]:
        """The captured scope (None until the first call, unless ``create_scope_now_``)."""
        return self._variable_scope

    var_scope = variable_scope

    @property
    def variable_scope_name(self) -> Optional[str]:
        if self._variable_scope is None:
            return None
        name = self._variable_scope.name
        return name if not name or name[-1] == "/" else name + "/"

    def _collection(self, key: str) -> List[Any]:
        if not self._variables_created:
            return []
        return current_state().store.get_collection(key, self.variable_scope_name)

    @property
    def global_variables(self) -> List[Any]:
        return self._collection(GraphKeys.GLOBAL_VARIABLES)

    @property
    def trainable_variables(self) -> List[Any]:
        return self._collection(GraphKeys.TRAINABLE_VARIABLES)

    @property
    def non_trainable_variables(self) -> List[Any]:
        trainable = {id(v) for v in self.trainable_variables}
        return [v for v in self.global_variables if id(v) not in trainable]

    @property
    def local_variables(self) -> List[Any]:
        return self._collection(GraphKeys.LOCAL_VARIABLES)

    @property
    def variables(self) -> List[Any]:
        return self.global_variables + self.local_variables

    weights = variables
    trainable_weights = trainable_variables
    non_trainable_weights = non_trainable_variables


def _unique(name: str) -> str:
    state = current_state()
    return state.counts.unique_default(state.current.name, name)


def _capture_scope(name: str, custom_getter: Optional[Callable]) -> VariableScope:
    """TF1's ``_pure_variable_scope(name, custom_getter=...)``: enter and leave a variable scope
    without opening a name scope, keeping the scope object."""
    state = current_state()
    old = state.current
    scope = VariableScope(old.reuse, join(old.name, name), old.initializer, old.regularizer,
                          old.caching_device, old.partitioner, old.custom_getter, name,
                          old.dtype, old.use_resource)
    if custom_getter is not None:
        scope.set_custom_getter(_wrap_getter(custom_getter, old.custom_getter))
    state.counts.open(scope.name)
    state.counts.close_subscopes(scope.name)
    return scope


def make_template(name_: str, func_: Callable, create_scope_now_: bool = False,
                  unique_name_: Optional[str] = None, custom_getter_: Optional[Callable] = None,
                  **kwargs: Any) -> Template:
    """Wraps ``func_`` so its ``get_variable`` calls create on the first call and share after.

    The first call enters ``variable_scope(unique_name_, default_name=name_)`` where it is
    called (so two templates named ``"s1"`` get ``s1`` and ``s1_1``) and captures that scope;
    later calls re-enter it with ``reuse=True``. With ``create_scope_now_=True`` the scope is
    captured here instead. ``kwargs`` are bound to ``func_``. A trainable variable created after
    the first call is an error (it would not be shared); any error raised inside a call gets
    "originally defined at:" and the ``make_template`` call site appended.

    Example:
        >>> import torchscope as ts
        >>> def dense(units):
        ...     return ts.get_variable("w", [units])
        >>> with ts.ScopedParameterStore().as_default():
        ...     t1 = ts.make_template("s1", dense, units=3)
        ...     t2 = ts.make_template("s1", dense, units=3)
        ...     assert t1() is t1() and t1() is not t2()
        ...     print(t1.variable_scope.name, t2.variable_scope.name)
        s1 s1_1

    Raises:
        TemplateError: ``name_`` is None; a later call created a trainable variable.
    """
    if kwargs:
        func_ = functools.partial(func_, **kwargs)
    return Template(name_, func_, create_scope_now=create_scope_now_, unique_name=unique_name_,
                    custom_getter=custom_getter_)
