"""The four protobuf messages of a tensor bundle index, decoded by hand (no ``protobuf`` needed).

>>> entry = parse_entry(bytes.fromhex("0801120812020804120208042840"), "m.ckpt.index", "w")
>>> entry.dtype, entry.shape, entry.offset, entry.size
(1, (4, 4), 0, 64)

Proto3 leaves fields that hold their default out of the wire, so every field starts at its
default (``shard_id=0``, ``offset=0``, little-endian, ...). Unknown fields are skipped by wire
type, so files from newer TensorFlow versions keep reading. Messages::

    BundleHeaderProto { int32 num_shards = 1; Endianness endianness = 2;
                        VersionDef version = 3; }
    VersionDef        { int32 producer = 1; int32 min_consumer = 2;
                        repeated int32 bad_consumers = 3; }
    BundleEntryProto  { DataType dtype = 1; TensorShapeProto shape = 2; int32 shard_id = 3;
                        int64 offset = 4; int64 size = 5; fixed32 crc32c = 6;
                        repeated TensorSliceProto slices = 7; }
    TensorShapeProto  { repeated Dim dim = 2 { int64 size = 1; string name = 2; }
                        bool unknown_rank = 3; }
    TensorSliceProto  { repeated Extent extent = 1 { int64 start = 1; int64 length = 2; } }
"""

from __future__ import annotations

from typing import Iterator, List, NamedTuple, Tuple, Union

from .._errors import CheckpointFormatError

__all__ = ["BundleHeader", "BundleEntry", "read_varint", "parse_header", "parse_entry"]

Bytes = Union[bytes, memoryview]
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_WIRE_NAMES = {0: "varint", 1: "fixed64", 2: "length-delimited", 5: "fixed32"}


class BundleHeader(NamedTuple):
    """The header entry (key ``""``) of a bundle index."""

    num_shards: int
    big_endian: bool
    producer: int
    min_consumer: int
    bad_consumers: Tuple[int, ...]


class BundleEntry(NamedTuple):
    """Where one tensor (or one slice of a partitioned tensor) lives, and what it is.

    ``slices`` is non-empty only for the entry of a partitioned tensor: one tuple of
    ``(start, length)`` per dimension for each slice, ``length == -1`` meaning the whole dimension.
    """

    dtype: int
    shape: Tuple[int, ...]
    unknown_rank: bool
    shard_id: int
    offset: int
    size: int
    crc32c: int
    slices: Tuple[Tuple[Tuple[int, int], ...], ...]


