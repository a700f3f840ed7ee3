"""TF1's ``_VariableStore.get_variable``: custom getters, reuse checks and creation.

This is the store-level half of ``get_variable``; the scope-level half (defaults, prefix) is in
``_variables``. Names here are absolute. Where a variable is looked up and what is returned is
delegated to a *binder*: outside ``ScopedModule`` passes it is :data:`STORE_BINDER` (the store's
objects, TF1 rules); inside a pass, the module's binder (its current parameter bindings, TF1
rules per pass).

Example:
    >>> import torchscope as ts
    >>> store = ts.ScopedParameterStore()
    >>> v = store.get_variable("v", [1])                  # reuse=None acts as AUTO_REUSE here
    >>> store.get_variable("v", [1]) is v
    True
    >>> store.get_variable("u", [1], reuse=True)
    Traceback (most recent call last):
    ...
    torchscope._errors.VariableNotFoundError: Variable u does not exist, or was not created with ts.get_variable(). Did you mean to set reuse=ts.AUTO_REUSE in VarScope?
    <BLANKLINE>
    ...
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Optional, Sequence

import torch
from torch import nn

from ._errors import (CustomGetterError, DTypeMismatchError, InitializerError, InvalidNameError,
                      ShapeMismatchError, VariableArgumentError, VariableExistsError,
                      VariableNotFoundError)
from ._names import OpNames
from ._record import Record, format_origin, user_origin
from ._state import state_of
from ._store import GraphKeys, ScopedParameterStore
from ._types import (Shape, VariableAggregation, VariableSynchronization, as_device, as_dtype,
                     as_shape, dtype_name, is_compatible, shape_str)
from ._values import default_initializer, is_value, make_value

__all__ = ["STORE_BINDER", "StoreBinder", "get_variable", "new_variable", "check_existing"]


class StoreBinder:
    """Outside module passes: the store's own objects, TF1's rules."""

    __slots__ = ()

    def visible(self, record: Record) -> bool:
        """Whether ``record`` counts as already created for the "already exists" check."""
        return True

    def bind(self, record: Record) -> Any:
        """What ``get_variable`` returns for ``record``."""
        return record.param

    def check_create(self, name: str, trainable: bool) -> None:
        """Raises if a new variable may not be created now."""

    def place(self, value: torch.Tensor) -> torch.Tensor:
        """A new variable's initial value, where it is to live (as made, outside passes)."""
        return value

    def created(self, record: Record) -> None:
        """Called once a new variable is in the store."""

    def display(self, store: ScopedParameterStore, name: str) -> str:
        """The display (op) name of a new ``get_variable`` variable: TF's root ``unique_name``."""
        return store.unique_op_name("", name)

    def current_dtype(self, store: ScopedParameterStore, record: Record) -> torch.dtype:
        """The dtype of the object ``bind`` will return (adopting module re-registrations)."""
        return store.current(record).dtype

    def lookup_variable(self, display: str) -> Any:
        """An existing ``ts.Variable`` with this (freshly uniquified) name: never, outside
        passes (each call makes a new one)."""
        return None

    def variable_display(self, store: ScopedParameterStore, candidate: str) -> str:
        """The display name of a new ``ts.Variable`` named ``candidate`` by the name scope."""
        return candidate

    def cache(self, value: Any, record: Optional[Record], device: torch.device) -> Any:
        """A differentiable copy on ``device`` (outside passes there is no pass to cache over)."""
        return value.to(device)


STORE_BINDER = StoreBinder()


def _validate_sync(synchronization: Any, aggregation: Any, trainable: Optional[bool],
                   name: str) -> tuple:
    """TF1's ``validate_synchronization_aggregation_trainable``."""
    def member(enum_cls: Any, value: Any, error: Callable) -> Any:
        if value is None:
            return enum_cls(0)
        if isinstance(value, enum_cls):
            return value
        try:
            return enum_cls[value.upper()] if isinstance(value, str) else enum_cls(value)
        except (KeyError, ValueError, TypeError):
            raise error(value, name) from None

    aggregation = member(VariableAggregation, aggregation, VariableArgumentError.aggregation)
    synchronization = member(VariableSynchronization, synchronization,
                             VariableArgumentError.synchronization)
    if trainable is None:
        trainable = synchronization is not VariableSynchronization.ON_READ
    return synchronization, aggregation, bool(trainable)


