"""``ScopedParameterStore``: the objects behind the names.

The store is TF1's graph as far as variables go: the ``get_variable`` registry (full scoped name →
variable), every variable's display name (what TF1 prints as ``v.name``, here without ``:0``),
collections, regularizers, and the op-name registry that uniquifies name scopes. It is a plain
object — it knows nothing of scopes or modules — shared by all threads and guarded by one lock.

Example:
    >>> import torch, torchscope as ts
    >>> store = ts.ScopedParameterStore()
    >>> with store.as_default():
    ...     with ts.variable_scope("tower"):
    ...         w = ts.get_variable("w", [2, 3])
    >>> store["tower/w"] is w, store.name_of(w), len(store)
    (True, 'tower/w', 1)
    >>> sorted(store.state_dict())
    ['tower/w']
"""

from __future__ import annotations

import contextlib
import re
import threading
import weakref
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import nn

from ._errors import ScopeNestingError, StateDictError
from ._names import OpNames
from ._record import Record

__all__ = ["ScopedParameterStore", "get_default_store", "GraphKeys"]


class GraphKeys:
    """TF1's standard collection names (``tf.compat.v1.GraphKeys``)."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SUMMARIES = "summaries"
    GLOBAL_STEP = "global_step"
    CONCATENATED_VARIABLES = "concatenated_variables"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    # TF1's old spelling
    VARIABLES = GLOBAL_VARIABLES


class _StoreLocal(threading.local):
    """A store's per-thread slots: its scope state outside ``ScopedModule`` passes (owned by
    ``_state.state_of``) and the undo log of the open transaction. Every thread starts with both
    empty."""

    def __init__(self) -> None:
        self.scope: Any = None
        self.undo: Optional[List[Callable[[], Any]]] = None


class _ThreadDefaults:
    """One thread's stack of defaults and its current scope state.

    ``stack`` holds the defaults, innermost last: a ``ScopedParameterStore`` for each open
    ``as_default()`` block and a ``ScopeState`` for each running ``ScopedModule`` pass (the pass's
    store is the default while it runs). ``state`` caches ``_state.current_state()`` (None:
    recompute). Both are slots holding immutable values, because ``torch.compile`` replays a
    compiled pass's writes to them after the graph runs: a slot write replays as one attribute
    store, whereas a write to an attribute of a ``threading.local`` (or any ``__dict__``) replays
    through a helper function, which costs about 1.5 µs per write on every compiled call.
    """

    __slots__ = ("stack", "state")

    def __init__(self) -> None:
        self.stack: Tuple[Any, ...] = ()
        self.state: Any = None


class _PerThread(threading.local):
    """Gives each thread its own :class:`_ThreadDefaults` (like TF1's default-graph stack, each
    thread starts with the process-wide default store)."""

    def __init__(self) -> None:
        self.defaults = _ThreadDefaults()


_thread = _PerThread()


class ScopedParameterStore:
    """Variables by scoped name, with TF1's collections; thread-safe.

    A store plays the part of a ``tf.Graph``: ``with store.as_default():`` makes the module-level
    functions (``ts.get_variable``, ``ts.get_collection``, ...) use it. A process-wide default
    store exists, so TF1 code runs without one. Scope state (the current ``variable_scope``,
    ``default_name`` counters) is per thread and per store; variables are shared by all threads.

    Example:
        >>> import torchscope as ts
        >>> store = ts.ScopedParameterStore()
        >>> with store.as_default():
        ...     a = ts.get_variable("a", [1])
        ...     b = ts.get_variable("b", [1], trainable=False)
        >>> [store.name_of(v) for v in store.trainable_variables()]
        ['a']
        >>> [store.name_of(v) for v in store.global_variables()]
        ['a', 'b']

    Args:
        device: where new variables are created; default: ``torch.get_default_device()`` at
            creation time (so ``with torch.device("cuda"):`` works like ``tf.device``).
    """

    def __init__(self, *, device: Any = None) -> None:
        self._lock = threading.RLock()
        self._registry: Dict[str, Record] = {}      # get_variable name -> record
        self._records: Dict[str, Record] = {}       # display name -> record, creation order
        # id(param) -> record, built on the first lookup (a model being built never asks)
        self._by_id: Optional[Dict[int, Record]] = None
        self._collections: Dict[str, List[Any]] = {}
        self._regularized: List[Record] = []
        self._op_names = OpNames()
        self._retired = False                       # set when reset_default_graph replaces it
        self._generation = 0                        # counts removals (modules' caches check it)
        self._local = _StoreLocal()                 # per-thread scope state and undo log
        # Objects binding these variables (ScopedModules), kept weakly so that re-tying after a
        # conversion can reach every sharer; the store never looks inside them.
        self._bound: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self.device = torch.device(device) if device is not None else None

    # ------------------------------------------------------------------ default store
    def as_default(self) -> "contextlib.AbstractContextManager[ScopedParameterStore]":
        """Makes this store the default in this thread, like ``tf.Graph().as_default()``.

        Example:
            >>> import torchscope as ts
            >>> store = ts.ScopedParameterStore()
            >>> with store.as_default():
            ...     ts.get_default_store() is store
            True
        """
        return _AsDefault(self)

    def get_variable(self, name: str, shape: Any = None, dtype: Any = torch.float32,
                     initializer: Any = None, regularizer: Optional[Callable] = None,
                     reuse: Any = None, trainable: Optional[bool] = None,
                     collections: Optional[Sequence[str]] = None, caching_device: Any = None,
                     partitioner: Optional[Callable] = None, validate_shape: bool = True,
                     use_resource: Optional[bool] = None, custom_getter: Optional[Callable] = None,
                     constraint: Optional[Callable] = None, synchronization: Any = None,
                     aggregation: Any = None) -> Any:
        """TF1's ``_VariableStore.get_variable``: by absolute name, no scope involved.

        ``reuse=None`` behaves as ``AUTO_REUSE`` (get or create), ``False`` only creates,
        ``True`` only reuses. Module-level ``ts.get_variable`` adds the scope's prefix and
        defaults on top of this.

        Example:
            >>> import torchscope as ts
            >>> store = ts.ScopedParameterStore()
            >>> v = store.get_variable("v", [1])
            >>> store.get_variable("v", [1]) is v, store.get_variable("v", reuse=True) is v
            (True, True)
        """
        from ._getter import STORE_BINDER, get_variable
        from ._state import state_of

        # Inside a ScopedModule pass over this store, the pass resolves and registers the
        # variable as ts.get_variable would (else the module would never see it).
        binder = state_of(self).binder or STORE_BINDER
        with self.transaction():
            return get_variable(self, name, shape, dtype, initializer, regularizer, reuse,
                                trainable, collections, caching_device, partitioner,
                                validate_shape, use_resource, custom_getter, constraint,
                                synchronization, aggregation, binder)

    # ------------------------------------------------------------------ mapping protocol
    def __getitem__(self, name: str) -> nn.Parameter:
        record = self._registry.get(name) or self._records.get(name)
        if record is None:
            raise StateDictError.make(
                f"No variable named {name!r} in this store.",
                fix="names are full scoped names without ':0', e.g. 'tower/conv1/w'; "
                    "list(store) shows them.")
        return self.current(record)

    def __contains__(self, name: object) -> bool:
        return name in self._registry or name in self._records

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._records))

    def __repr__(self) -> str:
        return f"<ScopedParameterStore with {len(self)} variables>"

    def name_of(self, param: Any) -> str:
        """The TF name of a variable this store holds (``"tower/w"``, no ``:0``).

        Raises:
            StateDictError: ``param`` is not a variable of this store.
        """
        record = self.record_of(param)
        if record is None:
            raise StateDictError.make(
                "The tensor passed to name_of is not a variable of this store.",
                why="name_of knows the objects the store created (after .to() in overwrite "
                    "mode, the re-tied objects).",
                fix="pass a parameter returned by ts.get_variable / ts.Variable for this store.")
        return record.display

    def record_of(self, param: Any) -> Optional[Record]:
        record = self._ids().get(id(param))
        if record is None and self._bound:
            self.sync()         # a module may hold an object the store has not adopted yet
            record = self._ids().get(id(param))
        return record if record is not None and record.param is param else None

    def _ids(self) -> Dict[int, Record]:
        """``id(param) -> record``, indexed on first use and kept up to date from then on."""
        by_id = self._by_id
        if by_id is None:
            with self._lock:
                by_id = self._by_id = {id(r.param): r for r in self._records.values()}
        return by_id

    def current(self, record: Record) -> Any:
        """The variable's canonical object, adopting the one the modules now register.

        PyTorch can replace a module's parameter objects without telling anyone (FSDP2's
        ``fully_shard`` installs sharded DTensor parameters); whatever the binding modules
        register outside their own forward passes is the variable from then on.
        """
        for holder in list(self._bound):
            found = holder._ts_current(record.display)
            if found is not None:
                if found is not record.param:
                    self.replace(record, found)
                break
        return record.param

    def sync(self) -> None:
        """:meth:`current` for every variable."""
        if self._bound:
            for record in list(self._records.values()):
                self.current(record)

    def records(self) -> List[Record]:
        """Every variable's record, in creation order."""
        self.sync()
        return list(self._records.values())

    # ------------------------------------------------------------------ collections
    def get_collection(self, key: str, scope: Optional[str] = None,
                       resolve: Optional[Callable[[Record], Any]] = None) -> List[Any]:
        """TF1's ``get_collection``: items in insertion order; ``scope`` is a regex matched
        (``re.match``, so a prefix) against each item's name; items without a name are dropped
        when a scope is given.

        ``REGULARIZATION_LOSSES`` holds losses computed now from the variables' current values.
        ``resolve`` maps a variable's record to what is returned (default: the parameter).
        """
        self.sync()
        items = self._collections.get(key, ())
        if key == GraphKeys.REGULARIZATION_LOSSES:
            return self.regularization_losses(scope, resolve) + self._filter(items, scope, resolve)
        return self._filter(items, scope, resolve)

    def _filter(self, items: Sequence[Any], scope: Optional[str],
                resolve: Optional[Callable[[Record], Any]] = None) -> List[Any]:
        regex = re.compile(scope) if scope is not None else None
        out = []
        for item in items:
            if isinstance(item, Record):
                if regex is None or regex.match(item.display):
                    out.append(item.param if resolve is None else resolve(item))
            elif regex is None:
                out.append(item)
            else:
                name = getattr(item, "name", None)
                if isinstance(name, str) and regex.match(name):
                    out.append(item)
        return out

    def add_to_collection(self, key: str, value: Any) -> None:
        """Appends ``value`` to collection ``key`` (a variable of this store is kept by name, so
        it follows re-ties)."""
        record = self.record_of(value)
        item = record if record is not None else value
        with self._lock:
            items = self._collections.setdefault(key, [])
            items.append(item)
            self.log_undo(lambda: _remove_identical(items, item))

    def trainable_variables(self, scope: Optional[str] = None) -> List[nn.Parameter]:
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)

    def global_variables(self, scope: Optional[str] = None) -> List[nn.Parameter]:
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES, scope)

    def local_variables(self, scope: Optional[str] = None) -> List[nn.Parameter]:
        return self.get_collection(GraphKeys.LOCAL_VARIABLES, scope)

    def model_variables(self, scope: Optional[str] = None) -> List[nn.Parameter]:
        return self.get_collection(GraphKeys.MODEL_VARIABLES, scope)

    def regularization_losses(self, scope: Optional[str] = None,
                              resolve: Optional[Callable[[Record], Any]] = None) -> List[torch.Tensor]:
        """Regularizer outputs computed now, from current values (PyTorch re-runs forward every
        step, so a loss captured at creation would be stale).

        Example:
            >>> import torchscope as ts
            >>> store = ts.ScopedParameterStore()
            >>> with store.as_default():
            ...     w = ts.get_variable("w", initializer=[3.0, 4.0],
            ...                         regularizer=ts.regularizers.l2(1.0))
            >>> store.regularization_losses()[0].item()
            12.5
        """
        self.sync()
        regex = re.compile(scope) if scope is not None else None
        out = []
        for record in self._regularized:
            if regex is not None and not regex.match(record.display + "/Regularizer/"):
                continue
            value = resolve(record) if resolve is not None else record.param
            loss = record.regularizer(value)
            if loss is not None:
                out.append(loss)
        return out

    # ------------------------------------------------------------------ state dict
    def state_dict(self) -> Dict[str, torch.Tensor]:
        """Every variable by TF name, detached (like ``nn.Module.state_dict``)."""
        self.sync()
        return {name: record.param.detach() for name, record in self._records.items()}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> None:
        """Copies values in place (ties and optimizer references survive).

        Everything is checked before anything is copied: a failed call changes no variable.

        Raises:
            StateDictError: with ``strict``, missing or unexpected keys; always, a shape that
                differs from the variable's.
        """
        self.sync()
        missing = [name for name in self._records if name not in state_dict]
        unexpected = [name for name in state_dict if name not in self._records]
        if strict and (missing or unexpected):
            raise StateDictError.make(
                "Error(s) in loading state_dict for ScopedParameterStore: "
                f"missing keys {missing}, unexpected keys {unexpected}.",
                fix="pass strict=False to load a subset, or rename the keys to the store's TF "
                    "names (list(store)).")
        pairs = []
        for name, value in state_dict.items():
            record = self._records.get(name)
            if record is None:
                continue
            value = torch.as_tensor(value)
            if tuple(value.shape) != tuple(record.param.shape):
                raise StateDictError.make(
                    f"Size mismatch for {name}: copying a value of shape "
                    f"{tuple(value.shape)}, the variable has shape {tuple(record.param.shape)}.",
                    fix="load a state dict saved from the same model.")
            pairs.append((record.param, value))
        with torch.no_grad():
            for param, value in pairs:
                param.copy_(value)

    def apply_constraints(self) -> None:
        """Runs every variable's ``constraint`` on it, in place (call after ``optimizer.step()``,
        which is where TF's optimizers apply them)."""
        self.sync()
        with torch.no_grad():
            for record in self._records.values():
                if record.constraint is not None:
                    record.param.copy_(record.constraint(record.param))

    def creation_device(self) -> Any:
        """A context in which new variables' values are made (the store's device, if set)."""
        return self.device if self.device is not None else contextlib.nullcontext()

    # ------------------------------------------------------------------ mutation (internal)
    def log_undo(self, action: Callable[[], Any]) -> None:
        """Records how to undo a mutation, while a transaction is open in this thread."""
        log = self._local.undo
        if log is not None:
            log.append(action)

    def transaction(self) -> "_Transaction":
        """A block in which everything this thread adds to the store is removed again if the
        block raises, so a failed call leaves the store exactly as before (nested blocks join
        the outer one)."""
        return _Transaction(self._local, self._lock)

    def add(self, record: Record) -> Record:
        """Registers a new variable (the caller holds the lock and has validated everything)."""
        name = record.name
        if name is not None:
            self._registry[name] = record
        self._records[record.display] = record
        if self._by_id is not None:
            self._by_id[id(record.param)] = record
        collections = self._collections
        for key in record.collections:
            if key in collections:
                collections[key].append(record)
            else:
                collections[key] = [record]
        undo = self._local.undo
        if undo is not None:
            undo.append(lambda: self.remove(record))
        return record

    def add_regularizer(self, record: Record) -> None:
        self._regularized.append(record)
        self.log_undo(lambda: _remove_identical(self._regularized, record))

    def unique_op_name(self, stack: str, name: str) -> str:
        """The graph's ``unique_name`` for ``stack/name`` (undone if the transaction fails)."""
        if self._local.undo is None:
            return self._op_names.unique(stack, name)
        journal: List[Tuple[str, Optional[int]]] = []
        result = self._op_names.unique(stack, name, journal=journal)
        self.log_undo(lambda: self._op_names.undo(journal))
        return result

    def unique_display(self, candidate: str) -> str:
        """A display name for a variable named ``candidate`` in a fresh registry (a module pass):
        ``candidate`` itself unless this store already uses it, else TF's next free suffix."""
        if candidate in self._records:
            return self.unique_op_name("", candidate)
        self.unique_op_name("", candidate)
        return candidate

    def replace(self, record: Record, param: nn.Parameter) -> None:
        """Makes ``param`` the canonical object of ``record`` (after a re-tie)."""
        with self._lock:
            by_id = self._by_id
            if by_id is not None:
                by_id.pop(id(record.param), None)
                by_id[id(param)] = record
            record.param = param

    def remove(self, record: Record) -> None:
        """Forgets a variable entirely (a failed build pass rolls back through this)."""
        with self._lock:
            self._generation += 1
            if record.name is not None and self._registry.get(record.name) is record:
                del self._registry[record.name]
            if self._records.get(record.display) is record:
                del self._records[record.display]
            if self._by_id is not None:
                self._by_id.pop(id(record.param), None)
            for items in self._collections.values():
                _remove_identical(items, record)
            _remove_identical(self._regularized, record)

    # ------------------------------------------------------------------ copying
    def __deepcopy__(self, memo: Dict[int, Any]) -> "ScopedParameterStore":
        import copy

        clone = ScopedParameterStore.__new__(ScopedParameterStore)
        memo[id(self)] = clone
        clone._lock = threading.RLock()
        clone._local = _StoreLocal()
        clone._retired = False
        clone._generation = self._generation
        clone._bound = weakref.WeakSet()   # the copied modules re-join in __setstate__
        clone.device = self.device
        clone._op_names = self._op_names.copy()
        records = {id(r): copy.deepcopy(r, memo) for r in self._records.values()}
        clone._records = {r.display: records[id(r)] for r in self._records.values()}
        clone._registry = {name: records[id(r)] for name, r in self._registry.items()}
        clone._by_id = None
        clone._collections = {key: [records.get(id(i)) or copy.deepcopy(i, memo) for i in items]
                              for key, items in self._collections.items()}
        clone._regularized = [records[id(r)] for r in self._regularized]
        return clone

    def __getstate__(self) -> Dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"], state["_local"], state["_bound"], state["_by_id"]
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._local = _StoreLocal()
        self._bound = weakref.WeakSet()
        self._by_id = None      # object ids change across pickling: indexed afresh on use


