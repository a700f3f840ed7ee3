"""``guard_filter``: ``torch.compile`` without guards on torchscope's own code.

Every call of a compiled function first runs Dynamo's guards: checks that what the trace read is
still what it was. A ``ScopedModule``'s trace reads torchscope's code on the way — the modules
behind ``variable_scope`` and ``get_variable``, the classes a pass makes (and those its scope
state makes its tables of), ``get_variable``'s default arguments — and Dynamo guards each of
them, about fifteen checks per call that the plain-PyTorch model does not run (the pass is
written to read few: methods reached through objects it made, and their default arguments, cost
none). None of them can fail: torchscope never rebinds its functions or constants.
``guard_filter`` drops exactly those, and keeps everything that can change — your code and
globals, the module's parameters and state, the scope state of the running thread, torch's
global state — so a compiled module recompiles whenever it must.

Example:
    >>> import torch, torchscope as ts
    >>> net = ts.ScopedModule.wrap(lambda x: x @ ts.get_variable("w", [3, 2]), name="net")
    >>> _ = net.build(torch.ones(1, 3))
    >>> fast = torch.compile(net, fullgraph=True, options={"guard_filter_fn": ts.guard_filter})
    >>> fast(torch.ones(4, 3)).shape  # doctest: +SKIP
    torch.Size([4, 2])

``ScopedModule.compile()`` (PyTorch's in-place ``module.compile()``) passes it for you.
"""

from __future__ import annotations

import os
import re
import sys
import types
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch

