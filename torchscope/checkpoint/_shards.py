"""The data files of a bundle, and bounds-checked reads of one entry's bytes.

>>> from torchscope.checkpoint._reader import CheckpointReader
>>> reader = CheckpointReader("tests/data/checkpoints/tf1_sharded")
>>> shards = DataShards(reader.prefix, 2, reader.prefix + ".index")
>>> shards.path(1)
'tests/data/checkpoints/tf1_sharded/model.ckpt.data-00001-of-00002'

Shard file names come from the header's ``num_shards`` (``DataFilename`` in ``naming.cc``), never
from a glob: a stray file must not change what is read. Every offset and size is checked against
the shard's real size before a byte is allocated, so a corrupt entry cannot ask for 10 GB.
"""

from __future__ import annotations

import os
from typing import Dict

import numpy as np

from .._errors import CheckpointChecksumError, CheckpointFormatError, CheckpointNotFoundError
from . import _crc32c
from ._paths import data_filename
from ._proto import BundleEntry

__all__ = ["DataShards"]


class DataShards:
    """The ``num_shards`` data files next to a bundle's index; opened per read, never held."""

    def __init__(self, prefix: str, num_shards: int, index_path: str) -> None:
        self._prefix = prefix
        self._num_shards = num_shards
        self._index_path = index_path
        self._sizes: Dict[int, int] = {}

    def path(self, shard_id: int) -> str:
        """The file name of shard ``shard_id``."""
        return data_filename(self._prefix, shard_id, self._num_shards)

    def _size(self, shard_id: int) -> int:
        if shard_id not in self._sizes:
            path = self.path(shard_id)
            try:
                self._sizes[shard_id] = os.stat(path).st_size
            except FileNotFoundError:
                raise CheckpointNotFoundError.make(
                    path, f"data shard {shard_id} of {self._num_shards} is missing",
                    fix="copy every .data-*-of-* file of the checkpoint next to its .index."
                ) from None
        return self._sizes[shard_id]

    def read(self, entry: BundleEntry, label: str, check_crc: bool) -> np.ndarray:
        """Exactly the entry's bytes, in a fresh uint8 array, CRC-checked if ``check_crc``.

        Raises:
            CheckpointNotFoundError: the shard file is missing or unreadable.
            CheckpointFormatError: the entry's shard, offset or size lie outside the files.
            CheckpointChecksumError: the bytes do not match the entry's CRC32C.
        """
        if not 0 <= entry.shard_id < self._num_shards:
            raise CheckpointFormatError.make(
                self._index_path, f"tensor {label} is in shard {entry.shard_id}, but the "
                                  f"checkpoint has {self._num_shards} shards")
        path = self.path(entry.shard_id)
        file_size = self._size(entry.shard_id)
        end = entry.offset + entry.size
        if entry.offset < 0 or entry.size < 0 or end > file_size:
            raise CheckpointFormatError.make(
                path, f"tensor {label} claims bytes [{entry.offset}, {end}) but the data file "
                      f"has {file_size} bytes; it is truncated or corrupt")
        buffer = np.empty(entry.size, dtype=np.uint8)
        try:
            with open(path, "rb") as f:
                f.seek(entry.offset)
                got = f.readinto(buffer.data)
        except OSError as e:
            raise CheckpointNotFoundError.make(path, f"cannot read: {e.strerror}") from None
        if got != entry.size:  # the file shrank since we looked at its size
            raise CheckpointFormatError.make(
                path, f"tensor {label}: read {got} of {entry.size} bytes at offset "
                      f"{entry.offset}; the data file is truncated")
        if check_crc:
            actual = _crc32c.crc32c(buffer)
            if actual != _crc32c.unmask(entry.crc32c):
                raise CheckpointChecksumError.make(
                    path, f"checksum mismatch for tensor {label} at offset {entry.offset} "
                          f"(stored {_crc32c.unmask(entry.crc32c):#010x}, computed "
                          f"{actual:#010x}); the data file is corrupt")
        return buffer