def _accepts_constraint(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return "constraint" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def get_variable(store: ScopedParameterStore, name: str, shape: Any = None,
                 dtype: Any = torch.float32, initializer: Any = None,
                 regularizer: Optional[Callable] = None, reuse: Any = None,
                 trainable: Optional[bool] = None, collections: Optional[Sequence[str]] = None,
                 caching_device: Any = None, partitioner: Optional[Callable] = None,
                 validate_shape: bool = True, use_resource: Optional[bool] = None,
                 custom_getter: Optional[Callable] = None, constraint: Optional[Callable] = None,
                 synchronization: Any = VariableSynchronization.AUTO,
                 aggregation: Any = VariableAggregation.NONE,
                 binder: StoreBinder = STORE_BINDER) -> Any:
    """The store-level ``get_variable`` (absolute ``name``; ``reuse=None`` behaves as AUTO_REUSE).

    Raises:
        CustomGetterError: a non-callable custom getter.
        VariableArgumentError: an invalid synchronization or aggregation.
        and everything :func:`true_getter` raises.
    """
    if custom_getter is not None and not callable(custom_getter):
        raise CustomGetterError(custom_getter)
    dtype = as_dtype(dtype)
    synchronization, aggregation, trainable = _validate_sync(
        synchronization, aggregation, trainable, name)
    getter = _TrueGetter(store, binder)
    if custom_getter is None:
        return getter(name, shape, dtype, initializer, regularizer, reuse, trainable, collections,
                      caching_device, partitioner, validate_shape, use_resource, constraint,
                      synchronization, aggregation)
    kwargs = dict(getter=getter, name=name, shape=shape, dtype=dtype, initializer=initializer,
                  regularizer=regularizer, reuse=reuse, trainable=trainable,
                  collections=collections, caching_device=caching_device,
                  partitioner=partitioner, validate_shape=validate_shape,
                  use_resource=use_resource, synchronization=synchronization,
                  aggregation=aggregation)
    if _accepts_constraint(custom_getter):
        kwargs["constraint"] = constraint
    return custom_getter(**kwargs)


class _TrueGetter:
    """TF1's ``_true_getter``, handed to custom getters as ``getter``."""

    __slots__ = ("store", "binder")

    def __init__(self, store: ScopedParameterStore, binder: StoreBinder) -> None:
        self.store = store
        self.binder = binder

    def __call__(self, name: str, shape: Any = None, dtype: Any = torch.float32,
                 initializer: Any = None, regularizer: Optional[Callable] = None,
                 reuse: Any = None, trainable: Optional[bool] = None,
                 collections: Optional[Sequence[str]] = None, caching_device: Any = None,
                 partitioner: Optional[Callable] = None, validate_shape: bool = True,
                 use_resource: Optional[bool] = None, constraint: Optional[Callable] = None,
                 synchronization: Any = VariableSynchronization.AUTO,
                 aggregation: Any = VariableAggregation.NONE) -> Any:
        if not isinstance(name, str):
            raise InvalidNameError.not_a_string(name)
        dtype = as_dtype(dtype)
        synchronization, aggregation, trainable = _validate_sync(
            synchronization, aggregation, trainable, name)
        shape_t = as_shape(shape, name)
        device = as_device(caching_device) if not callable(caching_device) else None
        store, binder = self.store, self.binder
        if partitioner is not None and shape_t != ():
            from ._partition import partitioned_variable

            value = partitioned_variable(
                store, binder, name, partitioner, shape_t, dtype, initializer, regularizer, reuse,
                bool(trainable), collections, constraint)
        else:
            record = store._registry.get(name)
            if record is not None and record.partitions is not None and not (
                    reuse is True and partitioner is None):
                from ._partition import partitioned_exists_error

                raise partitioned_exists_error(name)
            if record is not None and record.partitions is not None:
                from ._partition import partitioned_variable

                value = partitioned_variable(
                    store, binder, name, None, shape_t, dtype, initializer, regularizer, reuse,
                    bool(trainable), collections, constraint)
            else:
                value = single_variable(
                    store, binder, name, shape_t, dtype, initializer, regularizer, reuse,
                    bool(trainable), collections, constraint, synchronization=synchronization,
                    aggregation=aggregation, caching_device=caching_device,
                    validate_shape=validate_shape, use_resource=use_resource)
        if callable(caching_device):
            device = as_device(caching_device(value))
        if device is not None:
            value = binder.cache(value, store._registry.get(name), device)
        return value


def check_existing(record: Record, shape: Shape, dtype: torch.dtype, partitioned: bool = False,
                   current: Optional[torch.dtype] = None) -> None:
    """TF1's reuse checks: shape (when given) compatible; dtype equal to the declared one — or
    to the variable's ``current`` dtype, so that a model moved with ``.double()``/``.half()``
    can ask for its variables in the new dtype (layers ask in the input's dtype).

    Raises:
        ShapeMismatchError, DTypeMismatchError.
    """
    if not is_compatible(shape, record.shape):
        raise ShapeMismatchError(record.name or record.display, shape_str(shape),
                                 shape_str(record.shape), partitioned)
    if dtype is not record.dtype and dtype is not current:
        raise DTypeMismatchError(record.name or record.display, dtype_name(dtype),
                                 dtype_name(record.dtype), partitioned)


def single_variable(store: ScopedParameterStore, binder: StoreBinder, name: str, shape: Shape,
                    dtype: torch.dtype, initializer: Any, regularizer: Optional[Callable],
                    reuse: Any, trainable: bool, collections: Optional[Sequence[str]],
                    constraint: Optional[Callable], **extra: Any) -> Any:
    """TF1's ``_get_single_variable``: reuse an existing variable or create a new one.

    Raises:
        InitializerError: a constant initializer with a shape.
        VariableExistsError / VariableNotFoundError: the reuse mode forbids the outcome.
        ShapeMismatchError / DTypeMismatchError: a reused variable of another shape or dtype.
    """
    if shape is not None and is_value(initializer):
        raise InitializerError.constant_with_shape(name)
    record = store._registry.get(name)
    if record is None:
        with store._lock:  # check-and-create is atomic across threads
            record = store._registry.get(name)
            if record is None:
                if reuse is True:
                    raise VariableNotFoundError(name)
                binder.check_create(name, trainable)
                if initializer is None:
                    if shape is None:
                        raise InitializerError.missing_shape(name)
                    initializer = default_initializer(name, dtype)
                if not OpNames.is_valid_scope_name(name, at_root=True):
                    raise InvalidNameError.root(name)
                with store.creation_device():
                    value = make_value(name, shape, dtype, initializer, None)
                return new_variable(store, binder, name, value, trainable, collections,
                                    regularizer, constraint, **extra)
    if reuse is False and binder.visible(record):
        raise VariableExistsError(name, format_origin(record.origin))
    check_existing(record, shape, dtype, current=binder.current_dtype(store, record))
    return binder.bind(record)


def new_variable(store: ScopedParameterStore, binder: StoreBinder, name: Optional[str],
                 value: torch.Tensor, trainable: bool, collections: Optional[Sequence[str]],
                 regularizer: Optional[Callable], constraint: Optional[Callable],
                 partitions: Optional[tuple] = None, display: Optional[str] = None,
                 **extra: Any) -> Any:
    """Wraps ``value`` in a Parameter, records it (collections, regularizer) and binds it.

    ``name`` is the get_variable registry key, or None for a ``ts.Variable`` (then ``display``
    is given). ``extra`` (synchronization, aggregation, caching_device, ...) is what
    ``variable_creator_scope`` creators see besides. Runs under the store's lock.

    Raises:
        VariableArgumentError: ``collections`` that is not a list/tuple/set, or a non-callable
            constraint.
    """
    if collections is None:
        keys = [GraphKeys.GLOBAL_VARIABLES]
    elif isinstance(collections, (list, tuple, set)):
        keys = list(collections)
    else:
        raise VariableArgumentError.other(
            f"collections argument to Variable constructor must be a list, tuple, or set. Got "
            f"{collections!r} of type {type(collections).__name__}",
            fix="pass e.g. collections=[ts.GraphKeys.GLOBAL_VARIABLES].")
    if constraint is not None and not callable(constraint):
        raise VariableArgumentError.other("The `constraint` argument must be a callable.",
                                          fix="pass a function w -> w, or None.")
    state = state_of(store)
    spec = dict(initial_value=value, trainable=trainable, collections=keys,
                name=name if display is None else display, caching_device=None,
                dtype=value.dtype, constraint=constraint,
                synchronization=VariableSynchronization.AUTO,
                aggregation=VariableAggregation.NONE, validate_shape=True, use_resource=None)
    spec.update(extra)

    def create(**kwargs: Any) -> Any:
        return _make_record(store, binder, name, kwargs, display, regularizer, partitions)

    if state is not None and state.creators:
        for creator in state.creators:       # outermost first, so the innermost ends up first
            create = functools.partial(creator, create)
    return create(**spec)


def _make_record(store: ScopedParameterStore, binder: StoreBinder, name: Optional[str],
                 spec: dict, display: Optional[str], regularizer: Optional[Callable],
                 partitions: Optional[tuple]) -> Any:
    """The last creator in the chain: the Parameter, its record, regularizer and binding."""
    value = torch.as_tensor(spec["initial_value"])
    if spec.get("dtype") is not None and value.dtype != as_dtype(spec["dtype"]):
        value = value.to(as_dtype(spec["dtype"]))
    if store.device is not None and value.device != store.device:
        value = value.to(store.device)
    declared = value.dtype        # a module's conversions may change the tensor's, not this
    value = binder.place(value)
    trainable = bool(spec["trainable"])
    differentiable = value.dtype.is_floating_point or value.dtype.is_complex
    param = nn.Parameter(value, requires_grad=trainable and differentiable)
    requested = spec["name"]
    if display is None or requested != display:
        display = binder.display(store, requested)
    keys = list(spec["collections"])
    if trainable and GraphKeys.TRAINABLE_VARIABLES not in keys:
        keys.append(GraphKeys.TRAINABLE_VARIABLES)
    record = Record(name, display, param, tuple(value.shape), declared, trainable,
                    tuple(dict.fromkeys(keys)), None, spec["constraint"], partitions,
                    user_origin())
    store.add(record)
    if regularizer and regularizer(param) is not None:
        record.regularizer = regularizer
        store.add_regularizer(record)
    binder.created(record)
    return binder.bind(record)


_GLOBAL_ONLY = (GraphKeys.GLOBAL_VARIABLES,)
_GLOBAL_TRAINABLE = (GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES)


def plain_get(store: ScopedParameterStore, name: str, shape: Any, dtype: torch.dtype,
              initializer: Any, trainable: Optional[bool], constraint: Optional[Callable],
              reuse: Any) -> Any:
    """``get_variable`` outside passes for the everyday call — a list shape, a torch dtype,
    torchscope's own (or the default) initializer, no getter, partitioner, caching device,
    regularizer, collections or creator — without the general path's layers.

    Returns None whenever anything is unusual (an error to raise included): the caller then
    takes the general path, which decides and raises exactly as TF1.
    """
    if (shape.__class__ is not list and shape.__class__ is not tuple
            or dtype.__class__ is not torch.dtype):
        return None
    record = store._registry.get(name)
    if record is not None:
        if reuse is False or record.partitions is not None or dtype is not record.dtype:
            return None
        if tuple(shape) != record.shape:
            return None
        return store.current(record) if store._bound else record.param
    if reuse is True or store.device is not None:
        return None
    if initializer is None:
        if not dtype.is_floating_point:
            return None
        initializer = _DEFAULT_FLOAT_INIT
    elif initializer.__class__ not in _OWN_INITIALIZERS:   # not a user subclass either
        return None
    if constraint is not None and not callable(constraint):
        return None
    for dim in shape:
        if dim.__class__ is not int or dim < 0:
            return None
    if not OpNames.is_valid_scope_name(name, at_root=True):
        return None
    shape = tuple(shape)
    trainable = True if trainable is None else bool(trainable)
    # torchscope's initializers return exactly the shape and dtype asked for, so neither is read
    # back from the tensor (each read costs more than a dict insert)
    param = nn.Parameter(initializer(shape, dtype=dtype), requires_grad=trainable and (
        dtype.is_floating_point or dtype.is_complex))
    origin = user_origin(skip=2)                     # skip: here, get_variable
    with store._lock:
        if name in store._registry:                  # another thread was quicker
            return None
        store.add(Record(name, store._op_names.unique("", name), param, shape, dtype, trainable,
                         _GLOBAL_TRAINABLE if trainable else _GLOBAL_ONLY, None, constraint,
                         None, origin))
    return param


from . import initializers as _initializers  # noqa: E402

_DEFAULT_FLOAT_INIT = _initializers.GlorotUniform()
_OWN_INITIALIZERS = frozenset(
    cls for cls in vars(_initializers).values()
    if isinstance(cls, type) and issubclass(cls, _initializers.Initializer))
