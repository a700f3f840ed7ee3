"""The raw snappy decoder: every element encoding, overlapping copies, and malformed streams."""

import re

import numpy as np
import pytest

from tfckpt_writer import encode_varint, snappy_compress  # noqa: E402

from torchscope._errors import CheckpointFormatError  # noqa: E402
from torchscope.checkpoint._snappy import decompress  # noqa: E402

PATH = "ckpt/model.ckpt.index"


def literal(data, extra_bytes=None):
    """A literal element, with its length in the tag (None) or in 1-4 extra bytes."""
    n = len(data) - 1
    if extra_bytes is None:
        return bytes([n << 2]) + data
    return bytes([(59 + extra_bytes) << 2]) + n.to_bytes(extra_bytes, "little") + data


def copy(offset, length, width):
    if width == 1:
        return bytes([((offset >> 8) << 5) | ((length - 4) << 2) | 1, offset & 0xFF])
    tag = ((length - 1) << 2) | (2 if width == 2 else 3)
    return bytes([tag]) + offset.to_bytes(width, "little")


@pytest.mark.parametrize("length, extra", [(1, None), (60, None), (61, 1), (256, 1), (257, 2),
                                           (65536, 2), (65537, 3), (3, 4)])
def test_literals_of_every_length_encoding(length, extra):
    data = bytes(np.random.default_rng(length).integers(0, 256, length, dtype=np.uint8))
    assert decompress(encode_varint(length) + literal(data, extra), PATH) == data


@pytest.mark.parametrize("offset, length, width", [(1, 4, 1), (3, 11, 1), (2047, 8, 1),
                                                   (5, 64, 2), (300, 20, 2), (7, 33, 4)])
def test_copies_with_each_offset_width(offset, length, width):
    prefix = bytes(range(256)) * 10
    expected = prefix + (prefix[-offset:] * (length // offset + 1))[:length]
    stream = encode_varint(len(expected)) + literal(prefix[:2560], 2) + copy(offset, length, width)
    assert decompress(stream, PATH) == expected


def test_overlapping_copy_repeats_the_last_bytes():
    # "ab" then a copy of 9 bytes from 2 back: the copy reads bytes it is itself writing.
    stream = encode_varint(11) + literal(b"ab") + copy(2, 9, 1)
    assert decompress(stream, PATH) == b"ababababab" + b"a"


def test_round_trips_through_the_test_compressor():
    rng = np.random.default_rng(3)
    for size in (0, 1, 5, 100, 5000, 70000):
        data = bytes(rng.integers(0, 3, size, dtype=np.uint8))  # repetitive: many copies
        assert decompress(snappy_compress(data), PATH) == data
    text = b"bert/encoder/layer_%d/attention/self/query/kernel" * 40
    assert len(snappy_compress(text)) < len(text) // 4
    assert decompress(snappy_compress(text), PATH) == text


@pytest.mark.parametrize("stream, message", [
    (b"", "bad length header"),
    (b"\xff\xff\xff\xff\xff\xff", "bad length header"),
    (encode_varint(4) + b"\x0cab", "literal of 4 bytes runs past the end"),
    (encode_varint(8) + literal(b"abcd") + copy(0, 4, 1), "copy offset 0 outside"),
    (encode_varint(8) + literal(b"abcd") + copy(9, 4, 2), "copy offset 9 outside the 4 bytes"),
    (encode_varint(8) + literal(b"abcd") + b"\x02\x01", "copy element runs past the end"),
    (encode_varint(5) + literal(b"abcd"), "produced 4 bytes, header says 5"),
    (encode_varint(10**9) + literal(b"abcd"), "declares 1000000000 bytes from"),
])
def test_malformed_streams_raise_format_errors_naming_the_file(stream, message):
    with pytest.raises(CheckpointFormatError, match=re.escape(PATH) + ": corrupted snappy"
                       + "(.|\n)*" + message):
        decompress(stream, PATH)
