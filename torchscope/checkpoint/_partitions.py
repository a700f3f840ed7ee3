"""Partitioned variables: checking their slice list, then putting the full tensor together.

>>> from torchscope.checkpoint import load_variable
>>> load_variable("tests/data/checkpoints/tf1_partitioned", "part/w")[5:]
array([[15., 16., 17.],
       [18., 19., 20.]], dtype=float32)

The full tensor's entry carries the dtype, the full shape and one ``TensorSliceProto`` per
slice; each slice is its own entry under an OrderedCode key (:mod:`._slices`). Everything is
validated (ranks, bounds, dtypes, shapes, and that the slices add up to the whole) before the
full array is allocated, so a corrupt shape cannot ask for more memory than the slices hold.
"""

from __future__ import annotations

from typing import Callable, Dict, List, NamedTuple, Tuple

import numpy as np

from .._errors import CheckpointFormatError
from ._dtypes import DType, dtype_name
from ._proto import BundleEntry
from ._slices import encode_slice_key

__all__ = ["Piece", "plan", "assemble"]

Region = Tuple[slice, ...]


class Piece(NamedTuple):
    """One slice: where it goes in the full tensor, its entry, and its name for messages."""

    region: Region
    entry: BundleEntry
    label: str


def _count(shape: Tuple[int, ...]) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count


def _region(name: str, shape: Tuple[int, ...], extents: Tuple[Tuple[int, int], ...],
            index_path: str) -> Region:
    if len(extents) != len(shape):
        raise CheckpointFormatError.make(
            index_path, f"a slice of {name!r} has rank {len(extents)}, the tensor {len(shape)}")
    region = []
    for (start, length), dim in zip(extents, shape):
        if length == -1 and start == 0:  # TensorSlice's "whole dimension"
            length = dim
        if start < 0 or length < 0 or start + length > dim:
            raise CheckpointFormatError.make(
                index_path, f"slice extent ({start}, {length}) of {name!r} lies outside its "
                            f"shape {list(shape)}")
        region.append(slice(start, start + length))
    return tuple(region)


def plan(name: str, entry: BundleEntry, slice_entries: Dict[bytes, BundleEntry],
         index_path: str) -> List[Piece]:
    """The slices of partitioned tensor ``name``, each checked against the full entry.

    Raises:
        CheckpointFormatError: a slice is missing, out of bounds, of another dtype or shape, or
            the slices do not add up to the full shape.
    """
    pieces = []
    for extents in entry.slices:
        region = _region(name, entry.shape, extents, index_path)
        label = f"{name!r} slice {[(r.start, r.stop) for r in region]}"
        part = slice_entries.get(encode_slice_key(name, extents))
        if part is None:
            raise CheckpointFormatError.make(index_path, f"the index has no entry for {label}")
        wanted = tuple(r.stop - r.start for r in region)
        if part.dtype != entry.dtype or part.shape != wanted:
            raise CheckpointFormatError.make(
                index_path, f"{label} is {dtype_name(part.dtype)}{list(part.shape)}, expected "
                            f"{dtype_name(entry.dtype)}{list(wanted)}")
        pieces.append(Piece(region, part, label))
    if sum(_count(p.entry.shape) for p in pieces) != _count(entry.shape):
        raise CheckpointFormatError.make(
            index_path, f"the slices of {name!r} do not add up to its shape {list(entry.shape)}")
    return pieces


def assemble(name: str, shape: Tuple[int, ...], dtype: DType, pieces: List[Piece],
             read: Callable[[BundleEntry, str], np.ndarray], index_path: str) -> np.ndarray:
    """The full storage array, each slice read with ``read(entry, label)`` and put in place."""
    out = np.empty(shape, dtype=object if dtype.storage is None else dtype.storage)
    covered = np.zeros(shape, dtype=bool)
    for piece in pieces:
        out[piece.region] = read(piece.entry, piece.label)
        covered[piece.region] = True
    if not covered.all():
        raise CheckpointFormatError.make(
            index_path, f"the slices of {name!r} overlap and leave parts uncovered")
    return out
