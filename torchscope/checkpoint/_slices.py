"""Index keys of the slices of partitioned variables (TensorFlow's OrderedCode encoding).

>>> key = encode_slice_key("part/w", ((4, 3), (0, -1)))   # rows 4..6, every column
>>> key
b'\\x00part/w\\x00\\x01\\x01\\x02\\x84\\x83\\x80\\x7f'
>>> decode_slice_key(key)
('part/w', ((4, 3), (0, -1)))

A partitioned variable has one entry under its own name (dtype, full shape, a list of slices) and
one entry per slice under ``EncodeTensorNameSlice(name, slice)`` (``saved_tensor_slice_util.cc``)::

    NumIncreasing(0) String(name) NumIncreasing(rank)
    [SignedNumIncreasing(start) SignedNumIncreasing(length)] * rank

with ``length == -1`` for a whole dimension. Such keys start with ``\\x00``, so they sort before
every name and are easy to hide. Rules (``strings/ordered_code.cc``): an unsigned number is a
byte count then big-endian bytes; a string escapes ``\\x00`` as ``\\x00\\xff`` and ``\\xff`` as
``\\xff\\x00`` and ends with ``\\x00\\x01``; a signed number puts its length in unary in the
leading bits (one byte covers -64..63, n bytes cover [-2**(7n-1), 2**(7n-1))).
"""

from __future__ import annotations

import re
from typing import Optional, Sequence, Tuple

__all__ = ["is_slice_key", "encode_slice_key", "decode_slice_key"]

Extents = Tuple[Tuple[int, int], ...]

# Header bits of the first two bytes of a signed number, by encoded length (index 1..10).
_HEADER = ((0, 0), (0x80, 0), (0xC0, 0), (0xE0, 0), (0xF0, 0), (0xF8, 0), (0xFC, 0), (0xFE, 0),
           (0xFF, 0), (0xFF, 0x80), (0xFF, 0xC0))
# The same header bits as they overlap the 64-bit payload, by length (kLengthToMask).
_LENGTH_TO_MASK = (0, 0x80, 0xC000, 0xE00000, 0xF0000000, 0xF800000000, 0xFC0000000000,
                   0xFE000000000000, 0xFF00000000000000, 0x8000000000000000, 0)
_U64 = (1 << 64) - 1


def is_slice_key(key: bytes) -> bool:
    """True for the key of a slice entry (they start with ``NumIncreasing(0) == b"\\x00"``).

    >>> is_slice_key(b"\\x00\\x06w"), is_slice_key(b"w")
    (True, False)
    """
    return key[:1] == b"\x00"


def _num_increasing(value: int) -> bytes:
    body = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([len(body)]) + body


def _string(value: bytes) -> bytes:
    escaped = re.sub(b"[\x00\xff]", lambda m: b"\x00\xff" if m.group() == b"\x00" else b"\xff\x00",
                     value)
    return escaped + b"\x00\x01"


def _signed_num_increasing(value: int) -> bytes:
    magnitude = ~value if value < 0 else value
    if magnitude < 64:
        return bytes([(0x80 ^ value) & 0xFF])
    length = (magnitude.bit_length() + 7) // 7
    buf = bytearray((value & (1 << 80) - 1).to_bytes(10, "big")[10 - length:])
    buf[0] ^= _HEADER[length][0]
    buf[1] ^= _HEADER[length][1]
    return bytes(buf)


def encode_slice_key(name: str, extents: Sequence[Tuple[int, int]]) -> bytes:
    """The index key of one slice of the partitioned tensor ``name``.

    >>> encode_slice_key("w", [(0, 2)])
    b'\\x00w\\x00\\x01\\x01\\x01\\x80\\x82'

    Args:
        name: the full tensor's name.
        extents: ``(start, length)`` per dimension; ``length == -1`` for a whole dimension.

    Returns:
        The key bytes, as ``EncodeTensorNameSlice`` writes them.
    """
    parts = [_num_increasing(0), _string(name.encode("utf-8", "surrogateescape")),
             _num_increasing(len(extents))]
    for start, length in extents:
        parts.append(_signed_num_increasing(start))
        parts.append(_signed_num_increasing(length))
    return b"".join(parts)


def _read_num(key: bytes, pos: int) -> Tuple[int, int]:
    width = key[pos]
    if width > 8 or pos + 1 + width > len(key):
        raise ValueError("bad unsigned number")
    return int.from_bytes(key[pos + 1:pos + 1 + width], "big"), pos + 1 + width


def _read_string(key: bytes, pos: int) -> Tuple[bytes, int]:
    out = bytearray()
    while pos + 1 < len(key):
        c = key[pos]
        if c not in (0x00, 0xFF):
            out.append(c)
            pos += 1
            continue
        pair = key[pos:pos + 2]
        if pair == b"\x00\x01":
            return bytes(out), pos + 2
        if pair not in (b"\x00\xff", b"\xff\x00"):
            raise ValueError("bad string escape")
        out.append(0 if c == 0 else 0xFF)
        pos += 2
    raise ValueError("unterminated string")


def _read_signed(key: bytes, pos: int) -> Tuple[int, int]:
    # A direct port of ReadSignedNumIncreasing: the header bits give the length, then they are
    # xored away from the big-endian payload.
    flip = 0 if key[pos] & 0x80 else 0xFF
    first = key[pos] ^ flip
    if first != 0xFF:
        length = 7 - ((first ^ 0xFF).bit_length() - 1)
    else:
        second = key[pos + 1] ^ flip
        length = 8
        if second >= 0xC0:
            if second != 0xC0 or key[pos + 2] ^ flip >= 0x80:
                raise ValueError("signed number longer than 64 bits")
            length = 10
        elif second >= 0x80:
            length = 9
    if pos + length > len(key):
        raise ValueError("truncated signed number")
    raw = int.from_bytes(key[pos:pos + length], "big")
    if flip:
        raw |= _U64 & ~((1 << 8 * length) - 1)  # sign-extend, as the C++ does
    value = (raw & _U64) ^ _LENGTH_TO_MASK[length]
    return (value - (1 << 64) if value >> 63 else value), pos + length


def decode_slice_key(key: bytes) -> Optional[Tuple[str, Extents]]:
    """Inverts :func:`encode_slice_key`; ``None`` when ``key`` is not a well-formed slice key.

    >>> decode_slice_key(b"w") is None
    True
    """
    try:
        zero, pos = _read_num(key, 0)
        name, pos = _read_string(key, pos)
        rank, pos = _read_num(key, pos)
        extents = []
        for _ in range(rank):
            start, pos = _read_signed(key, pos)
            length, pos = _read_signed(key, pos)
            extents.append((start, length))
    except (ValueError, IndexError):
        return None
    if zero != 0 or pos != len(key):
        return None
    return name.decode("utf-8", "surrogateescape"), tuple(extents)
