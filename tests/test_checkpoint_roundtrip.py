"""Bundles from the test-only writer read back exactly, across every layout option.

The writer itself was checked against real TensorFlow when the fixtures were generated.
"""


import numpy as np
import pytest

import tfckpt_writer  # noqa: E402

from torchscope import checkpoint  # noqa: E402
from torchscope.checkpoint import _table  # noqa: E402

RNG = np.random.default_rng(7)


def every_dtype():
    tensors = {}
    for dtype in tfckpt_writer.DTYPE_CODES:
        if dtype.kind == "b":
            values = RNG.integers(0, 2, (3, 2)).astype(bool)
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            values = np.array([[info.min, info.max], [0, 1], [2, 3]], dtype=dtype)
        else:
            values = RNG.standard_normal((3, 2)).astype(dtype)
            if dtype.kind == "c":
                values = values + 1j * RNG.standard_normal((3, 2)).astype(dtype)
        tensors[f"dtypes/{dtype.name}"] = values
    tensors["strings/vector"] = np.array([[b"", b"\x00\xff"], [b"x" * 300, "\u00e9".encode()]],
                                         dtype=object)
    tensors["strings/scalar"] = b"just one"
    tensors["strings/none"] = np.empty((0, 3), dtype=object)
    tensors["empty"] = np.zeros((0, 4), np.float32)
    tensors["scalar"] = np.float64(-0.5)
    return tensors


def assert_read_back(prefix, tensors):
    reader = checkpoint.load_checkpoint(prefix)
    assert reader.keys() == sorted(tensors)
    for name, expected in tensors.items():
        value = reader.get_tensor(name)
        if isinstance(expected, bytes):
            assert value == expected
        elif np.ndim(expected) == 0:
            assert isinstance(value, np.generic) and value == expected
        else:
            assert value.dtype == expected.dtype and value.shape == expected.shape, name
            assert value.tolist() == expected.tolist(), name


@pytest.mark.parametrize("options", [
    {},
    {"num_shards": 3},
    {"block_size": 64},
    {"compress": True, "block_size": 100},
    {"big_endian": True},
    {"alignment": 64, "num_shards": 2},
], ids=["plain", "3-shards", "multi-block", "snappy", "big-endian", "aligned"])
def test_every_dtype_round_trips(tmp_path, options):
    tensors = every_dtype()
    prefix = str(tmp_path / "model.ckpt")
    tfckpt_writer.write_bundle(prefix, tensors, **options)
    assert_read_back(prefix, tensors)


def test_many_tensors_in_a_multi_block_index_all_list(tmp_path):
    tensors = {f"bert/encoder/layer_{i}/output/dense/kernel": np.full(2, i, np.int32)
               for i in range(300)}
    prefix = str(tmp_path / "model.ckpt")
    tfckpt_writer.write_bundle(prefix, tensors, block_size=512)
    with open(prefix + ".index", "rb") as f:
        data = f.read()
    footer = len(data) - _table.FOOTER_SIZE
    _, _, pos = _table._read_handle(data, footer, footer + 40, "x", "meta")
    offset, size, _ = _table._read_handle(data, pos, footer + 40, "x", "index")
    assert len(_table.parse_block(data[offset:offset + size], "x", "index")) > 10
    names = [name for name, _ in checkpoint.list_variables(prefix)]
    assert names == sorted(tensors)  # bytewise order: layer_10 before layer_2, as TF lists
    assert checkpoint.load_variable(prefix, names[-1]).tolist() == [99, 99]


@pytest.mark.parametrize("partition", [
    [((0, 3), (0, -1)), ((3, 2), (0, -1)), ((5, 2), (0, -1))],
    [((0, -1), (0, 1)), ((0, -1), (1, 2))],
    [((0, 4), (0, 2)), ((4, 3), (0, 2)), ((0, 7), (2, 1))],
], ids=["rows-uneven", "columns", "blocks"])
def test_partitioned_variables_reassemble(tmp_path, partition):
    full = RNG.standard_normal((7, 3))
    words = np.array([[f"{r},{c}".encode() for c in range(3)] for r in range(7)], dtype=object)
    prefix = str(tmp_path / "model.ckpt")
    tfckpt_writer.write_bundle(prefix, {"w": full, "words": words}, num_shards=2,
                               partitions={"w": partition, "words": partition})
    reader = checkpoint.load_checkpoint(prefix)
    assert reader.get_variable_to_shape_map() == {"w": [7, 3], "words": [7, 3]}
    np.testing.assert_array_equal(reader.get_tensor("w"), full)
    assert reader.get_tensor("words").tolist() == words.tolist()
    assert reader.stored_bytes("w") == full.nbytes


def test_bfloat16_bits_round_trip_through_torch(tmp_path):
    import torch

    bits = np.array([0x3F80, 0xC020, 0x7F80, 0x0001], "<u2")  # 1, -2.5, inf, smallest subnormal
    prefix = str(tmp_path / "model.ckpt")
    tfckpt_writer.write_bundle(prefix, {"b": tfckpt_writer.Raw(14, (4,), bits.tobytes())})
    tensor = checkpoint.load_checkpoint(prefix).get_torch_tensor("b")
    assert tensor.dtype == torch.bfloat16
    assert tensor.view(torch.int16).numpy().view("<u2").tolist() == bits.tolist()
