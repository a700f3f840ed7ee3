"""The pass binder: how ``get_variable`` resolves names inside a ``ScopedModule`` pass.

A pass is one TF1 graph construction: TF1's rules hold within it (creating a name twice without
reuse raises), with fresh name counters, so names are the same on every call. Across passes the
module's own variables are reused: a variable the module created in its first pass is
"re-created" by the same code in a later pass, which returns the existing one. A name resolves to
the module's *current* binding of the variable — what ``_parameters``/``_buffers`` hold now, which
``torch.func.functional_call``, ``stack_module_state`` ensembles, DataParallel replicas and FSDP
may have swapped — not to the store's object.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

import torch

from ._errors import PassError
from ._getter import StoreBinder
from ._names import escape_key
from ._record import Record
from ._store import ScopedParameterStore

# whether Dynamo traces this code (a constant True in the trace): one call, where
# torch.compiler.is_compiling makes two (torch marks is_dynamo_compiling internal: if it goes,
# is_compiling answers as well)
_dynamo_compiling = getattr(torch.compiler, "is_dynamo_compiling", torch.compiler.is_compiling)

if TYPE_CHECKING:  # pragma: no cover
    from ._module import ScopedModule
    from ._state import ScopeState

__all__ = ["PassBinder", "register", "binding"]


def register(module: "ScopedModule", record: Record) -> None:
    """Puts ``record``'s parameter on ``module`` under its escaped TF name.

    Differentiable trainable variables are parameters; the rest (moving statistics, counters) are
    buffers, so optimizers never see them and ``.to()``/``state_dict``/DDP treat them as state.
    The dicts are written directly: TF names may shadow module attributes (``build``) and
    contain ``/``, which ``register_parameter`` would refuse or mangle.
    """
    key = escape_key(record.display)
    param = record.param
    is_param = param.requires_grad
    (module._parameters if is_param else module._buffers)[key] = param
    module._ts_slots[record.display] = (is_param, key)


def unregister(module: "ScopedModule", record: Record) -> None:
    slot = module._ts_slots.pop(record.display, None)
    if slot is not None:
        (module._parameters if slot[0] else module._buffers).pop(slot[1], None)


def binding(module: "ScopedModule", slot: tuple) -> Any:
    """The module's current tensor for a slot (a DataParallel replica keeps it in __dict__)."""
    found = (module._parameters if slot[0] else module._buffers).get(slot[1])
    if found is None:
        found = module.__dict__.get(slot[1])
    return found


#: Per module (by id), the eager passes' cache (``PassBinder.eager``): name -> (owned, is a
#: parameter, key, record, declared shape as a list). Kept off the module, so that copies,
#: pickles and replicas of it never carry records along; keyed by id rather than weakly by
#: module, because a WeakKeyDictionary lookup makes a weak reference each time (a third of a
#: microsecond per pass). A finalizer drops the entry when the module dies, before its id can
#: be reused.
_EAGER_HITS: Dict[int, Dict[str, tuple]] = {}


def _eager_hits(module: "ScopedModule") -> Dict[str, tuple]:
    eager = _EAGER_HITS[id(module)] = {}
    weakref.finalize(module, _EAGER_HITS.pop, id(module), None)
    return eager


