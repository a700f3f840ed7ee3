"""``ScopedModule``: TF1-style forward passes as a first-class ``nn.Module``.

Write ``forward`` as TF1 code — ``variable_scope``, ``get_variable``, ``reuse=True`` — and the
module behaves like any PyTorch module: parameters, ``state_dict``, ``.to()``, optimizers,
``torch.compile``, ``functional_call``, DDP and FSDP. The problem it solves: TF1 code builds its
variables while it runs, whereas PyTorch modules own their parameters up front.

How it works:

1. One ``forward`` call is one *pass* — one TF1 graph construction. TF1's rules hold within it;
   ``default_name`` and ``ts.Variable`` counters start afresh each pass, so names are stable.
2. The first pass (the first call, or ``module.build(*example_inputs)``) creates the variables in
   the module's store and registers them on the module under their TF names (``state_dict`` keys
   are TF names; a ``.`` is escaped as ``%2E``). Build before creating the optimizer, before
   ``torch.compile`` and before DDP/FSDP wrapping, as with PyTorch's lazy modules.
3. Later passes reuse the variables by name, resolving each to the module's *current* binding,
   so anything in PyTorch that swaps parameters keeps working. A new trainable variable in a later
   pass is an error (an optimizer built after the first call would never see it).
4. Modules built on one store share its variables: they register the same ``Parameter`` objects,
   and a parent yields each once from ``parameters()``. Ties survive ``.to()``/``.half()`` in
   every ``torch.__future__`` mode, ``to_empty()`` and ``load_state_dict(assign=True)``: after each,
   every sharer and the store hold one object again.

Example:
    >>> import torch, torchscope as ts
    >>> class Siamese(ts.ScopedModule):
    ...     def tower(self, x, reuse):
    ...         with ts.variable_scope("tower", reuse=reuse):
    ...             w = ts.get_variable("w", [4, 2])
    ...             b = ts.get_variable("b", [2], initializer=ts.zeros_initializer())
    ...             return torch.tanh(x @ w + b)
    ...     def forward(self, a, b):
    ...         return self.tower(a, reuse=False), self.tower(b, reuse=True)
    >>> net = Siamese().build(torch.randn(3, 4), torch.randn(3, 4))
    >>> [name for name, _ in net.named_parameters()]
    ['tower/w', 'tower/b']
    >>> ya, yb = net(torch.randn(3, 4), torch.randn(3, 4))       # second pass: reused
    >>> net.store["tower/w"] is net.get_parameter("tower/w")
    True

Conversions count before the first pass too: ``.to()``/``.cuda()``/``.half()`` on an unbuilt
module are remembered and each variable a pass creates is converted the same way, so
``Net().to("cuda")`` builds on the GPU, as PyTorch's lazy modules do (see ``_placement``).

Caveats: build eagerly (``torch.compile`` of an unbuilt module would try to create parameters
inside the compiled region); a forward whose first pass skips a branch creates that branch's
trainable variables never — build with inputs that take every branch.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Optional, Set, Tuple

import torch
from torch import nn

from ._binder import PassBinder, binding
from ._compile import with_guard_filter
from ._placement import Placement
from ._scope import variable_scope
from ._state import END_OF_PASS, ScopeState
from ._store import ScopedParameterStore, _thread

__all__ = ["ScopedModule"]


def _as_pass(forward: Callable) -> Callable:
    """Wraps a subclass's ``forward`` so that each call is one pass (see the module docstring).

    The pass is run by the wrapper itself, not by a helper it calls: an eager pass is cheap
    enough that one more Python call shows in a training step.
    """
    if getattr(forward, "_ts_pass", False):
        return forward
    # The thread's scope state, read through a closure cell: for torch.compile a local of the
    # compiled frame. Read as a global here too, beside the reads in _scope and _variables, it
    # would cost a compiled call one more guard evaluated in Python (that the names still are one
    # object: Dynamo compares globals with globals only).
    thread = _thread

    @functools.wraps(forward)
    def pass_forward(self: "ScopedModule", *args: Any, **kwargs: Any) -> Any:
        defaults = thread.defaults
        current = defaults.state
        if current is not None and current.binder is not None and current.binder.module is self:
            # a nested call of the same module (a subclass's super().forward) joins the pass
            return forward(self, *args, **kwargs)
        store = self._ts_store
        # Under torch.compile nothing is replayed or recorded: the traced code would read (and
        # guard on) every recorded step, where fresh counters cost nothing at run time.
        # (Dynamo only: torch.export's non-strict tracing runs the Python as eager code does.)
        binder = PassBinder(self, store, not self._ts_built)
        compiling = binder.eager is None        # traced: the binder keeps no eager cache
        binder.state = state = ScopeState(store, binder, None if compiling else self._ts_trace,
                                          compiling)
        # The pass is the innermost default (its store is the default store) and the current
        # state. Compiled code replays these two writes after the graph runs: kept to two slots.
        outer = defaults.stack
        defaults.stack = outer + (state,)
        defaults.state = state
        try:
            if self._ts_name:
                with variable_scope(self._ts_name):
                    result = forward(self, *args, **kwargs)
            else:
                result = forward(self, *args, **kwargs)
        except BaseException:
            if binder.build:
                binder.rollback()
            raise
        finally:
            defaults.stack = outer
            defaults.state = current
            # the binder and its state refer to each other: the cycle is broken here (a pass per
            # training step would otherwise leave the garbage collector a cycle per step)
            binder.state = None
        if binder.build:
            self._ts_built = True
        if state.record is not None and state.replay is None and not compiling:
            # a pass that diverged (or the first) records anew
            state.record.append(END_OF_PASS)
            self._ts_trace = state.record
        return result

    # A code object of its own for every forward: torch.compile keeps its compiled entries (and
    # its limit of 8 recompilations) per code object, and the frame it compiles is this one. A
    # shared code object would make every ScopedModule class compete for the same 8 entries —
    # the ninth compiled class would fail under fullgraph=True — as no two nn.Module classes do.
    pass_forward.__code__ = pass_forward.__code__.replace()
    pass_forward._ts_pass = True  # type: ignore[attr-defined]
    return pass_forward


class ScopedModule(nn.Module):
    """An ``nn.Module`` whose ``forward`` is written in TF1 style (see the module docstring).

    Example:
        >>> import torch, torchscope as ts
        >>> def dense(x, units):
        ...     w = ts.get_variable("kernel", [x.shape[-1], units])
        ...     return x @ w
        >>> net = ts.ScopedModule.wrap(lambda x: dense(x, 3), name="dense")
        >>> net(torch.ones(2, 5)).shape, list(net.state_dict())
        (torch.Size([2, 3]), ['dense/kernel'])

    Args:
        name: a variable scope entered around every pass (None: the store's root).
        store: the ``ScopedParameterStore`` to create variables in; pass one store to several
            modules to share variables between them (default: a store of the module's own).
    """

    _ts_store: ScopedParameterStore
    _ts_name: Optional[str]
    _ts_built: bool
    _ts_owned: Set[str]
    _ts_slots: Dict[str, Tuple[bool, str]]
    _ts_variables: Dict[str, str]
    _ts_uses: Dict[str, int]
    _ts_trace: Optional[list]
    _ts_hits: Dict[str, tuple]
    _ts_hits_generation: int
    _ts_placement: Optional[Placement]

    def __init__(self, name: Optional[str] = None, *,
                 store: Optional[ScopedParameterStore] = None) -> None:
        super().__init__()
        self._ts_name = name
        self._ts_store = store if store is not None else ScopedParameterStore()
        self._ts_built = False
        self._ts_owned = set()          # get_variable names this module created
        self._ts_slots = {}             # display name -> (is_parameter, key) on this module
        self._ts_variables = {}         # ts.Variable pass name -> display name
        self._ts_uses = {}              # display name -> resolutions in the first pass
        self._ts_trace = None           # the last pass's scope entries, replayed by the next
        self._ts_hits = {}              # get_variable name -> what it resolves to (binder.fast)
        self._ts_hits_generation = 0    # the store's removal count the cache is valid for
        self._ts_placement = None       # what .to() & co. did, for variables created later
        self._ts_store._bound.add(self)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__:
            cls.forward = _as_pass(cls.__dict__["forward"])  # type: ignore[method-assign]

    @property
    def store(self) -> ScopedParameterStore:
        """The store this module's variables live in."""
        return self._ts_store

    @property
    def built(self) -> bool:
        """Whether the first pass has run."""
        return self._ts_built

    def build(self, *example_inputs: Any, **example_kwargs: Any) -> "ScopedModule":
        """Runs the first pass (under ``torch.no_grad()``) so every variable exists and is
        registered; returns the module. A module already built is returned unchanged.

        The pass runs ``forward`` once, so side effects of ``forward`` (e.g. moving statistics
        updated in training mode) happen once; call ``module.eval()`` first to avoid them.
        """
        if not self._ts_built:
            with torch.no_grad():
                self(*example_inputs, **example_kwargs)
        return self

    @classmethod
    def wrap(cls, fn: Callable, name: Optional[str] = None, *,
             store: Optional[ScopedParameterStore] = None) -> "ScopedModule":
        """A ``ScopedModule`` whose ``forward`` calls ``fn`` (a TF1-style function).

        Example:
            >>> import torch, torchscope as ts
            >>> net = ts.ScopedModule.wrap(lambda x: x * ts.get_variable("scale", [1]))
            >>> net(torch.ones(2)).shape
            torch.Size([2])

        Wrapped modules are instances of one class, so under ``torch.compile`` they share its
        compiled entries (at most ``torch._dynamo.config.recompile_limit``, 8, of them), as
        instances of any one ``nn.Module`` class do; to compile more than that many different
        functions, subclass ``ScopedModule`` (every subclass's ``forward`` has entries of its
        own).
        """
        return _Wrapped(fn, name, store=store)

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """PyTorch's in-place ``module.compile()``, with ``ts.guard_filter`` as its guard filter.

        Example:
            >>> import torch, torchscope as ts
            >>> net = ts.ScopedModule.wrap(lambda x: x @ ts.get_variable("w", [3, 2]))
            >>> net.build(torch.ones(1, 3)).compile(fullgraph=True)
            >>> net(torch.ones(4, 3)).shape  # doctest: +SKIP
            torch.Size([4, 2])

        Arguments are ``torch.compile``'s. Each call of the compiled module then skips the
        guards on torchscope's own code, which cannot fail (see ``ts.guard_filter``); a
        ``guard_filter_fn`` of your own in ``options`` still applies. ``torch.compile(module)``
        compiles with every guard, unless given ``options={"guard_filter_fn":
        ts.guard_filter}``. With ``mode=``, which ``torch.compile`` accepts only without
        ``options``, the module is compiled with every guard. Dynamo keeps the compiled code
        per ``forward`` (per class), not per call of ``torch.compile``: an instance compiled
        after another one of its class runs the code compiled first, if its guards pass, with
        the filter of that first compile (or none).
        """
        if kwargs.get("mode") is None:
            kwargs["options"] = with_guard_filter(kwargs.get("options"))
        super().compile(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(
            f"{type(self).__name__} has no forward: subclass ts.ScopedModule and define forward, "
            "or use ts.ScopedModule.wrap(fn).")

    def _ts_describe(self) -> str:
        return f"{type(self).__name__}(name={self._ts_name!r})"

    def extra_repr(self) -> str:
        return f"name={self._ts_name!r}, variables={len(self._ts_slots)}"

    # ------------------------------------------------------------------ keeping ties
    def _ts_current(self, display: str) -> Optional[nn.Parameter]:
        """What this module registers for a variable now, for the store to adopt — nothing
        while this module's own pass runs in this thread (FSDP2 then holds unsharded
        temporaries) or when a non-Parameter is bound (functional_call)."""
        slot = self._ts_slots.get(display)
        if slot is None:
            return None
        state = _thread.defaults.state
        if state is not None and state.binder is not None and state.binder.module is self:
            return None
        found = binding(self, slot)
        return found if isinstance(found, nn.Parameter) else None

    def _ts_snapshot(self) -> Dict[str, Any]:
        return {display: binding(self, slot) for display, slot in self._ts_slots.items()}

    def _ts_retie(self, before: Dict[str, Any]) -> None:
        """After PyTorch replaced some of this module's tensors with new objects (overwrite-mode
        ``.to()``, a buffer conversion, ``to_empty``, ``load_state_dict(assign=True)``), make each
        new object the canonical one: in the store and in every module sharing it."""
        records = self._ts_store._records
        for display, old in before.items():
            slot = self._ts_slots[display]
            if not slot[0] and slot[1] in self._parameters:
                # load_state_dict(assign=True) re-registers a Parameter-typed buffer as a
                # parameter; it is state, so it goes back among the buffers.
                self._buffers[slot[1]] = self._parameters.pop(slot[1])
            new = binding(self, slot)
            if new is old or new is None:
                continue
            record = records.get(display)
            if record is None:
                continue
            if not isinstance(new, nn.Parameter):
                new = nn.Parameter(new, requires_grad=bool(slot[0]))
                (self._parameters if slot[0] else self._buffers)[slot[1]] = new
            self._ts_store.replace(record, new)
            for other in list(self._ts_store._bound):
                if other is not self:
                    other_slot = other._ts_slots.get(display)
                    if other_slot is not None:
                        (other._parameters if other_slot[0] else other._buffers)[other_slot[1]] = new

    def _apply(self, fn: Callable, recurse: bool = True) -> "ScopedModule":
        # Variables this module creates from now on (all of them, before the first pass) are
        # converted as its existing tensors are now, as PyTorch's lazy modules do. Probed
        # first: a conversion that cannot apply (out of ``meta``) raises before anything moved.
        placement = (self._ts_placement or Placement()).after(fn)
        before = self._ts_snapshot()
        result = super()._apply(fn, recurse)
        self._ts_retie(before)
        self._ts_placement = placement
        return result

    def _load_from_state_dict(self, state_dict: Any, prefix: str, local_metadata: Any,
                              strict: bool, missing_keys: Any, unexpected_keys: Any,
                              error_msgs: Any) -> None:
        before = self._ts_snapshot()
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        self._ts_retie(before)

    def __setstate__(self, state: Dict[str, Any]) -> None:
        super().__setstate__(state)
        self._ts_trace = None   # a cache, and its format may differ between releases
        store = self.__dict__.get("_ts_store")
        if store is not None:
            store._bound.add(self)


class _Wrapped(ScopedModule):
    """``ScopedModule.wrap(fn)``: the pass calls ``fn``."""

    def __init__(self, fn: Callable, name: Optional[str] = None, *,
                 store: Optional[ScopedParameterStore] = None) -> None:
        super().__init__(name, store=store)
        self._ts_fn = fn

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._ts_fn(*args, **kwargs)

    def _ts_describe(self) -> str:
        fn = getattr(self._ts_fn, "__qualname__", repr(self._ts_fn))
        return f"ScopedModule.wrap({fn}, name={self._ts_name!r})"
