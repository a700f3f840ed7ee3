"""Initial values: TF1's initializer resolution, turned into a tensor.

An initializer is either a value (tensor, array, number, nested list: the variable's shape and
dtype come from it) or a callable. Callables are called TF1's way, ``initializer(shape_list,
dtype=dtype)`` plus ``partition_info=`` when they take it; a class is instantiated first; a
zero-argument callable is called bare when the shape is not fully known; ``torch.nn.init``'s
in-place functions (``xavier_uniform_``, ...) fill an empty tensor. Python numbers follow TF's
conversion rules (int → int32, float → float32), not torch's.

Example:
    >>> import torch
    >>> value_to_tensor(4, "v").dtype, value_to_tensor([1.0, 2.0], "v").dtype
    (torch.int32, torch.float32)
    >>> make_value("w", (2, 2), torch.float32, torch.nn.init.ones_, None).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import torch

from ._errors import InitializerError, InitializerTypeError, InvalidDTypeError
from ._types import Shape, dtype_name, is_fully_defined
from .initializers import GlorotUniform, Zeros

__all__ = ["PartitionInfo", "default_initializer", "is_value", "make_value", "value_to_tensor"]


class PartitionInfo:
    """TF1's ``_PartitionInfo``: where a shard sits in its full variable.

    Initializers that take ``partition_info`` use ``full_shape`` for their fan computation, so a
    sharded variable is initialised like the whole one.
    """

    __slots__ = ("full_shape", "var_offset")

    def __init__(self, full_shape: Sequence[int], var_offset: Sequence[int]) -> None:
        self.full_shape = list(full_shape)
        self.var_offset = list(var_offset)

    def single_offset(self, shape: Sequence[int]) -> int:
        dim = self.single_slice_dim(shape)
        return 0 if dim is None else self.var_offset[dim]

    def single_slice_dim(self, shape: Sequence[int]) -> Optional[int]:
        for i, (full, size) in enumerate(zip(self.full_shape, shape)):
            if full != size:
                return i
        return None

    def __repr__(self) -> str:
        return f"PartitionInfo(full_shape={self.full_shape}, var_offset={self.var_offset})"


def is_value(initializer: Any) -> bool:
    """A constant initializer (TF1: "not callable")."""
    return initializer is not None and not callable(initializer)


def value_to_tensor(value: Any, name: str, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """TF's ``convert_to_tensor`` for an initializer value (a fresh tensor, never an alias).

    Raises:
        InitializerTypeError: the value does not convert (e.g. a dict).
    """
    if isinstance(value, torch.Tensor):
        tensor = value.detach().clone()
    elif isinstance(value, (np.ndarray, np.generic)):
        if value.dtype == object or value.dtype.kind in "SUV":
            raise InitializerTypeError(name, value)
        tensor = torch.from_numpy(np.array(value, copy=True))
    else:
        try:
            array = np.array(value)
        except (ValueError, TypeError):
            raise InitializerTypeError(name, value) from None
        if array.dtype == object or array.dtype.kind in "SUV":
            raise InitializerTypeError(name, value)
        # TF's Python-value rules: ints are int32 (when they fit), floats float32.
        if array.dtype == np.int64 and array.size and (
                array.min() >= -2**31 and array.max() < 2**31):
            array = array.astype(np.int32)
        elif array.dtype == np.int64 and not array.size:
            array = array.astype(np.int32)
        elif array.dtype == np.float64:
            array = array.astype(np.float32)
        tensor = torch.from_numpy(array)
    if dtype is not None and tensor.dtype != dtype:
        tensor = tensor.to(dtype)
    return tensor


# Initializers hold only their arguments, so one instance of each default serves every variable
# (constructing one per variable showed in the build benchmark).
_GLOROT_UNIFORM = GlorotUniform()
_ZEROS = Zeros()


def default_initializer(name: str, dtype: torch.dtype) -> Callable:
    """glorot_uniform for floating dtypes, zeros for integers and bool (TF1's defaults).

    Raises:
        InitializerError: no default exists (complex dtypes).
    """
    if dtype.is_floating_point:
        return _GLOROT_UNIFORM
    if not dtype.is_complex:
        return _ZEROS
    raise InitializerError.required(name, f"<dtype: '{dtype_name(dtype)}'>")


def _takes_partition_info(fn: Callable) -> bool:
    from .initializers import Initializer

    if isinstance(fn, Initializer):  # ours all do; skip the (slow) signature inspection
        return True
    try:
        return "partition_info" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def needs_no_arguments(fn: Callable) -> bool:
    """True when ``fn`` can be called with no arguments (TF1's ``_needs_no_arguments``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


def _torch_inplace(fn: Any) -> bool:
    """``torch.nn.init.xavier_uniform_`` and friends (possibly wrapped in functools.partial)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return (getattr(fn, "__module__", None) == "torch.nn.init"
            and getattr(fn, "__name__", "").endswith("_"))


def make_value(name: str, shape: Shape, dtype: torch.dtype, initializer: Any,
               partition_info: Optional[PartitionInfo]) -> torch.Tensor:
    """The initial value of a new variable, on the current default device.

    ``initializer`` is already resolved (never None). For a value, ``shape`` must be None.

    Raises:
        InitializerError: the callable needs a shape that is not fully defined, or returned a
            tensor of another shape.
        InitializerTypeError: a value that does not convert.
    """
    if is_value(initializer):
        return value_to_tensor(initializer, name).to(torch.get_default_device())
    if inspect.isclass(initializer):
        initializer = initializer()
    if is_fully_defined(shape):
        dims = list(shape)  # type: ignore[arg-type]
        if _torch_inplace(initializer):
            tensor = torch.empty(dims, dtype=dtype)      # on the default device
            initializer(tensor)
        elif type(initializer).__module__ == _OWN_INITIALIZERS:
            # torchscope's initializers return the dtype asked for, on the default device:
            # no conversion (asking torch for the default device is the costly part).
            tensor = initializer(dims, dtype=dtype, partition_info=partition_info)
        elif _takes_partition_info(initializer):
            tensor = _as_result(initializer(dims, dtype=dtype, partition_info=partition_info),
                                name, dtype)
        else:
            tensor = _as_result(initializer(dims, dtype=dtype), name, dtype)
        if tuple(tensor.shape) != tuple(dims):
            raise InitializerError.bad_result(name, tuple(dims), tuple(tensor.shape))
        return tensor
    if needs_no_arguments(initializer):
        return _as_result(initializer(), name, None)
    raise InitializerError.not_valid(name, shape)


_OWN_INITIALIZERS = "torchscope.initializers"


def _as_result(result: Any, name: str, dtype: Optional[torch.dtype]) -> torch.Tensor:
    if isinstance(result, torch.Tensor):
        tensor = result.detach()
        if dtype is not None and tensor.dtype != dtype:
            tensor = tensor.to(dtype)
        return tensor.to(torch.get_default_device())
    try:
        return value_to_tensor(result, name, dtype).to(torch.get_default_device())
    except InvalidDTypeError:
        raise InitializerTypeError(name, result) from None


def shard_slices(full_shape: Sequence[int], num_slices: int,
                 slice_dim: int) -> Tuple[Tuple[list, list], ...]:
    """TF1's ``_iter_slices``: (offset, shape) of each shard; the first ``dim % n`` get one more."""
    excess = full_shape[slice_dim] % num_slices
    smallest = full_shape[slice_dim] // num_slices
    offset = [0] * len(full_shape)
    out = []
    for i in range(num_slices):
        shape = list(full_shape)
        shape[slice_dim] = smallest + (1 if i < excess else 0)
        out.append((list(offset), shape))
        offset[slice_dim] += shape[slice_dim]
    return tuple(out)
