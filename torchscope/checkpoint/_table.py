"""The ``.index`` file: a LevelDB-style SSTable mapping tensor names to their entries.

>>> pairs = read_table("tests/data/checkpoints/tf1_many_dtypes/model.ckpt.index")
>>> pairs[0][0]    # the header entry comes first, under the empty key
b''
>>> b"global_step" in dict(pairs)
True

Layout (``tsl/lib/io/format.h``; LevelDB's table format without filter blocks)::

    [data block][trailer] ... [metaindex block][trailer] [index block][trailer] [footer: 48 bytes]

* footer: two ``BlockHandle`` s (varint offset, varint size; metaindex then index) zero-padded to
  40 bytes, then the magic ``0xdb4775248b80fb57`` as two little-endian fixed32 (low word first);
* trailer: 1 byte compression (0 none, 1 snappy), then the masked CRC32C of the block contents
  *and* that byte. The handle's size excludes the trailer;
* block: entries ``varint shared, varint unshared, varint value_len, key_delta, value`` whose key
  is ``previous_key[:shared] + key_delta``, then ``uint32 restarts[n]`` and ``uint32 n``;
* index block: one entry per data block whose value is that block's handle. Its keys are only
  separators between blocks, never tensor names; the metaindex block is empty in TensorFlow.

Block checksums are always verified, as TensorFlow does: index blocks are small.
"""

from __future__ import annotations

from typing import List, Tuple

from .._errors import CheckpointChecksumError, CheckpointFormatError, CheckpointNotFoundError
from . import _crc32c, _snappy
from ._proto import read_varint

__all__ = ["TABLE_MAGIC", "FOOTER_SIZE", "read_table", "parse_block"]

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
_TRAILER_SIZE = 5
_NO_COMPRESSION, _SNAPPY = 0, 1


def _read_handle(buf: bytes, pos: int, end: int, path: str, what: str) -> Tuple[int, int, int]:
    offset, pos = read_varint(buf, pos, end, path, what)
    size, pos = read_varint(buf, pos, end, path, what)
    return offset, size, pos


def _read_block(data: bytes, offset: int, size: int, path: str, what: str) -> bytes:
    """Returns the block's contents after checking its trailer's CRC and decompressing it."""
    limit = len(data) - FOOTER_SIZE
    if offset + size + _TRAILER_SIZE > limit:
        raise CheckpointFormatError.make(
            path, f"{what} at offset {offset} with {size} bytes (+5 trailer) runs past the "
                  f"{limit} bytes before the footer; the file is truncated or corrupt")
    end = offset + size
    kind = data[end]
    stored = int.from_bytes(data[end + 1:end + _TRAILER_SIZE], "little")
    actual = _crc32c.crc32c(memoryview(data)[offset:end + 1])
    if _crc32c.unmask(stored) != actual:
        raise CheckpointChecksumError.make(
            path, f"block checksum mismatch in {what} at offset {offset}: stored "
                  f"{_crc32c.unmask(stored):#010x}, computed {actual:#010x}; the file is "
                  "corrupt",
            fix="re-copy the checkpoint from its source; the index file is damaged.")
    contents = data[offset:end]
    if kind == _SNAPPY:
        return _snappy.decompress(contents, path)
    if kind != _NO_COMPRESSION:
        raise CheckpointFormatError.make(path, f"{what} has unknown compression type {kind}")
    return contents


def parse_block(contents: bytes, path: str, what: str) -> List[Tuple[bytes, bytes]]:
    """Decodes a block's prefix-compressed entries into ``(key, value)`` pairs.

    >>> entries = b"\\x00\\x01\\x01ax" b"\\x01\\x01\\x01by"   # "a" -> "x", then "a"+"b" -> "y"
    >>> parse_block(entries + bytes(4) + (1).to_bytes(4, "little"), "f", "b")
    [(b'a', b'x'), (b'ab', b'y')]
    """
    if len(contents) < 4:
        raise CheckpointFormatError.make(path, f"{what} is {len(contents)} bytes, too short")
    num_restarts = int.from_bytes(contents[-4:], "little")
    end = len(contents) - 4 - 4 * num_restarts
    if end < 0:
        raise CheckpointFormatError.make(
            path, f"{what} claims {num_restarts} restart points, more than its "
                  f"{len(contents)} bytes can hold")
    pairs = []
    key = b""
    pos = 0
    while pos < end:
        shared, pos = read_varint(contents, pos, end, path, what)
        unshared, pos = read_varint(contents, pos, end, path, what)
        value_len, pos = read_varint(contents, pos, end, path, what)
        if shared > len(key) or pos + unshared + value_len > end:
            raise CheckpointFormatError.make(
                path, f"{what} has a malformed entry at byte {pos} (shares {shared} key bytes "
                      f"of {len(key)}, {unshared}+{value_len} bytes follow; {end - pos} remain)")
        key = key[:shared] + contents[pos:pos + unshared]
        pos += unshared
        pairs.append((key, contents[pos:pos + value_len]))
        pos += value_len
    return pairs


def read_table(path: str) -> List[Tuple[bytes, bytes]]:
    """Reads every ``(key, value)`` of the SSTable at ``path``, in file (sorted) order.

    Raises:
        CheckpointNotFoundError: ``path`` does not exist.
        CheckpointFormatError: truncated file, wrong magic, handles out of range, bad blocks.
        CheckpointChecksumError: a block's CRC32C does not match its contents.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise CheckpointNotFoundError.make(path, "no such checkpoint index file") from None
    except OSError as e:
        raise CheckpointNotFoundError.make(path, f"cannot read the index file: {e.strerror}") \
            from None
    if len(data) < FOOTER_SIZE:
        raise CheckpointFormatError.make(
            path, f"index file is {len(data)} bytes, shorter than the {FOOTER_SIZE}-byte SSTable "
                  "footer; it is truncated")
    footer = len(data) - FOOTER_SIZE
    magic = int.from_bytes(data[-8:], "little")
    if magic != TABLE_MAGIC:
        raise CheckpointFormatError.make(
            path, f"wrong magic number {magic:#018x} at the end of the index (expected "
                  f"{TABLE_MAGIC:#018x}); not a TensorFlow checkpoint index, or truncated")
    _, _, pos = _read_handle(data, footer, footer + 40, path, "the footer's metaindex handle")
    index_offset, index_size, _ = _read_handle(data, pos, footer + 40, path,
                                               "the footer's index handle")
    index = _read_block(data, index_offset, index_size, path, "the index block")
    pairs: List[Tuple[bytes, bytes]] = []
    for number, (_, handle) in enumerate(parse_block(index, path, "the index block")):
        what = f"data block {number}"
        offset, size, _ = _read_handle(handle, 0, len(handle), path, f"the handle of {what}")
        pairs.extend(parse_block(_read_block(data, offset, size, path, what), path, what))
    return pairs
