"""Shapes, dtypes and TF1's synchronization/aggregation enums, normalised early.

TF1 accepts a shape as a list, tuple, ``TensorShape`` or a single int, with ``None`` for unknown
sizes; dtypes as ``tf.float32``. Ported code passes ``torch.float32`` (or ``"float32"``, a numpy
dtype). Everything is turned into a tuple and a ``torch.dtype`` here, once, at the boundary.

Example:
    >>> as_shape([3, None], "w")
    (3, None)
    >>> as_dtype("float32") is torch.float32, dtype_name(torch.int32)
    (True, 'int32')
    >>> shape_str((2,)), shape_str(()), is_compatible((None, 4), (3, 4))
    ('(2,)', '()', True)
"""

from __future__ import annotations

import enum
import operator
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from ._errors import InvalidDTypeError, InvalidShapeError, VariableArgumentError

__all__ = [
    "DTypeLike",
    "Shape",
    "ShapeLike",
    "VariableAggregation",
    "VariableSynchronization",
    "as_dtype",
    "as_shape",
    "dtype_name",
    "is_compatible",
    "is_fully_defined",
    "shape_str",
]

Shape = Optional[Tuple[Optional[int], ...]]
ShapeLike = Union[None, int, Sequence[Optional[int]], torch.Size]
DTypeLike = Union[None, torch.dtype, str, np.dtype, type]

_DTYPE_BY_NAME = {
    "float16": torch.float16, "half": torch.float16, "bfloat16": torch.bfloat16,
    "float32": torch.float32, "float": torch.float32, "float64": torch.float64,
    "double": torch.float64, "int8": torch.int8, "uint8": torch.uint8, "int16": torch.int16,
    "int32": torch.int32, "int64": torch.int64, "bool": torch.bool,
    "complex64": torch.complex64, "complex128": torch.complex128,
}
for _name in ("uint16", "uint32", "uint64"):      # torch >= 2.3
    if hasattr(torch, _name):
        _DTYPE_BY_NAME[_name] = getattr(torch, _name)


class VariableSynchronization(enum.Enum):
    """TF1's ``tf.VariableSynchronization``; ``ON_READ`` makes a variable non-trainable by default."""

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation(enum.Enum):
    """TF1's ``tf.VariableAggregation``: accepted and recorded (DDP always averages gradients)."""

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


# bound once: as_dtype can run in every pass (a dtype given to get_variable or to an initializer
# made in forward), and under torch.compile reading ``torch.dtype`` here would add a guard that
# this module's ``torch`` is the caller's
_TORCH_DTYPE = torch.dtype


def as_dtype(dtype: DTypeLike) -> torch.dtype:
    """A ``torch.dtype`` for a torch, numpy or named dtype (TF1's ``_ref`` suffix is dropped).

    Raises:
        InvalidDTypeError: for anything that names no torch dtype (``"string"`` included: torch
            has no string tensors).
    """
    if isinstance(dtype, _TORCH_DTYPE):     # the everyday case (torch.compile before 2.13
        return dtype                        # misreads ``dtype.__class__`` of a dtype constant)
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None)
    if name is None:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            raise InvalidDTypeError(dtype) from None
    name = str(name)
    if name.endswith("_ref"):
        name = name[:-4]
    if name.startswith("torch."):
        name = name[6:]
    found = _DTYPE_BY_NAME.get(name)
    if found is None:
        why = ("torch has no string tensors; keep strings outside the store."
               if name in ("string", "str", "object") else "")
        raise InvalidDTypeError(dtype, why)
    return found


def dtype_name(dtype: torch.dtype) -> str:
    """TF's spelling of a dtype in messages: ``float32``, not ``torch.float32``."""
    return str(dtype).replace("torch.", "")


def as_shape(shape: ShapeLike, name: str = "") -> Shape:
    """A tuple of ints/None, or None for an unknown shape.

    Raises:
        InvalidShapeError: a negative or non-integer dimension.
    """
    if shape is None:
        return None
    if isinstance(shape, torch.Size):
        return tuple(shape)
    if isinstance(shape, (str, bytes)):
        raise InvalidShapeError(name, shape, "a shape is a list of ints, not a string")
    try:
        dims = list(shape)  # type: ignore[arg-type]
    except TypeError:
        dims = [shape]          # TF1 treats a single value as a one-dimensional shape
    out = []
    for dim in dims:
        if dim is None:
            out.append(None)
            continue
        if isinstance(dim, bool) or isinstance(dim, float):
            raise InvalidShapeError(name, shape, f"dimension {dim!r} is not an integer")
        try:
            size = operator.index(dim)
        except TypeError:
            raise InvalidShapeError(name, shape, f"dimension {dim!r} is not an integer") from None
        if size < 0:
            raise InvalidShapeError(name, shape, f"dimension {size} must be >= 0")
        out.append(size)
    return tuple(out)


def shape_str(shape: Shape) -> str:
    """TF2's ``str(TensorShape)``: ``(2,)``, ``(4, 3)``, ``()``, ``(None, 4)``, ``<unknown>``."""
    return "<unknown>" if shape is None else str(tuple(shape))


def is_fully_defined(shape: Shape) -> bool:
    return shape is not None and None not in shape


def is_compatible(requested: Shape, found: Shape) -> bool:
    """TF's ``is_compatible_with``: same rank, each dim equal or None; None shape matches all."""
    if requested is None or found is None:
        return True
    if len(requested) != len(found):
        return False
    return all(a is None or b is None or a == b for a, b in zip(requested, found))


def as_device(spec: Any) -> Optional[torch.device]:
    """A ``torch.device`` for a torch device or a TF1 device string (``"/gpu:1"``,
    ``"/job:worker/device:GPU:0"``, ``"/cpu:0"``); None for ``None`` or ``""`` (TF: no device).

    Raises:
        VariableArgumentError: a TF device string naming no device type (e.g. ``"/job:ps"``).
    """
    if spec is None or spec == "":
        return None
    if isinstance(spec, torch.device):
        return spec
    if isinstance(spec, str) and spec.startswith("/"):
        kind, index = None, None
        for part in spec.strip("/").split("/"):
            fields = part.split(":")
            if fields[0].lower() == "device" and len(fields) >= 2:
                fields = fields[1:]
            if fields[0].lower() in ("cpu", "gpu", "cuda", "xpu", "mps", "meta"):
                kind = "cuda" if fields[0].lower() == "gpu" else fields[0].lower()
                index = fields[1] if len(fields) > 1 and fields[1] != "*" else None
        if kind is None:
            raise VariableArgumentError.other(
                f"Cannot place a variable copy on {spec!r}: it names no device type.",
                why="torchscope maps TF device strings to torch devices; job/replica/task parts "
                    "have no PyTorch meaning.",
                fix="pass a torch device such as 'cuda:0' or '/gpu:0' (or torch.device(...)).")
        spec = kind if index is None or kind == "cpu" else f"{kind}:{index}"
    try:
        return torch.device(spec)
    except (RuntimeError, TypeError) as err:
        raise VariableArgumentError.other(
            f"Invalid device {spec!r}: {err}", fix="pass e.g. 'cpu', 'cuda:0' or '/gpu:0'.") from None
