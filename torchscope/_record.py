"""``Record``: everything the store knows about one variable, and where it was created.

Example:
    >>> import torch, torchscope as ts
    >>> store = ts.ScopedParameterStore()
    >>> with store.as_default():
    ...     w = ts.get_variable("w", [2])
    >>> store.record_of(w)
    <variable 'w' shape=(2,) dtype=float32>
"""

from __future__ import annotations

import dis
import sys
from types import CodeType
from typing import Any, Callable, Optional, Tuple

import torch
from torch import nn

from ._types import Shape, dtype_name, shape_str

__all__ = ["Origin", "Record", "format_frame", "format_origin", "resolve_origin", "user_origin"]

_TORCHSCOPE_DIR = __file__.rsplit("/", 1)[0]
_TORCH_DIR = torch.__file__.rsplit("/", 1)[0]


_SKIPPED_FILES = (_TORCHSCOPE_DIR, _TORCH_DIR, "<frozen")

#: Where a variable was created: the innermost caller frame outside torchscope and torch, as
#: ``(code, bytecode offset)``, or ``()`` when there is none. The line number is looked up only
#: when an error shows it: reading ``f_lineno`` scans the function's line table, and this runs
#: for every variable built (one flat tuple, too: an allocation per variable counts). A pickled
#: record carries ``(filename, line, function)`` instead, since code objects cannot be pickled.
Origin = Tuple[Any, ...]


def user_origin(skip: int = 0) -> Origin:
    """The innermost caller frame outside torchscope and torch, as ``(code, offset)``.

    ``skip``: caller frames known to be torchscope's (Python only builds frame objects from
    where the walk starts).
    """
    frame = sys._getframe(1 + skip)
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        if not filename.startswith(_SKIPPED_FILES) and "contextlib" not in filename:
            return code, frame.f_lasti
        frame = frame.f_back
    return ()


def _line_of(code: CodeType, offset: int) -> int:
    """The source line of the instruction at byte ``offset`` of ``code``."""
    line = code.co_firstlineno
    for start, start_line in dis.findlinestarts(code):
        if start > offset:
            break
        if start_line is not None:
            line = start_line
    return line


def resolve_origin(origin: Origin) -> Origin:
    """``origin`` as ``(filename, line, function)`` (``()`` stays ``()``)."""
    if len(origin) != 2:
        return origin
    code, offset = origin
    return code.co_filename, _line_of(code, offset), code.co_name


def format_frame(filename: str, lineno: int, function: str) -> str:
    """``File "...", line N, in f`` and the source line below it, as in a traceback."""
    import linecache

    line = f'  File "{filename}", line {lineno}, in {function}'
    source = linecache.getline(filename, lineno).strip()
    return f"{line}\n    {source}" if source else line


def format_origin(origin: Origin) -> str:
    """The origin as a traceback entry (:func:`format_frame`); "" for none."""
    return format_frame(*resolve_origin(origin)) if origin else ""


class Record:
    """Everything the store knows about one variable.

    ``name`` is the ``get_variable`` registry key (None for a ``ts.Variable``); ``display`` is the
    unique TF display name (state_dict key); ``shape``/``dtype`` are as declared at creation, so
    reuse checks survive ``.to()``/``.half()``; ``param`` is the canonical object.
    """

    __slots__ = ("name", "display", "param", "shape", "dtype", "trainable", "collections",
                 "regularizer", "constraint", "partitions", "origin", "caching_device")

    def __init__(self, name: Optional[str], display: str, param: nn.Parameter, shape: Shape,
                 dtype: torch.dtype, trainable: bool, collections: Tuple[str, ...],
                 regularizer: Optional[Callable] = None, constraint: Optional[Callable] = None,
                 partitions: Optional[Tuple[int, ...]] = None,
                 origin: Origin = (),
                 caching_device: Any = None) -> None:
        self.name = name
        self.display = display
        self.param = param
        self.shape = shape
        self.dtype = dtype
        self.trainable = trainable
        self.collections = collections
        self.regularizer = regularizer
        self.constraint = constraint
        self.partitions = partitions
        self.origin = origin
        self.caching_device = caching_device

    def __getstate__(self) -> Tuple[None, dict]:
        """Pickling (``torch.save`` of a module): the origin as file, line and function."""
        state = {slot: getattr(self, slot) for slot in self.__slots__}
        state["origin"] = resolve_origin(self.origin)
        return None, state

    def __repr__(self) -> str:
        return (f"<variable '{self.display}' shape={shape_str(self.shape)} "
                f"dtype={dtype_name(self.dtype)}>")
