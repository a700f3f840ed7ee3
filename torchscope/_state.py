"""``ScopeState``: one thread's scope state in one store, and its replay of earlier passes.

TF1 keeps the current variable scope, the ``default_name`` counters and the name stack per graph
and per thread; here they live per store and per thread (``current_state``), and a
``ScopedModule`` pass gets a fresh one. The state is reached through a ``threading.local`` —
not a ``ContextVar``, whose reads break ``torch.compile(fullgraph=True)``.

Example:
    >>> import torchscope as ts
    >>> from torchscope._state import current_state
    >>> with ts.ScopedParameterStore().as_default():
    ...     with ts.variable_scope("tower"):
    ...         state = current_state()
    ...         print(state.current.name, state.name_stack, state.binder)
    tower tower None
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

from ._names import OpNames, ScopeCounts
from ._scope_object import _ROOT_DEFAULTS, _ROOT_DTYPE, VariableScope
from ._store import ScopedParameterStore, _thread, get_default_store

__all__ = ["ENTER", "ENTER_DEFAULT", "EXIT", "ROOT_NAME", "ScopeState", "current_state",
           "state_of"]


class ScopeState:
    """One thread's scope state in one store (or in one ScopedModule pass).

    ``op_names`` is the store's registry (shared by threads, so used under the store's lock) or,
    in a pass, a fresh one; ``binder`` is the pass's binding resolver, None outside passes.

    Replay (passes only). A pass records the everyday scope entries and exits it makes — by
    name, with a name scope, no defaults — until anything else touches the counters or the
    op-name registry. The next pass of the module, running the same code, replays that record:
    each entry is checked against it and takes the recorded names instead of recomputing them,
    and the counters and registry are left untouched. The first time anything differs, or
    anything else asks for ``counts`` or ``op_names``, the recorded steps so far are applied to
    them (``_materialize``) and the pass goes on the ordinary way, so results never differ.
    A record ends with ``END_OF_PASS``, a step that matches nothing, so that ``replay[pos]`` is
    always there to compare with.
    """

    __slots__ = ("store", "root", "current", "_counts", "name_stack", "_op_names", "binder",
                 "shared_op_names", "creators", "replay", "pos", "record", "traced")

    # What a pass's state is built from, read so that plain torch.compile guards little: every
    # module global a traced frame reads is a guard evaluated on each compiled call (see
    # _compile). The private keyword-only defaults of __init__ are globals bound when the class
    # is made; a traced pass makes its ScopeState itself, and Dynamo reads the defaults of
    # methods reached through such an object without a guard. The tables' classes are class
    # attributes instead (Dynamo cannot call a class it reached through a default): each a
    # guard under ScopeState, which the pass's call already guards, in place of one under this
    # module. The five, as globals, cost a guard check 2.4k of its 34k instructions.
    _COUNTS = ScopeCounts
    _OP_NAMES = OpNames

    def __init__(self, store: ScopedParameterStore, binder: Any = None,
                 replay: Optional[List[tuple]] = None, traced: bool = False, *,
                 _scope_class: type = VariableScope, _root_defaults: tuple = _ROOT_DEFAULTS,
                 _root_dtype: Any = _ROOT_DTYPE) -> None:
        self.store = store
        # a fresh root scope: name "", reuse False, float32, no defaults (built slot by slot, as
        # _child_scope builds scopes: a state is made for every pass)
        root = self.root = self.current = _scope_class.__new__(_scope_class)
        root._name = root._name_scope = ""
        root._reuse = False
        root._defaults = _root_defaults
        root._plain_dtype = _root_dtype         # _ROOT_DEFAULTS is PLAIN
        root._constraint = None
        self.name_stack = ""
        # outside passes: the store's registry; in a pass: fresh counters and registry, made
        # on first use (a replayed pass never needs them)
        self.shared_op_names = binder is None
        self._counts: Optional[ScopeCounts] = ScopeCounts() if binder is None else None
        self._op_names: Optional[OpNames] = store._op_names if binder is None else None
        self.binder = binder
        self.creators: List[Callable] = []   # variable_creator_scope stack, outermost first
        self.replay = replay                 # the previous pass's record, while it matches
        self.pos = 0
        # a pass being traced by torch.compile: it records nothing, and its scope entries skip
        # the profiler check, whose flag the trace would otherwise guard (and recompile on when
        # a profiler starts)
        self.traced = traced
        # this pass's record (eager passes only); None once something else touched the counters
        self.record: Optional[List[tuple]] = [] if binder is not None and not traced else None

    @property
    def counts(self) -> ScopeCounts:
        return self._tables_for_general_use()[0]

    @property
    def op_names(self) -> OpNames:
        return self._tables_for_general_use()[1]

    def _tables_for_general_use(self) -> Tuple[ScopeCounts, OpNames]:
        """The tables, for anything other than an everyday scope entry: replay gives way (its
        steps so far are applied) and this pass stops recording."""
        if self.replay is not None:
            self._materialize()
        self.record = None
        return self._tables()

    def _tables(self) -> Tuple[ScopeCounts, OpNames]:
        """The counters and the op-name registry, made on first use in a pass."""
        if self._counts is None:
            self._counts, self._op_names = self._COUNTS(), self._OP_NAMES()
        return self._counts, self._op_names  # type: ignore[return-value]

    def _materialize(self) -> None:
        """Applies the replayed steps to the counters and registry, and stops replaying."""
        steps, self.replay = self.replay[:self.pos], None  # type: ignore[index]
        if self.record is not None:
            # this pass made exactly the replayed steps so far: its own record starts with them
            # (a record must begin at the start of a pass to be replayed from there)
            self.record = list(steps)
        counts, used = self._tables()
        for step in steps:
            kind = step[0]
            if kind is ENTER or kind is ENTER_DEFAULT:
                stack, full = step[2], step[3]
                if not step[1].endswith("/"):
                    used.unique(stack, step[1])
                counts.open(full)
            elif kind is EXIT:
                if step[1] in counts._children:
                    counts.close_subscopes(step[1])
            else:
                used.unique("", step[1])

    def exit_scope(self, full_name: str) -> None:
        """The exit of an everyday scope entry that is not replayed (``variable_scope.__exit__``
        replays inline): it ends any replay, and is recorded and applied to the counters."""
        if self.replay is not None:
            self._materialize()
        counts = self._tables()[0]
        if full_name in counts._children:
            counts.close_subscopes(full_name)
        record = self.record
        if record is not None:
            record.append((EXIT, full_name))

    def root_name(self, name: str) -> str:
        """Registers a variable's name at the root of the op-name registry, as TF1 does when it
        creates the variable (a pass re-creating it by name does so too, so that later names
        come out as in the first pass); returns the unique name. Replayable."""
        replay = self.replay
        if replay is not None:
            step = replay[self.pos]
            if step[0] is ROOT_NAME and step[1] == name:
                self.pos += 1
                return step[2]
            self._materialize()
        result = self._tables()[1].unique("", name)
        if self.record is not None:
            self.record.append((ROOT_NAME, name, result))
        return result

    def unique_name(self, name: str) -> str:
        """A unique op/name-scope name under the current name stack."""
        if self.shared_op_names:
            with self.store._lock:
                return self.store.unique_op_name(self.name_stack, name)
        return self.op_names.unique(self.name_stack, name)


# the kinds of replay steps
ENTER, ENTER_DEFAULT, EXIT, ROOT_NAME = "enter", "enter default", "exit", "root name"
#: The last step of every record: it matches no step a pass makes.
END_OF_PASS = ("end of pass",)


def current_state() -> ScopeState:
    """This thread's scope state in the default store (created at the root on first use).

    The answer is cached per thread (``as_default`` and passes keep the cache right), because
    every ``variable_scope`` and ``get_variable`` starts here.
    """
    defaults = _thread.defaults
    state = defaults.state
    if state is not None and not state.store._retired:
        return state
    state = defaults.state = state_of(get_default_store())
    return state


def state_of(store: ScopedParameterStore) -> ScopeState:
    """This thread's scope state in ``store``: the innermost running pass over it (so that
    ``with store.as_default():`` inside a pass stays in the pass, as in TF1, where scope state
    belongs to the graph), else the store's own state for this thread, made at the root on first
    use."""
    for entry in reversed(_thread.defaults.stack):
        if entry.__class__ is ScopeState and entry.store is store:
            return entry
    state = store._local.scope
    if state is None:
        state = store._local.scope = ScopeState(store)
    return state
