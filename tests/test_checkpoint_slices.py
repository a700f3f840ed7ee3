"""Slice keys of partitioned variables: TensorFlow's OrderedCode, byte for byte."""

import base64
import json
import os

import pytest

from torchscope.checkpoint._slices import decode_slice_key, encode_slice_key, is_slice_key

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "checkpoints")


def test_keys_equal_the_ones_tensorflow_wrote():
    with open(os.path.join(DATA, "tf1_partitioned", "reference.json")) as f:
        tf_keys = sorted(base64.b64decode(k) for k in json.load(f)["slice_keys"])
    ours = sorted(encode_slice_key("part/w", [(start, rows), (0, 3)])
                  for start, rows in [(0, 3), (3, 2), (5, 2)])
    assert ours == tf_keys


@pytest.mark.parametrize("value", [0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, 2**20,
                                   -(2**40), 2**55, 2**62, 2**63 - 1, -(2**63)])
def test_signed_numbers_round_trip_at_every_encoded_length(value):
    key = encode_slice_key("w", [(value, -1)])
    assert decode_slice_key(key) == ("w", ((value, -1),))


def test_small_numbers_are_one_byte_with_the_sign_bit_flipped():
    assert encode_slice_key("w", [(4, 3)])[-2:] == b"\x84\x83"
    assert encode_slice_key("w", [(0, -1)])[-2:] == b"\x80\x7f"


def test_names_escape_zero_and_ff_bytes():
    key = encode_slice_key("a\x00b\xff", [])
    assert key == b"\x00a\x00\xffb\xc3\xbf\x00\x01\x00"  # \xff is UTF-8 c3 bf, no escape needed
    assert decode_slice_key(key) == ("a\x00b\xff", ())
    raw = encode_slice_key("x\udcff", [])  # a surrogate-escaped raw 0xff byte
    assert b"\xff\x00" in raw and decode_slice_key(raw) == ("x\udcff", ())


def test_slice_keys_start_with_a_zero_byte_and_names_do_not():
    assert is_slice_key(encode_slice_key("w", [(0, 1)]))
    assert not is_slice_key(b"w") and not is_slice_key(b"")


@pytest.mark.parametrize("key", [b"w", b"\x00", b"\x00w", b"\x00w\x00\x01",
                                 b"\x00w\x00\x01\x01\x01",
                                 b"\x00w\x00\x02\x00", b"\x01\x05w\x00\x01\x00"])
def test_malformed_keys_decode_to_none(key):
    assert decode_slice_key(key) is None
