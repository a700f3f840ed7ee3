"""Partitioned variables: TF1's checks and initialisation, stored whole.

TF1 splits a variable into shards along one axis (``name/part_0``, ...). torchscope keeps the
variable whole — sharding is FSDP's job — but reproduces what ported code can observe: the
partitioner's result is validated with TF1's errors, each shard is initialised as TF1 does (a
callable is called per shard with ``partition_info``, so fans come from the full shape and
``constant_initializer`` pads per shard), reuse checks compare the partitioning, and mixing
partitioned and unpartitioned variables under one name fails as in TF1. Per-shard regularizers
are applied once to the whole variable (their sum is the same for l1/l2).

Example:
    >>> import torchscope as ts
    >>> with ts.ScopedParameterStore().as_default():
    ...     w = ts.get_variable("w", [7, 2], partitioner=ts.fixed_size_partitioner(3),
    ...                         initializer=ts.constant_initializer([1.0]))
    >>> tuple(w.shape)
    (7, 2)
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from typing import Any, Callable, List, Optional, Sequence, Tuple

import torch

from ._errors import (PartitionerError, ShapeMismatchError,
                      VariableExistsError, VariableNotFoundError)
from ._getter import StoreBinder, check_existing, new_variable
from ._record import format_origin
from ._store import ScopedParameterStore
from ._types import Shape, is_compatible, is_fully_defined, shape_str
from ._values import PartitionInfo, default_initializer, is_value, make_value, shard_slices
from ._values import value_to_tensor

__all__ = ["fixed_size_partitioner", "partitioned_exists_error", "partitioned_variable",
           "min_max_variable_partitioner", "variable_axis_size_partitioner"]


def fixed_size_partitioner(num_shards: int, axis: int = 0) -> Callable[..., List[int]]:
    """TF1's ``fixed_size_partitioner``: ``num_shards`` shards along ``axis``.

    Example:
        >>> fixed_size_partitioner(3)(shape=(10, 2), dtype=None)
        [3, 1]
    """
    def partitioner(shape: Sequence[int], dtype: Any = None) -> List[int]:
        partitions = [1] * len(shape)
        partitions[axis] = min(num_shards, int(shape[axis]))
        return partitions

    return partitioner


def variable_axis_size_partitioner(max_shard_bytes: int, axis: int = 0,
                                   bytes_per_string_element: int = 16,
                                   max_shards: Optional[int] = None) -> Callable[..., List[int]]:
    """TF1's ``variable_axis_size_partitioner``: shards of at most ``max_shard_bytes``."""
    if max_shard_bytes < 1:
        raise PartitionerError.make(f"max_shard_bytes must be positive, got: {max_shard_bytes}")

    def partitioner(shape: Sequence[int], dtype: Any = None) -> List[int]:
        itemsize = torch.empty((), dtype=dtype or torch.float32).element_size()
        rest = 1
        for i, dim in enumerate(shape):
            if i != axis:
                rest *= int(dim)
        slice_bytes = max(rest * itemsize, 1)
        shards = max(1, -(-int(shape[axis]) * slice_bytes // max_shard_bytes))
        shards = min(shards, int(shape[axis]) or 1)
        if max_shards:
            shards = min(shards, max_shards)
        partitions = [1] * len(shape)
        partitions[axis] = shards
        return partitions

    return partitioner


def min_max_variable_partitioner(max_partitions: int = 1, axis: int = 0,
                                 min_slice_size: int = 256 << 10,
                                 bytes_per_string_element: int = 16) -> Callable[..., List[int]]:
    """TF1's ``min_max_variable_partitioner``: as many shards of ≥ ``min_slice_size`` bytes as
    fit, at most ``max_partitions``."""
    def partitioner(shape: Sequence[int], dtype: Any = None) -> List[int]:
        itemsize = torch.empty((), dtype=dtype or torch.float32).element_size()
        total = itemsize
        for dim in shape:
            total *= int(dim)
        shards = max(1, min(max_partitions, int(shape[axis]), total // min_slice_size))
        partitions = [1] * len(shape)
        partitions[axis] = shards
        return partitions

    return partitioner


def partitioned_exists_error(name: str) -> PartitionerError:
    return PartitionerError.make(
        f"No partitioner was provided, but a partitioned version of the variable was found: "
        f"{name}/part_0. Perhaps a variable of the same name was already created with "
        "partitioning?", fix="pass the same partitioner (or reuse=True) to share it.")


def _call_partitioner(partitioner: Callable, shape: Shape, dtype: torch.dtype) -> Tuple[int, ...]:
    """TF1's ``_call_partitioner``: the partitioner's answer, validated."""
    if not callable(partitioner):
        raise PartitionerError.make(f"Partitioner must be callable, but received: {partitioner}")
    if not is_fully_defined(shape):
        raise PartitionerError.make(
            "Shape of a new partitioned variable must be fully defined, but instead was "
            f"{shape_str(shape)}.", fix="give every dimension a size.")
    if len(shape) < 1:  # type: ignore[arg-type]
        raise PartitionerError.make(
            f"A partitioned Variable must have rank at least 1, shape: {shape_str(shape)}")
    slicing = partitioner(shape=torch.Size(shape), dtype=dtype)  # type: ignore[arg-type]
    if not isinstance(slicing, SequenceABC) or isinstance(slicing, str):
        raise PartitionerError.make(f"Partitioner must return a sequence, but saw: {slicing}")
    if len(slicing) != len(shape):  # type: ignore[arg-type]
        raise PartitionerError.make(
            "Partitioner returned a partition list that does not match the Variable's rank: "
            f"{list(slicing)} vs. {shape_str(shape)}")
    if any(p < 1 for p in slicing):
        raise PartitionerError.make(
            f"Partitioner returned zero partitions for some axes: {list(slicing)}")
    if sum(p > 1 for p in slicing) > 1:
        raise PartitionerError.make(
            f"Can only slice a variable along one dimension: shape: {shape_str(shape)}, "
            f"partitioning: {list(slicing)}")
    return tuple(int(p) for p in slicing)


def partitioned_variable(store: ScopedParameterStore, binder: StoreBinder, name: str,
                         partitioner: Optional[Callable], shape: Shape, dtype: torch.dtype,
                         initializer: Any, regularizer: Optional[Callable], reuse: Any,
                         trainable: bool, collections: Optional[Sequence[str]],
                         constraint: Optional[Callable]) -> Any:
    """TF1's ``_get_partitioned_variable``, storing the variable whole.

    Raises:
        PartitionerError: an invalid partitioning, or an unpartitioned variable of that name.
        VariableExistsError / VariableNotFoundError: the reuse mode forbids the outcome.
        ShapeMismatchError / DTypeMismatchError: reuse with another shape / dtype / partitioning.
    """
    record = store._registry.get(name)
    if record is not None and record.partitions is None:
        raise PartitionerError.make(
            "A partitioner was provided, but an unpartitioned version of the variable was "
            f"found: {name}.  Perhaps a variable of the same name was already created without "
            "partitioning?", fix="drop the partitioner, or use another name.")
    if isinstance(initializer, torch.Tensor):
        value_shape = tuple(initializer.shape)
        if not is_compatible(shape, value_shape):
            raise ShapeMismatchError(name, shape_str(shape), shape_str(value_shape), True)
        shape = value_shape
    partitions = None
    if not reuse or partitioner:
        partitions = _call_partitioner(partitioner, shape, dtype)  # type: ignore[arg-type]
    if record is not None:
        if reuse is False and binder.visible(record):
            raise VariableExistsError(name, format_origin(record.origin), partitioned=True)
        check_existing(record, shape, dtype, partitioned=True,
                       current=binder.current_dtype(store, record))
        if partitions is not None and partitions != record.partitions:
            raise PartitionerError.make(
                f"Trying to reuse partitioned variable {name}, but specified partitions "
                f"{list(partitions)} and found partitions {list(record.partitions or ())}.",
                fix="pass the partitioner the variable was created with.")
        return binder.bind(record)
    if reuse is True:
        raise VariableNotFoundError(name, partitioned=True)
    with store._lock:
        binder.check_create(name, trainable)
        value = _initial_value(store, name, shape, dtype, initializer, partitions)  # type: ignore[arg-type]
        return new_variable(store, binder, name, value, trainable, collections, regularizer,
                            constraint, partitions=partitions)


def _initial_value(store: ScopedParameterStore, name: str, shape: Tuple[int, ...],
                   dtype: torch.dtype, initializer: Any, partitions: Tuple[int, ...]) -> torch.Tensor:
    """The whole variable's value, made shard by shard as TF1 initialises shards."""
    slice_dim, num_slices = 0, 1
    for dim, count in enumerate(partitions):
        if count > 1:
            slice_dim, num_slices = dim, count
            break
    whole = None
    if is_value(initializer) or isinstance(initializer, torch.Tensor):
        whole = value_to_tensor(initializer, name, None if isinstance(
            initializer, torch.Tensor) else dtype)
    shards = []
    with store.creation_device():
        for i, (offset, shard_shape) in enumerate(shard_slices(list(shape), num_slices, slice_dim)):
            if whole is not None:
                index = [slice(o, o + s) for o, s in zip(offset, shard_shape)]
                shards.append(whole[tuple(index)])
                continue
            init = initializer if initializer is not None else default_initializer(name, dtype)
            info = PartitionInfo(shape, offset)
            shards.append(make_value(f"{name}/part_{i}", tuple(shard_shape), dtype, init, info))
    return torch.cat(shards, dim=slice_dim) if len(shards) > 1 else shards[0]