__all__ = ["guard_filter", "with_guard_filter"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
# a source name: a global, then optionally one attribute ("G['x']", "G['m'].f.__code__", ...)
_SOURCE = re.compile(r"G\['([^']+)'\](?:\.(\w+))?")
_MISSING = object()


def _own_name(module_name: Any) -> bool:
    """Whether ``module_name`` names torchscope or one of its modules."""
    return isinstance(module_name, str) and (module_name == "torchscope"
                                             or module_name.startswith("torchscope."))


def _own_modules() -> Dict[str, types.ModuleType]:
    """torchscope's loaded modules, by name."""
    return {name: module for name, module in list(sys.modules.items())
            if module is not None and _own_name(name)}


def _defined_here(value: Any) -> bool:
    """A function, class, code object or module of torchscope's own."""
    if isinstance(value, types.CodeType):
        return os.path.abspath(value.co_filename).startswith(_PACKAGE)
    if isinstance(value, types.ModuleType):
        return _own_name(value.__name__)
    if isinstance(value, (types.FunctionType, type)):
        return _own_name(getattr(value, "__module__", None))
    return False


def _constant(value: Any) -> bool:
    """A value no one can change in place: torchscope's code, or an immutable constant."""
    if value is None or isinstance(value, (bool, int, float, str, torch.dtype)):
        return True
    if isinstance(value, tuple):
        return all(_constant(item) for item in value)
    return isinstance(value, (types.FunctionType, type, types.CodeType)) and _defined_here(value)


def _own_defaults() -> Dict[int, Any]:
    """The default-argument tuples of torchscope's functions, by id (kept alive by them)."""
    found: Dict[int, Any] = {}
    for module in _own_modules().values():
        for value in vars(module).values():
            functions = [value]
            if isinstance(value, type) and _defined_here(value):
                functions = list(vars(value).values())
            for function in functions:
                if isinstance(function, (staticmethod, classmethod)):
                    function = function.__func__
                if isinstance(function, types.FunctionType) and _defined_here(function):
                    for defaults in (function.__defaults__, function.__kwdefaults__):
                        if defaults:
                            found[id(defaults)] = defaults
    return found


def _droppable(entry: Any, modules: Dict[str, types.ModuleType], defaults: List[str],
               public: frozenset) -> bool:
    """Whether a guard only checks torchscope's own code or constants (see ``guard_filter``)."""
    name = entry.name
    if any(name == prefix or name.startswith(prefix + "[") for prefix in defaults):
        return True                          # an element of a torchscope function's defaults
    match = _SOURCE.match(name)
    if match is None:
        return False
    head, attribute = match.groups()
    module = modules.get(head)
    if module is not None:                   # a torchscope module, as an inlined call sees it
        if attribute is None:
            return name == match.group(0)    # the module object itself
        value = vars(module).get(attribute, _MISSING)
        if value is _MISSING:
            return False
        if entry.guard_type == "DUPLICATE_INPUT":
            return True     # "this global is that global": torchscope has no `global` statement
        rest = name[match.end():]
        if isinstance(value, types.FunctionType):
            return rest in ("", ".__code__")
        return _constant(value) and (rest == "" or isinstance(value, tuple))
    # a global of the compiled frame: torchscope's own frame (a pass) reading its private names,
    # or a constant class attribute of one of them (the classes ScopeState makes its tables of)
    if name != match.group(0) or head in public or not getattr(entry, "has_value", False):
        return False
    own = vars(sys.modules["torchscope._module"]).get(head, _MISSING)
    if attribute is None:
        return own is not _MISSING and _defined_here(entry.value)
    return (isinstance(own, type) and _defined_here(own) and _constant(entry.value)
            and vars(own).get(attribute, _MISSING) is entry.value)


def guard_filter(entries: Sequence[Any]) -> List[bool]:
    """Which of Dynamo's guards to keep: all but those on torchscope's own code and constants.

    Pass it as ``torch.compile``'s ``guard_filter_fn`` option; ``ScopedModule.compile()`` does.

    Example:
        >>> import torch, torchscope as ts
        >>> class Net(ts.ScopedModule):
        ...     def forward(self, x):
        ...         with ts.variable_scope("layer"):
        ...             return x @ ts.get_variable("w", [3, 2])
        >>> net = Net().build(torch.ones(1, 3))
        >>> fast = torch.compile(net, fullgraph=True,
        ...                      options={"guard_filter_fn": ts.guard_filter})
        >>> torch.equal(fast(torch.ones(2, 3)), net(torch.ones(2, 3)))  # doctest: +SKIP
        True

    Dropped: guards on torchscope's modules, functions, classes and module-level constants,
    on the default arguments of its functions, and Dynamo's "same object" checks between two
    names for one torchscope global. Each checks something torchscope never changes, so
    dropping it changes no result — unless a program monkeypatches torchscope's internals
    between calls of a compiled module. Kept: everything else, in particular guards on your
    code and globals (also your names for torchscope's public functions), the module's
    parameters, buffers and attributes, the thread's scope state (``variable_scope`` and
    default-store changes recompile), the profiler state, and torch's global state.

    Args:
        entries: Dynamo's ``GuardFilterEntry`` list for one compiled frame.

    Returns:
        One bool per entry: True keeps the guard.
    """
    modules = {"__import_" + name.replace(".", "_dot_"): module
               for name, module in _own_modules().items()}
    own = _own_defaults()
    defaults = [entry.name for entry in entries
                if getattr(entry, "has_value", False) and id(entry.value) in own
                and own[id(entry.value)] is entry.value
                and entry.name.endswith(("__defaults__", "__kwdefaults__"))]
    public = frozenset(getattr(sys.modules.get("torchscope"), "__all__", ()))
    return [not _droppable(entry, modules, defaults, public) for entry in entries]


def with_guard_filter(options: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """``torch.compile`` options with ``guard_filter`` added. A caller's own filter still runs:
    a guard is kept only if both keep it."""
    options = dict(options or {})
    theirs: Optional[Callable[[Sequence[Any]], Sequence[bool]]] = options.get("guard_filter_fn")
    if theirs is None:
        options["guard_filter_fn"] = guard_filter
    else:
        def both(entries: Sequence[Any]) -> List[bool]:
            return [ours and keep for ours, keep in zip(guard_filter(entries), theirs(entries))]
        options["guard_filter_fn"] = both
    return options
