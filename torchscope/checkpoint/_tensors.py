"""Tensor bytes as stored in a data shard, turned into numpy arrays (and torch tensors).

>>> raw = np.frombuffer(np.array([1.5, -2.0], "<f4").tobytes(), np.uint8).copy()
>>> decode_numeric(raw, _dtypes.DTYPES[1], (2,), big_endian=False)
array([ 1.5, -2. ], dtype=float32)

Arrays here are *storage* arrays: the tensor's bytes viewed in native byte order, with bfloat16
still as its uint16 bits. :func:`to_numpy` and :func:`to_torch` make the user-facing values.

A DT_STRING tensor of ``n`` elements is laid out (``WriteStringTensor`` in ``tensor_bundle.cc``)::

    varint64 length[n] | masked crc32c of the lengths (4 bytes) | bytes[0] ... bytes[n-1]

The length checksum hashes each length as a uint32 (uint64 above 4 GiB) in the writer's byte
order, and the entry's checksum hashes those same integers, the 4 checksum bytes and the strings:
not the bytes on disk, so strings are verified here rather than by the generic data check.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, List, Literal, Sequence, Tuple

import numpy as np

from .._errors import CheckpointChecksumError, CheckpointFormatError
from . import _crc32c, _dtypes
from ._dtypes import BFLOAT16, DType
from ._proto import read_varint

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["decode_numeric", "decode_strings", "string_array", "to_numpy", "to_torch"]

_NATIVE_BIG = sys.byteorder == "big"


def decode_numeric(raw: np.ndarray, dtype: DType, shape: Sequence[int],
                   big_endian: bool) -> np.ndarray:
    """Views ``raw`` (uint8, exactly the tensor's bytes, owned) as the tensor, in place."""
    assert dtype.storage is not None
    array = raw.view(dtype.storage).reshape(tuple(shape))
    if dtype.storage.itemsize > 1 and big_endian != _NATIVE_BIG:
        array.byteswap(inplace=True)
    return array.view(dtype.storage.newbyteorder("="))


def decode_strings(raw: np.ndarray, count: int, big_endian: bool, stored_crc: int,
                   verify: bool, path: str, label: str) -> List[bytes]:
    """Splits a DT_STRING tensor's bytes into its ``count`` strings, checking both checksums.

    The length checksum is always checked (as TensorFlow does); the entry checksum only when
    ``verify`` is true.
    """
    data = raw.tobytes()
    end = len(data)
    if count == 0 and end == 0:  # TF's reader accepts an empty string tensor with no bytes
        return []
    order: Literal["little", "big"] = "big" if big_endian else "little"
    lengths = []
    packed = bytearray()
    pos = 0
    for _ in range(count):
        length, pos = read_varint(data, pos, end, path, f"the string lengths of {label}")
        lengths.append(length)
        packed += length.to_bytes(4 if length <= 0xFFFFFFFF else 8, order)
    if pos + 4 + sum(lengths) != end:
        raise CheckpointFormatError.make(
            path, f"string tensor {label}: {pos} bytes of lengths + 4 + {sum(lengths)} bytes of "
                  f"strings != its stored size {end}")
    length_crc = _crc32c.crc32c(packed)
    stored_length_crc = int.from_bytes(data[pos:pos + 4], order)
    if _crc32c.unmask(stored_length_crc) != length_crc:
        raise CheckpointChecksumError.make(
            path, f"string tensor {label}: the length checksum does not match (stored "
                  f"{_crc32c.unmask(stored_length_crc):#010x}, computed {length_crc:#010x}); "
                  "the data file is corrupt")
    body = pos + 4
    if verify:
        crc = _crc32c.crc32c(memoryview(data)[pos:], length_crc)
        if _crc32c.unmask(stored_crc) != crc:
            raise CheckpointChecksumError.make(
                path, f"checksum mismatch for string tensor {label} (stored "
                      f"{_crc32c.unmask(stored_crc):#010x}, computed {crc:#010x}); the data "
                      "file is corrupt")
    strings = []
    for length in lengths:
        strings.append(data[body:body + length])
        body += length
    return strings


def string_array(strings: List[bytes], shape: Tuple[int, ...]) -> np.ndarray:
    """An object array of ``bytes``, as TensorFlow returns string tensors."""
    array = np.empty(len(strings), dtype=object)
    array[:] = strings
    return array.reshape(shape)


def to_numpy(storage: np.ndarray, code: int) -> Any:
    """The value TF's ``get_tensor`` returns: an array, or a numpy scalar / ``bytes`` for 0-d."""
    if code == BFLOAT16:
        bf16 = _dtypes.bfloat16_dtype()
        if bf16 is not None:
            storage = storage.view(bf16)
        else:
            # Lossless: a bfloat16 is exactly the high 16 bits of a float32.
            storage = np.left_shift(storage.astype(np.uint32), 16).view(np.float32)
    return storage[()] if storage.ndim == 0 else storage


def to_torch(storage: np.ndarray, code: int) -> "torch.Tensor":
    """A writable torch tensor sharing ``storage`` 's memory (bfloat16 as ``torch.bfloat16``)."""
    import torch

    if code == BFLOAT16:
        return torch.from_numpy(storage.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(storage)
