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

import sys
from typing import Any, Callable, Optional, Sequence, Tuple

import torch
from torch import nn

from ._types import Shape, dtype_name, shape_str

__all__ = ["Record", "format_frames", "user_frames"]

_TORCHSCOPE_DIR = __file__.rsplit("/", 1)[0]
_TORCH_DIR = torch.__file__.rsplit("/", 1)[0]
_MAX_ORIGIN_FRAMES = 1


_SKIPPED_FILES = (_TORCHSCOPE_DIR, _TORCH_DIR, "<frozen")


def user_frames(skip: int = 0) -> Tuple[Tuple[str, int, str], ...]:
    """The innermost few caller frames outside torchscope and torch (cheap: no source read;
    it runs for every variable created). ``skip``: caller frames known to be torchscope's
    (Python only builds frame objects from where the walk starts)."""
    frames = []
    frame = sys._getframe(1 + skip)
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        if not filename.startswith(_SKIPPED_FILES) and "contextlib" not in filename:
            frames.append((filename, frame.f_lineno, code.co_name))
            if len(frames) == _MAX_ORIGIN_FRAMES:
                break
        frame = frame.f_back
    return tuple(frames)


def format_frames(frames: Sequence[Tuple[str, int, str]]) -> str:
    import linecache

    lines = []
    for filename, lineno, func in frames:
        lines.append(f'  File "{filename}", line {lineno}, in {func}')
        code = linecache.getline(filename, lineno).strip()
        if code:
            lines.append("    " + code)
    return "\n".join(lines)


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
                 origin: Tuple[Tuple[str, int, str], ...] = (),
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

    def __repr__(self) -> str:
        return (f"<variable '{self.display}' shape={shape_str(self.shape)} "
                f"dtype={dtype_name(self.dtype)}>")