def read_varint(buf: Bytes, pos: int, end: int, path: str, what: str) -> Tuple[int, int]:
    """Reads a base-128 varint at ``buf[pos]``; returns ``(value, next position)``.

    >>> read_varint(b"\\xac\\x02", 0, 2, "f", "x")
    (300, 2)
    """
    result = shift = 0
    while True:
        if pos >= end:
            raise CheckpointFormatError.make(path, f"truncated varint in {what}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7
        if shift >= 70:
            raise CheckpointFormatError.make(path, f"varint longer than 10 bytes in {what}")


def _signed(value: int) -> int:
    """Two's-complement int64 from a varint (negative numbers are 10-byte varints)."""
    return value - (1 << 64) if value >= 1 << 63 else value


class _Field(NamedTuple):
    """One decoded field; its accessors check the wire type the schema expects."""

    number: int
    wire: int
    value: Union[int, Bytes]
    path: str
    what: str

    def _check(self, wanted: int) -> None:
        if self.wire != wanted:
            found = _WIRE_NAMES.get(self.wire, self.wire)
            raise CheckpointFormatError.make(
                self.path, f"field {self.number} of {self.what} is {found}, expected "
                           f"{_WIRE_NAMES[wanted]}")

    def int64(self, wire: int = _VARINT) -> int:
        """The value of a varint (or fixed32/64) field, as a signed int64."""
        self._check(wire)
        assert isinstance(self.value, int)
        return _signed(self.value)

    def message(self) -> Bytes:
        """The bytes of a length-delimited field (a sub-message)."""
        self._check(_BYTES)
        assert not isinstance(self.value, int)
        return self.value

    def int64s(self) -> List[int]:
        """A repeated integer field: one varint, or (proto3's default) a packed run of them."""
        if self.wire == _VARINT:
            return [self.int64()]
        packed = self.message()
        out, pos = [], 0
        while pos < len(packed):
            item, pos = read_varint(packed, pos, len(packed), self.path, self.what)
            out.append(_signed(item))
        return out


def _fields(buf: Bytes, path: str, what: str) -> Iterator[_Field]:
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = read_varint(buf, pos, end, path, what)
        number, wire = key >> 3, key & 7
        value: Union[int, Bytes]
        if wire == _VARINT:
            value, pos = read_varint(buf, pos, end, path, what)
        elif wire in (_FIXED64, _FIXED32):
            width = 8 if wire == _FIXED64 else 4
            if pos + width > end:
                raise CheckpointFormatError.make(path, f"truncated field {number} in {what}")
            value = int.from_bytes(buf[pos:pos + width], "little")
            pos += width
        elif wire == _BYTES:
            length, pos = read_varint(buf, pos, end, path, what)
            if pos + length > end:
                raise CheckpointFormatError.make(
                    path, f"field {number} of {what} claims {length} bytes; "
                          f"only {end - pos} remain")
            value = buf[pos:pos + length]
            pos += length
        else:
            raise CheckpointFormatError.make(
                path, f"unsupported protobuf wire type {wire} in {what}")
        yield _Field(number, wire, value, path, what)


def parse_header(buf: Bytes, path: str) -> BundleHeader:
    """Parses a ``BundleHeaderProto``.

    >>> parse_header(bytes.fromhex("0801 1a02 0801"), "m.ckpt.index")
    BundleHeader(num_shards=1, big_endian=False, producer=1, min_consumer=0, bad_consumers=())
    """
    what = "the bundle header"
    num_shards, big_endian = 0, False
    producer, min_consumer = 0, 0
    bad: List[int] = []
    for field in _fields(buf, path, what):
        if field.number == 1:
            num_shards = field.int64()
        elif field.number == 2:
            big_endian = field.int64() == 1
        elif field.number == 3:
            for version in _fields(field.message(), path, "the header's VersionDef"):
                if version.number == 1:
                    producer = version.int64()
                elif version.number == 2:
                    min_consumer = version.int64()
                elif version.number == 3:
                    bad.extend(version.int64s())
    return BundleHeader(num_shards, big_endian, producer, min_consumer, tuple(bad))


def _parse_shape(buf: Bytes, path: str, what: str) -> Tuple[Tuple[int, ...], bool]:
    dims: List[int] = []
    unknown_rank = False
    for field in _fields(buf, path, what):
        if field.number == 2:
            size = 0
            for dim in _fields(field.message(), path, what):
                if dim.number == 1:
                    size = dim.int64()
            dims.append(size)
        elif field.number == 3:
            unknown_rank = bool(field.int64())
    return tuple(dims), unknown_rank


def _parse_slice(buf: Bytes, path: str, what: str) -> Tuple[Tuple[int, int], ...]:
    extents = []
    for field in _fields(buf, path, what):
        if field.number != 1:
            continue
        start, length = 0, -1  # no length: the whole dimension
        for extent in _fields(field.message(), path, what):
            if extent.number == 1:
                start = extent.int64()
            elif extent.number == 2:
                length = extent.int64()
        extents.append((start, length))
    return tuple(extents)


def parse_entry(buf: Bytes, path: str, name: str) -> BundleEntry:
    """Parses the ``BundleEntryProto`` stored for tensor ``name``.

    >>> parse_entry(b"\\x08\\x09", "m.ckpt.index", "global_step").shape   # a scalar
    ()
    """
    what = f"the index entry of {name!r}"
    dtype = shard_id = offset = size = 0
    crc = 0  # proto3 omits a masked CRC of 0
    shape: Tuple[int, ...] = ()
    unknown_rank = False
    slices = []
    for field in _fields(buf, path, what):
        if field.number == 1:
            dtype = field.int64()
        elif field.number == 2:
            shape, unknown_rank = _parse_shape(field.message(), path, what)
        elif field.number == 3:
            shard_id = field.int64()
        elif field.number == 4:
            offset = field.int64()
        elif field.number == 5:
            size = field.int64()
        elif field.number == 6:
            crc = field.int64(_FIXED32)
        elif field.number == 7:
            slices.append(_parse_slice(field.message(), path, what))
    return BundleEntry(dtype, shape, unknown_rank, shard_id, offset, size, crc, tuple(slices))
