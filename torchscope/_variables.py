"""``get_variable``, ``get_local_variable`` and ``Variable``: TF1's spellings, scope-aware.

``get_variable`` reads the current scope's prefix and defaults and asks the store (TF1's
``VariableScope.get_variable``). Inside a ``ScopedModule`` pass it first tries a fast path that
returns the module's current binding for an existing name without building any arguments.

Example:
    >>> import torch, torchscope as ts
    >>> with ts.ScopedParameterStore().as_default():
    ...     with ts.variable_scope("siamese"):
    ...         w1 = ts.get_variable("w", [4, 2])
    ...     with ts.variable_scope("siamese", reuse=True):
    ...         w2 = ts.get_variable("w", [4, 2])
    ...     assert w1 is w2 and isinstance(w1, torch.nn.Parameter)
    ...     v = ts.Variable(torch.zeros(2), name="v")
    ...     print(ts.get_default_store().name_of(v), v.requires_grad)
    v True
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import torch

from ._errors import InitializerError, InvalidNameError, VariableArgumentError
from ._getter import STORE_BINDER, StoreBinder, _validate_sync, get_variable as store_get_variable
from ._getter import new_variable, plain_get
from ._names import join
from ._scope import check_scope_name
from ._scope_object import (CACHING_DEVICE, CUSTOM_GETTER, DTYPE, INITIALIZER, PARTITIONER,
                            PLAIN_CREATE, REGULARIZER, USE_RESOURCE, VariableScope)
from ._state import END_OF_PASS, ROOT_NAME, current_state
from ._store import _thread
from ._store import ScopedParameterStore
from ._types import (ShapeLike, DTypeLike, VariableAggregation, VariableSynchronization,
                     as_device, as_dtype, as_shape, dtype_name, is_compatible, shape_str)
from ._values import is_value, value_to_tensor

__all__ = ["Variable", "get_local_variable", "get_variable", "scoped_get_variable"]

_AUTO = VariableSynchronization.AUTO
_NONE = VariableAggregation.NONE


def get_variable(name: str, shape: ShapeLike = None, dtype: DTypeLike = None,
                 initializer: Any = None, regularizer: Optional[Callable] = None,
                 trainable: Optional[bool] = None, collections: Optional[Sequence[str]] = None,
                 caching_device: Any = None, partitioner: Optional[Callable] = None,
                 validate_shape: bool = True, use_resource: Optional[bool] = None,
                 custom_getter: Optional[Callable] = None, constraint: Optional[Callable] = None,
                 synchronization: Any = _AUTO, aggregation: Any = _NONE) -> torch.nn.Parameter:
    """Gets an existing variable or creates a new one, by scoped name (TF1's ``get_variable``).

    The full name is ``current_scope.name + "/" + name``; name scopes do not count. The current
    scope's reuse decides: ``False`` creates (an existing name is an error), ``True`` returns an
    existing variable (a missing one is an error), ``AUTO_REUSE`` does either. Reuse checks the
    shape (when given) and the dtype (which defaults to the scope's, float32 at the root).

    Example:
        >>> import torch, torchscope as ts
        >>> with ts.ScopedParameterStore().as_default():
        ...     with ts.variable_scope("layer", initializer=ts.zeros_initializer()):
        ...         w = ts.get_variable("w", [2, 3])                      # scope default
        ...         b = ts.get_variable("b", initializer=[1.0, 2.0, 3.0])  # a value: no shape
        ...         step = ts.get_variable("step", [], dtype=torch.int64, trainable=False)
        ...     print(w.sum().item(), b.tolist(), step.dtype, step.requires_grad)
        0.0 [1.0, 2.0, 3.0] torch.int64 False

    Args:
        name: the variable's name, relative to the current variable scope.
        shape: a list of ints (None for an unknown size when reusing); omit it when
            ``initializer`` is a value.
        dtype: a torch dtype (or name); default: the scope's dtype.
        initializer: a value (tensor, array, number, list), a TF-style callable
            ``init(shape, dtype=...)``, an initializer class, or a ``torch.nn.init`` in-place
            function; default: the scope's, else glorot_uniform for floats and zeros otherwise.
        regularizer: ``w -> Tensor``; its loss is recomputed on demand
            (``ts.get_regularization_loss()``).
        trainable: ``True`` → ``requires_grad`` and TRAINABLE_VARIABLES; default True unless
            ``synchronization`` is ON_READ.
        collections: collection keys; default ``[GLOBAL_VARIABLES]``.
        caching_device: return a differentiable copy on this device (made once per
            ``ScopedModule`` pass; on every call outside passes).
        partitioner: TF1 partitioner; validated and used for initialisation, the variable is
            stored whole.
        validate_shape, use_resource: accepted for TF1 compatibility.
        custom_getter: replaces the scope's getter chain for this call.
        constraint: a projection run by ``store.apply_constraints()`` (after optimizer steps).
        synchronization, aggregation: TF1's enums; recorded.

    Returns:
        The ``nn.Parameter`` (inside a ``ScopedModule`` pass: the module's current binding, which
        ``functional_call`` may have swapped; with ``caching_device``: a copy).

    Raises:
        VariableExistsError: it exists and the scope does not reuse.
        VariableNotFoundError: it is missing and the scope has ``reuse=True``.
        ShapeMismatchError, DTypeMismatchError: reused with another shape or dtype.
        InitializerError, InitializerTypeError: an initializer, shape and dtype that do not fit.
        InvalidShapeError, InvalidDTypeError, InvalidNameError, CustomGetterError,
        PartitionerError, VariableArgumentError: bad arguments; nothing is created.
        PassError: a new trainable variable in a later ``ScopedModule`` pass.
    """
    state = _thread.defaults.state
    if state is None or state.store._retired:
        state = current_state()
    scope = state.current
    binder = state.binder
    # The fast paths cover the everyday call and hand anything unusual to the general path.
    # Every operation here runs once per variable per call, so the checks are ordered cheapest
    # and most decisive first.
    if (custom_getter is None and partitioner is None and caching_device is None
            and name.__class__ is str):
        if binder is not None:
            plain_dtype = scope._plain_dtype        # None: the defaults rule this path out
            if plain_dtype is not None and (initializer is None or callable(initializer)):
                full_name = scope._name + "/" + name if scope._name else name
                wanted = plain_dtype if dtype is None else dtype
                reuse = scope._reuse
                eager = binder.eager
                hit = eager.get(full_name) if eager is not None else None
                if hit is not None:
                    # An eager pass, a name resolved before: while the module binds the
                    # variable's own object, the request is checked against what it was
                    # declared with, here rather than in a call (PassBinder.fast_eager).
                    owned, is_param, key, record, declared = hit
                    seen = binder.seen
                    found = (binder.params if is_param else binder.buffers).get(key)
                    if (found is record.param
                            and (wanted is record.dtype or wanted is found.dtype)
                            and (shape is None or (shape == declared if shape.__class__ is list
                                                   else record.shape == shape))
                            and (reuse is not False or (owned and full_name not in seen))):
                        if full_name not in seen:
                            # its first use in this pass (PassBinder._first_use): a variable
                            # the module created is re-created by name, replayed inline
                            seen[full_name] = None
                            if owned:
                                replay = state.replay       # state: the pass's (binder.state)
                                step = replay[state.pos] if replay is not None else END_OF_PASS
                                if step[0] is ROOT_NAME and step[1] == full_name:
                                    state.pos += 1
                                else:
                                    state.root_name(full_name)
                        if binder.build:
                            binder._count(record.display)
                        return found
                found = (binder.fast if eager is None else binder.fast_eager)(
                    full_name, shape, wanted, reuse)
                if found is not None:
                    return found
        elif (regularizer is None and collections is None and synchronization is _AUTO
                and aggregation is _NONE and not state.creators):
            defaults = scope._defaults
            if defaults[PLAIN_CREATE]:
                found = plain_get(
                    state.store, scope._name + "/" + name if scope._name else name, shape,
                    defaults[DTYPE] if dtype is None else dtype,
                    defaults[INITIALIZER] if initializer is None else initializer,
                    trainable, scope._constraint if constraint is None else constraint,
                    scope._reuse)
                if found is not None:
                    return found
    return scoped_get_variable(
        scope, state.store, name, shape, dtype, initializer, regularizer, None, trainable,
        collections, caching_device, partitioner, validate_shape, use_resource, custom_getter,
        constraint, synchronization, aggregation, binder=binder or STORE_BINDER)


def get_local_variable(name: str, shape: ShapeLike = None, dtype: DTypeLike = None,
                       initializer: Any = None, regularizer: Optional[Callable] = None,
                       trainable: Optional[bool] = False,
                       collections: Optional[Sequence[str]] = None, caching_device: Any = None,
                       partitioner: Optional[Callable] = None, validate_shape: bool = True,
                       use_resource: Optional[bool] = None,
                       custom_getter: Optional[Callable] = None,
                       constraint: Optional[Callable] = None, synchronization: Any = _AUTO,
                       aggregation: Any = _NONE) -> torch.nn.Parameter:
    """``get_variable`` for a local variable: never trainable (the argument is ignored, as in
    TF1), in LOCAL_VARIABLES (plus ``collections``), not in GLOBAL_VARIABLES unless listed.

    Unlike TF1, a caller's ``collections`` list is not modified.

    Example:
        >>> import torchscope as ts
        >>> with ts.ScopedParameterStore().as_default():
        ...     c = ts.get_local_variable("count", [], trainable=True)
        ...     print(c.requires_grad, len(ts.local_variables()), len(ts.global_variables()))
        False 1 0
    """
    local = list(collections or []) + ["local_variables"]
    return get_variable(name, shape, dtype, initializer, regularizer, False, local,
                        caching_device, partitioner, validate_shape, use_resource, custom_getter,
                        constraint, synchronization, aggregation)


def scoped_get_variable(scope: VariableScope, var_store: ScopedParameterStore, name: str,
                        shape: ShapeLike = None, dtype: DTypeLike = None,
                        initializer: Any = None, regularizer: Optional[Callable] = None,
                        reuse: Any = None, trainable: Optional[bool] = None,
                        collections: Optional[Sequence[str]] = None,
                        caching_device: Any = None, partitioner: Optional[Callable] = None,
                        validate_shape: bool = True, use_resource: Optional[bool] = None,
                        custom_getter: Optional[Callable] = None,
                        constraint: Optional[Callable] = None, synchronization: Any = _AUTO,
                        aggregation: Any = _NONE, *,
                        binder: Optional[StoreBinder] = None) -> Any:
    """TF1's ``VariableScope.get_variable``: fill in the scope's defaults, then ask the store."""
    if not isinstance(name, str):
        raise InvalidNameError.not_a_string(name)
    if binder is None:
        state = current_state()
        binder = (state.binder if state.store is var_store else None) or STORE_BINDER
    defaults = scope._defaults
    regularizer = defaults[REGULARIZER] if regularizer is None else regularizer
    caching_device = defaults[CACHING_DEVICE] if caching_device is None else caching_device
    partitioner = defaults[PARTITIONER] if partitioner is None else partitioner
    custom_getter = defaults[CUSTOM_GETTER] if custom_getter is None else custom_getter
    reuse = scope._reuse if reuse is None else reuse
    use_resource = defaults[USE_RESOURCE] if use_resource is None else use_resource
    full_name = join(scope._name, name)
    if dtype is not None and is_value(initializer):
        wanted = as_dtype(dtype)
        found = value_to_tensor(initializer, full_name).dtype
        if found is not wanted:
            raise InitializerError.dtype_mismatch(full_name, dtype_name(found),
                                                  dtype_name(wanted))
    initializer = defaults[INITIALIZER] if initializer is None else initializer
    constraint = scope._constraint if constraint is None else constraint
    dtype = defaults[DTYPE] if dtype is None else dtype
    # TF1 runs the store (custom getters included) under name_scope(None): anything named
    # through the name scope in there (a ts.Variable a getter makes) is named at the root.
    state = current_state()
    name_stack, state.name_stack = state.name_stack, ""
    try:
        with var_store.transaction():
            return store_get_variable(
                var_store, full_name, shape, dtype, initializer, regularizer, reuse, trainable,
                collections, caching_device, partitioner, validate_shape, use_resource,
                custom_getter, constraint, synchronization, aggregation, binder)
    finally:
        state.name_stack = name_stack


def Variable(initial_value: Any = None, trainable: Optional[bool] = None,  # noqa: N802
             collections: Optional[Sequence[str]] = None, validate_shape: bool = True,
             caching_device: Any = None, name: Optional[str] = None, variable_def: Any = None,
             dtype: DTypeLike = None, expected_shape: ShapeLike = None,
             import_scope: Optional[str] = None, constraint: Optional[Callable] = None,
             use_resource: Optional[bool] = None, synchronization: Any = _AUTO,
             aggregation: Any = _NONE, shape: ShapeLike = None) -> torch.nn.Parameter:
    """TF1's ``tf.compat.v1.Variable``: a new variable named through the *name* scope.

    Names are uniquified like TF1 op names (``v``, ``v_1``, ``Variable``, ``Variable_1``;
    case-insensitively), and the variable is invisible to ``get_variable`` reuse. Inside a
    ``ScopedModule`` pass names restart every pass, so the same call returns the same variable.

    Example:
        >>> import torch, torchscope as ts
        >>> with ts.ScopedParameterStore().as_default():
        ...     vs = [ts.Variable(torch.zeros(1), name="v"), ts.Variable(torch.zeros(1), name="v"),
        ...           ts.Variable(torch.zeros(1)), ts.Variable(torch.zeros(1), name="V")]
        ...     print([ts.get_default_store().name_of(v) for v in vs])
        ['v', 'v_1', 'Variable', 'V_2']

    Args:
        initial_value: a tensor, array, number, list, or a zero-argument callable returning one.
        trainable: default True unless ``synchronization`` is ON_READ.
        collections: default ``[GLOBAL_VARIABLES]`` (plus TRAINABLE_VARIABLES when trainable).
        name: default ``"Variable"``.
        dtype: converts the initial value.
        shape, expected_shape: checked against the initial value's shape.
        caching_device, constraint, synchronization, aggregation: as for ``get_variable``.
        validate_shape, use_resource, import_scope: accepted for TF1 compatibility.
        variable_def: not supported (TF1's protocol-buffer restore).

    Raises:
        VariableArgumentError: no initial value, a ``variable_def``, or a shape that does not
            match the value.
        InvalidNameError: a name TF1 would reject.
        PassError: a new trainable variable in a later ``ScopedModule`` pass.
    """
    state = current_state()
    store, binder = state.store, state.binder or STORE_BINDER
    if variable_def is not None:
        raise VariableArgumentError.other(
            "variable_def is not supported: torchscope does not read TF protocol buffers.",
            fix="pass initial_value, or load values with ts.checkpoint.init_from_checkpoint.")
    base = "Variable" if name is None else name
    if not isinstance(base, str):
        raise InvalidNameError.not_a_string(base)
    check_scope_name(state.name_stack, base)
    synchronization, aggregation, trainable = _validate_sync(
        synchronization, aggregation, trainable, base)
    if initial_value is None:
        raise VariableArgumentError.other("initial_value must be specified.",
                                          fix="pass the variable's initial value.")
    device = as_device(caching_device) if not callable(caching_device) else None
    wanted = None if dtype is None else as_dtype(dtype)
    with store.transaction():
        candidate = state.unique_name(base)   # TF1: the name scope the variable opens
        found = binder.lookup_variable(candidate)
        if found is None:
            value = initial_value() if callable(initial_value) else initial_value
            with store.creation_device():
                tensor = value_to_tensor(value, base, wanted).to(torch.get_default_device())
            for declared in (shape, expected_shape):
                declared_t = as_shape(declared, base)
                if not is_compatible(declared_t, tuple(tensor.shape)):
                    raise VariableArgumentError.other(
                        f"The initial value's shape ({shape_str(tuple(tensor.shape))}) is not "
                        "compatible with the explicitly supplied `shape` argument "
                        f"({shape_str(declared_t)}).", fix="pass a value of that shape.")
            with store._lock:
                binder.check_create(candidate, trainable)
                display = binder.variable_display(store, candidate)
                found = new_variable(store, binder, None, tensor, trainable, collections, None,
                                     constraint, display=display,
                                     synchronization=synchronization, aggregation=aggregation,
                                     caching_device=caching_device,
                                     validate_shape=validate_shape, use_resource=use_resource)
    if callable(caching_device):
        device = as_device(caching_device(found))
    return binder.cache(found, None, device) if device is not None else found