class _Transaction:
    """The undo log of :meth:`ScopedParameterStore.transaction` (a class: it runs per call)."""

    __slots__ = ("_local", "_lock", "_outer")

    def __init__(self, local: threading.local, lock: Any) -> None:
        self._local = local
        self._lock = lock

    def __enter__(self) -> None:
        local = self._local
        self._outer = local.undo is not None
        if not self._outer:
            local.undo = []

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._outer:
            return
        local = self._local
        log, local.undo = local.undo, None
        if exc_type is not None:
            with self._lock:
                while log:
                    log.pop()()


def _remove_identical(items: List[Any], obj: Any) -> None:
    """Removes every occurrence of ``obj`` by identity (``list.remove`` would call ``==``, which
    tensors answer elementwise)."""
    items[:] = [item for item in items if item is not obj]


class _AsDefault:
    __slots__ = ("_store",)

    def __init__(self, store: ScopedParameterStore) -> None:
        self._store = store

    def __enter__(self) -> ScopedParameterStore:
        defaults = _thread.defaults
        defaults.stack += (self._store,)
        defaults.state = None
        return self._store

    def __exit__(self, *exc: Any) -> None:
        defaults = _thread.defaults
        stack = defaults.stack
        if not stack or stack[-1] is not self._store:
            raise ScopeNestingError.other("Improper nesting of ScopedParameterStore.as_default().")
        defaults.stack = stack[:-1]
        defaults.state = None


_DEFAULT_STORE = ScopedParameterStore()


def get_default_store() -> ScopedParameterStore:
    """The store module-level functions use in this thread (``tf.get_default_graph()``).

    Example:
        >>> import torchscope as ts
        >>> isinstance(ts.get_default_store(), ts.ScopedParameterStore)
        True
    """
    stack = _thread.defaults.stack
    if not stack:
        return _DEFAULT_STORE
    top = stack[-1]
    return top if isinstance(top, ScopedParameterStore) else top.store   # a pass: its store