class PassBinder(StoreBinder):
    """Resolves ``get_variable``/``Variable`` for one pass of one module."""

    __slots__ = ("module", "store", "state", "build", "seen", "created_records", "cached",
                 "_candidate", "params", "buffers", "_hits", "eager")

    # ``_compiling`` (like ScopeState's private defaults): a global bound when the class is made,
    # which a pass traced by torch.compile reads without a guard (it makes its binder itself).
    def __init__(self, module: "ScopedModule", store: ScopedParameterStore, build: bool, *,
                 _compiling: Callable[[], bool] = _dynamo_compiling) -> None:
        self.module = module
        self.store = store
        self.state: Optional["ScopeState"] = None
        self.build = build
        # names "created" (or re-created) in this pass, a dict used as a set: a literal, where
        # set() would cost a compiled call a guard on the builtin's name
        self.seen: Dict[str, None] = {}
        self.created_records: List[Record] = []  # new in this pass: rolled back if it fails
        self.cached: Dict[tuple, Any] = {}      # caching_device copies, once per pass
        self._candidate: Optional[str] = None
        # looked up once per pass for the fast path (these dict objects never change identity;
        # under torch.compile every attribute read here is a guard, so only these few)
        self.params = module._parameters
        self.buffers = module._buffers
        if module._ts_hits_generation != store._generation:   # a variable was removed
            module._ts_hits = {}
            module._ts_hits_generation = store._generation
            _EAGER_HITS.get(id(module), {}).clear()
        self._hits = module._ts_hits
        # What get_variable calls for an existing name: traced code reads as little as possible
        # (fast; ``eager`` is None). Eager code keeps Python objects at hand in ``eager``, which
        # get_variable reads inline, and calls ``fast_eager`` when that does not answer.
        self.eager: Optional[Dict[str, tuple]] = None
        if not _compiling():
            eager = _EAGER_HITS.get(id(module))
            self.eager = eager if eager is not None else _eager_hits(module)

    # -- the fast path: an existing variable, no getter/partitioner/caching involved
    def fast(self, full_name: str, shape: Any, dtype: Any, reuse: Any) -> Any:
        """The module's binding of an existing variable, or None to take the full path (which
        also raises the right error when something does not match).

        What a name resolves to is cached on the module across passes as one short string —
        ``"P"``/``"B"`` (parameter or buffer), ``"o"``/``"s"`` (owned by this module, or
        shared from elsewhere), then the key — because ``torch.compile`` guards every value
        the traced code reads: one string is one guard. The binding is read afresh every time,
        and the shape and dtype are checked against it.
        """
        hit = self._hits.get(full_name)
        if hit is None:
            hit = self._resolve(full_name)
            if hit is None:
                return None
        owned = hit[1] == "o"
        seen = self.seen
        if reuse is False and (not owned or full_name in seen):
            return None
        key = hit[2:]
        found = (self.params if hit[0] == "P" else self.buffers).get(key)
        if found is None:
            found = self.module.__dict__.get(key)       # a DataParallel replica
            if found is None:
                return None
        if dtype is not found.dtype:
            return None
        # a list (as TF1 code spells shapes) or a tuple; compared with a list display, where
        # list() or a class check would cost a compiled call a guard on a builtin's name
        if shape is not None and shape != [*found.shape] and shape != found.shape:
            return None
        if full_name not in seen:
            self._first_use(full_name, owned)
        if self.build:
            self._count(self.store._registry[full_name].display)
        return found

    def fast_eager(self, full_name: str, shape: Any, dtype: Any, reuse: Any) -> Any:
        """``fast`` for eager passes, which also keeps what a name resolves to in ``eager``.

        ``get_variable`` answers the common case from ``eager`` itself, inline: the module
        still binds the variable's own object, so the request is checked against the declared
        shape and dtype (reading ``.shape`` off a tensor costs more than that whole check).
        Everything else comes here: a name's first resolution, a swapped binding
        (``functional_call``, replicas: ``fast`` checks the request against the binding
        itself), a mismatch (None: the general path raises the right error)."""
        found = self.fast(full_name, shape, dtype, reuse)
        eager = self.eager          # not None: get_variable calls this in eager passes only
        if found is not None and full_name not in eager:
            code = self._hits[full_name]
            record = self.store._registry[full_name]
            eager[full_name] = (code[1] == "o", code[0] == "P", code[2:], record,
                                list(record.shape))
        return found

    def _first_use(self, full_name: str, owned: bool) -> None:
        """A name's first use in this pass: later uses without reuse are "already exists", and
        a variable the module created is re-created by name, so that the pass's op names come
        out as in the first pass."""
        self.seen[full_name] = None
        if owned:
            self.state.root_name(full_name)  # type: ignore[union-attr]

    def _resolve(self, full_name: str) -> Optional[str]:
        record = self.store._registry.get(full_name)
        if record is None or record.partitions is not None:
            return None
        module = self.module
        slot = module._ts_slots.get(record.display)
        if slot is None:
            return None
        owned = full_name in module._ts_owned
        hit = ("P" if slot[0] else "B") + ("o" if owned else "s") + slot[1]
        self._hits[full_name] = hit
        return hit

    # -- StoreBinder protocol
    def visible(self, record: Record) -> bool:
        name = record.name
        return name in self.seen or name not in self.module._ts_owned

    def _count(self, display: str) -> None:
        uses = self.module._ts_uses
        uses[display] = uses.get(display, 0) + 1

    def bind(self, record: Record) -> Any:
        name = record.name
        if name is None:
            self.seen[record.display] = None
        elif name not in self.seen:
            self.seen[name] = None
            if name in self.module._ts_owned:     # re-created by name, as the first pass did
                self.state.root_name(name)  # type: ignore[union-attr]
        if self.build:
            self._count(record.display)
        module = self.module
        slot = module._ts_slots.get(record.display)
        if slot is None:
            register(module, record)
            slot = module._ts_slots[record.display]
        return binding(module, slot)

    def current_dtype(self, store: ScopedParameterStore, record: Record) -> Any:
        slot = self.module._ts_slots.get(record.display)
        return binding(self.module, slot).dtype if slot is not None else record.param.dtype

    def check_create(self, name: str, trainable: bool) -> None:
        if trainable and not self.build:
            raise PassError.new_trainable(name, self.module._ts_describe())

    def place(self, value: torch.Tensor) -> torch.Tensor:
        """Converted as ``.to()`` & co. converted the module before the variable existed."""
        placement = self.module._ts_placement
        return placement.apply(value) if placement is not None else value

    def created(self, record: Record) -> None:
        module = self.module
        self.created_records.append(record)
        if record.name is not None:
            module._ts_owned.add(record.name)
            self.seen[record.name] = None
        elif self._candidate is not None:
            module._ts_variables[self._candidate] = record.display
        register(module, record)

    def display(self, store: ScopedParameterStore, name: str) -> str:
        # TF names the variable in the pass's fresh registry; the store keeps display names
        # unique across modules and passes.
        return store.unique_display(self.state.root_name(name))  # type: ignore[union-attr]

    def lookup_variable(self, display: str) -> Any:
        self._candidate = display
        known = self.module._ts_variables.get(display)
        record = self.store._records.get(known) if known is not None else None
        return self.bind(record) if record is not None else None

    def variable_display(self, store: ScopedParameterStore, candidate: str) -> str:
        return store.unique_display(candidate)

    def cache(self, value: Any, record: Optional[Record], device: torch.device) -> Any:
        key = (record.display if record is not None else id(value), device)
        copy = self.cached.get(key)
        if copy is None:
            copy = self.cached[key] = value.to(device)
        return copy

    def resolve(self, record: Record) -> Any:
        """A collection item: the module's binding if it has one, else the store's object."""
        slot = self.module._ts_slots.get(record.display)
        return binding(self.module, slot) if slot is not None else record.param

    def rollback(self) -> None:
        """Removes every variable this (failed) pass created, from the store and the module."""
        module = self.module
        module._ts_hits.clear()
        for record in reversed(self.created_records):
            unregister(module, record)
            if record.name is not None:
                module._ts_owned.discard(record.name)
            for candidate, display in list(module._ts_variables.items()):
                if display == record.display:
                    del module._ts_variables[candidate]
            self.store.remove(record)
        self.created_records.clear()
