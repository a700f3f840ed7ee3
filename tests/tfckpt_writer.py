"""A test-only writer of TensorFlow V2 checkpoints (tensor bundles), in Python and numpy.

Tests use it for round trips and corruption cases, the benchmark for a BERT-sized checkpoint.
It writes what TensorFlow writes (``BundleWriter`` + ``table::TableBuilder``), plus the options
real TF no longer uses: several shards with ``Saver``-style names, snappy-compressed index blocks,
small blocks (multi-block indexes), big-endian data, and deliberately wrong index entries.

    write_bundle("/tmp/x/model.ckpt", {"w": np.ones((2, 3), np.float32), "s": b"hi"})

Real TensorFlow reads what this writes: ``tests/fixtures_gen/make_checkpoints.py`` checks it.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from torchscope.checkpoint import _crc32c
from torchscope.checkpoint._slices import encode_slice_key

__all__ = ["Raw", "write_bundle", "write_table", "snappy_compress", "encode_varint", "DTYPE_CODES"]

TABLE_MAGIC = 0xDB4775248B80FB57

DTYPE_CODES = {
    np.dtype("float32"): 1, np.dtype("float64"): 2, np.dtype("int32"): 3, np.dtype("uint8"): 4,
    np.dtype("int16"): 5, np.dtype("int8"): 6, np.dtype("complex64"): 8, np.dtype("int64"): 9,
    np.dtype("bool"): 10, np.dtype("uint16"): 17, np.dtype("complex128"): 18,
    np.dtype("float16"): 19, np.dtype("uint32"): 22, np.dtype("uint64"): 23,
}
STRING, BFLOAT16 = 7, 14


class Raw(NamedTuple):
    """A tensor given by dtype code and raw little-endian bytes (bfloat16 bits, odd dtypes)."""

    dtype: int
    shape: Tuple[int, ...]
    data: bytes


# --------------------------------------------------------------------------------------------
# Encodings


def encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s are 10-byte two's-complement varints
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return encode_varint(number << 3) + encode_varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(value)) + value


def _entry_proto(dtype: int, shape: Sequence[int], shard_id: int = 0, offset: int = 0,
                 size: int = 0, crc: int = 0, slices: Sequence[Sequence[Tuple[int, int]]] = ()
                 ) -> bytes:
    shape_msg = b"".join(_field_bytes(2, _field_varint(1, d) if d else b"") for d in shape)
    out = _field_varint(1, dtype) + _field_bytes(2, shape_msg)
    for number, value in ((3, shard_id), (4, offset), (5, size)):
        if value:
            out += _field_varint(number, value)
    if crc:
        out += encode_varint(6 << 3 | 5) + crc.to_bytes(4, "little")
    for extents in slices:
        extent_msgs = b""
        for start, length in extents:
            body = (_field_varint(1, start) if start else b"") + \
                   (_field_varint(2, length) if length != -1 else b"")
            extent_msgs += _field_bytes(1, body)
        out += _field_bytes(7, extent_msgs)
    return out


def _header_proto(num_shards: int, big_endian: bool) -> bytes:
    return (_field_varint(1, num_shards) + (_field_varint(2, 1) if big_endian else b"")
            + _field_bytes(3, _field_varint(1, 1)))


def snappy_compress(data: bytes) -> bytes:
    """A naive raw-snappy compressor (greedy 4-byte hash matches): valid, not small."""
    out = bytearray(encode_varint(len(data)))
    table: Dict[bytes, int] = {}
    literal_start = pos = 0

    def emit_literal(end: int) -> None:
        chunk = data[literal_start:end]
        while chunk:
            piece, chunk = chunk[:65536], chunk[65536:]
            n = len(piece) - 1
            if n < 60:
                out.append(n << 2)
            else:
                width = (n.bit_length() + 7) // 8
                out.append((59 + width) << 2)
                out.extend(n.to_bytes(width, "little"))
            out.extend(piece)

    while pos + 4 <= len(data):
        key = data[pos:pos + 4]
        candidate = table.get(key)
        table[key] = pos
        if candidate is None or pos - candidate > 65535:
            pos += 1
            continue
        length = 4
        while pos + length < len(data) and data[candidate + length] == data[pos + length] \
                and length < 64:
            length += 1
        emit_literal(pos)
        offset = pos - candidate
        if length <= 11 and offset < 2048:
            out.append(((offset >> 8) << 5) | ((length - 4) << 2) | 1)
            out.append(offset & 0xFF)
        else:
            out.append(((length - 1) << 2) | 2)
            out.extend(offset.to_bytes(2, "little"))
        pos += length
        literal_start = pos
    emit_literal(len(data))
    return bytes(out)


# --------------------------------------------------------------------------------------------
# The SSTable


def _block(entries: Sequence[Tuple[bytes, bytes]], restart_interval: int) -> bytes:
    out = bytearray()
    restarts: List[int] = []
    previous = b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % restart_interval:
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
        else:
            restarts.append(len(out))
        out += encode_varint(shared) + encode_varint(len(key) - shared) + encode_varint(len(value))
        out += key[shared:] + value
        previous = key
    restarts = restarts or [0]
    for r in restarts:
        out += r.to_bytes(4, "little")
    return bytes(out + len(restarts).to_bytes(4, "little"))


def write_table(path: str, pairs: Iterable[Tuple[bytes, bytes]], block_size: int = 262144,
                compress: bool = False, restart_interval: int = 16) -> None:
    """Writes sorted ``(key, value)`` pairs as an SSTable (index separators = last keys)."""
    out = bytearray()

    def add_block(contents: bytes, snappy: bool) -> bytes:
        kind = 0
        if snappy:
            contents, kind = snappy_compress(contents), 1
        handle = encode_varint(len(out)) + encode_varint(len(contents))
        crc = _crc32c.crc32c(contents + bytes([kind]))
        out.extend(contents + bytes([kind]) + _crc32c.mask(crc).to_bytes(4, "little"))
        return handle

    index: List[Tuple[bytes, bytes]] = []
    pending: List[Tuple[bytes, bytes]] = []
    pending_size = 0
    for key, value in pairs:
        pending.append((key, value))
        pending_size += len(key) + len(value) + 3
        if pending_size >= block_size:
            index.append((key, add_block(_block(pending, restart_interval), compress)))
            pending, pending_size = [], 0
    if pending:
        index.append((pending[-1][0], add_block(_block(pending, restart_interval), compress)))
    meta_handle = add_block(_block([], 1), False)
    index_handle = add_block(_block(index, 1), compress)
    footer = (meta_handle + index_handle).ljust(40, b"\x00")
    footer += TABLE_MAGIC.to_bytes(8, "little")  # two fixed32, low word first: the same bytes
    with open(path, "wb") as f:
        f.write(bytes(out) + footer)


# --------------------------------------------------------------------------------------------
# The bundle


def _tensor_bytes(value: Any, big_endian: bool) -> Tuple[int, Tuple[int, ...], bytes, int]:
    """``(dtype code, shape, data bytes, crc32c)`` of one tensor as BundleWriter stores it."""
    order = "big" if big_endian else "little"
    if isinstance(value, Raw):
        return value.dtype, tuple(value.shape), value.data, _crc32c.crc32c(value.data)
    if isinstance(value, bytes) or (isinstance(value, np.ndarray) and value.dtype == object):
        array = np.array(value, dtype=object)
        strings = [bytes(s) for s in array.reshape(-1)]
        lengths = b"".join(encode_varint(len(s)) for s in strings)
        packed = b"".join(len(s).to_bytes(4 if len(s) <= 0xFFFFFFFF else 8, order)
                          for s in strings)
        length_crc = _crc32c.crc32c(packed)
        crc_bytes = _crc32c.mask(length_crc).to_bytes(4, order)
        body = b"".join(strings)
        crc = _crc32c.crc32c(crc_bytes + body, length_crc)
        return STRING, array.shape, lengths + crc_bytes + body, crc
    array = np.asarray(value)  # not ascontiguousarray: it turns 0-d into shape (1,)
    code = DTYPE_CODES[array.dtype.newbyteorder("=")]
    stored = array.astype(array.dtype.newbyteorder(">" if big_endian else "<"), copy=False)
    data = memoryview(np.ascontiguousarray(stored).reshape(-1).view(np.uint8))
    return code, array.shape, data, _crc32c.crc32c(data)


def write_bundle(prefix: str, tensors: Mapping[str, Any], *, num_shards: int = 1,
                 block_size: int = 262144, compress: bool = False, big_endian: bool = False,
                 partitions: Optional[Mapping[str, Sequence[Sequence[Tuple[int, int]]]]] = None,
                 overrides: Optional[Mapping[str, Mapping[str, Any]]] = None,
                 alignment: int = 1) -> None:
    """Writes ``tensors`` as the checkpoint ``prefix`` (``.index`` + ``.data-*``).

    Args:
        prefix: the checkpoint prefix; its directory must exist.
        tensors: name -> numpy array, ``bytes`` / object array of bytes (DT_STRING), or ``Raw``.
        num_shards: tensors go round-robin into this many data files.
        block_size: index data block size (small values force multi-block indexes).
        compress: snappy-compress every index data block.
        big_endian: store numeric data big-endian and flag the header so.
        partitions: name -> list of slices, each ``[(start, length), ...]`` per dimension
            (``length=-1`` for a whole dimension); the tensor is stored as those slices.
        overrides: name -> ``BundleEntryProto`` fields to write instead of the true ones
            (``dtype``, ``shape``, ``shard_id``, ``offset``, ``size``, ``crc``).
        alignment: pad each tensor's data to this many bytes, as ``data_alignment`` does.
    """
    partitions = partitions or {}
    overrides = overrides or {}
    files = [open(f"{prefix}.data-{i:05d}-of-{num_shards:05d}", "wb") for i in range(num_shards)]
    sizes = [0] * num_shards
    entries: Dict[bytes, bytes] = {}
    counter = 0

    def add(key: bytes, value: Any, name: str) -> None:
        nonlocal counter
        shard = counter % num_shards
        counter += 1
        code, shape, data, crc = _tensor_bytes(value, big_endian)
        fields = dict(dtype=code, shape=shape, shard_id=shard, offset=sizes[shard],
                      size=len(data), crc=_crc32c.mask(crc))
        fields.update(overrides.get(name, {}))
        entries[key] = _entry_proto(**fields)
        files[shard].write(data)
        sizes[shard] += len(data)
        pad = -sizes[shard] % alignment
        files[shard].write(b"\x00" * pad)
        sizes[shard] += pad

    try:
        for name, value in tensors.items():
            if name not in partitions:
                add(name.encode("utf-8"), value, name)
                continue
            array = np.asarray(value)
            code = _tensor_bytes(array.reshape(-1)[:0], big_endian)[0]
            fields = dict(dtype=code, shape=array.shape, slices=partitions[name])
            fields.update(overrides.get(name, {}))
            entries[name.encode("utf-8")] = _entry_proto(**fields)
            for extents in partitions[name]:
                region = tuple(slice(0, dim) if length == -1 else slice(start, start + length)
                               for (start, length), dim in zip(extents, array.shape))
                key = encode_slice_key(name, extents)
                add(key, np.ascontiguousarray(array[region]), f"{name}{list(extents)}")
    finally:
        for f in files:
            f.close()
    pairs = [(b"", _header_proto(num_shards, big_endian))] + sorted(entries.items())
    write_table(prefix + ".index", pairs, block_size=block_size, compress=compress)
