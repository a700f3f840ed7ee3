"""A raw snappy decoder, for checkpoint index blocks written by TF 1.1-1.3.

>>> decompress(b"\\x05\\x10hello", "x.index")
b'hello'
>>> decompress(b"\\x08\\x00a\\x0d\\x01", "x.index")  # "a", then a copy of 7 bytes at offset 1
b'aaaaaaaa'

Only the raw block format (no framing): a varint of the uncompressed length, then elements whose
tag's low two bits say literal (0) or copy with a 1-, 2- or 4-byte offset (1, 2, 3). A copy may
overlap its own output (offset < length), which repeats the last ``offset`` bytes.
"""

from __future__ import annotations

from typing import Union

from .._errors import CheckpointFormatError

__all__ = ["decompress"]

# The largest element (a 3-byte copy) expands 64 bytes, so no valid block grows more than ~22x;
# a bigger declared size is corruption, and refusing it avoids allocating on its say-so.
_MAX_EXPANSION = 32


def _bad(path: str, what: str) -> CheckpointFormatError:
    return CheckpointFormatError.make(path, f"corrupted snappy-compressed index block: {what}")


def decompress(data: Union[bytes, memoryview], path: str) -> bytes:
    """Decompresses one raw snappy block.

    >>> decompress(b"\\x00", "x.index")
    b''

    Args:
        data: the compressed block contents.
        path: the file the block came from, named in errors.

    Returns:
        The uncompressed bytes.

    Raises:
        CheckpointFormatError: the stream is malformed (bad varint, copy before the start, wrong
            final length).
    """
    src = bytes(data)
    end = len(src)
    size = shift = pos = 0
    while True:
        if pos >= end or shift > 28:
            raise _bad(path, "bad length header")
        byte = src[pos]
        pos += 1
        size |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    if size > _MAX_EXPANSION * end + 64:
        raise _bad(path, f"declares {size} bytes from {end} compressed bytes")
    out = bytearray()
    while pos < end:
        tag = src[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:
            length = (tag >> 2) + 1
            if length > 60:
                extra = length - 60
                length = int.from_bytes(src[pos:pos + extra], "little") + 1
                pos += extra
            if pos + length > end:
                raise _bad(path, f"literal of {length} bytes runs past the end")
            out += src[pos:pos + length]
            pos += length
            continue
        if kind == 1:
            length = 4 + ((tag >> 2) & 7)
            offset = ((tag >> 5) << 8) | (src[pos] if pos < end else 0)
            pos += 1
        else:
            width = 2 if kind == 2 else 4
            length = (tag >> 2) + 1
            offset = int.from_bytes(src[pos:pos + width], "little")
            pos += width
        if pos > end:
            raise _bad(path, "copy element runs past the end")
        if offset == 0 or offset > len(out):
            raise _bad(path, f"copy offset {offset} outside the {len(out)} bytes produced")
        if len(out) + length > size:
            break
        start = len(out) - offset
        if offset >= length:
            out += out[start:start + length]
        else:
            # Overlapping copy: the pattern repeats every `offset` bytes.
            pattern = bytes(out[start:])
            out += (pattern * (length // offset + 1))[:length]
    if len(out) != size:
        raise _bad(path, f"produced {len(out)} bytes, header says {size}")
    return bytes(out)
