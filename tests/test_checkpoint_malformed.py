"""Malformed checkpoints raise torchscope's checkpoint errors, naming the file and the cause.

Each case starts from a small valid bundle written by the test-only writer, then damages it.
"""

import os
import re

import numpy as np
import pytest

import tfckpt_writer  # noqa: E402

from torchscope import checkpoint  # noqa: E402
from torchscope._errors import (CheckpointChecksumError, CheckpointFormatError,  # noqa: E402
                                CheckpointNotFoundError, TensorNotFoundError, TorchscopeError,
                                UnsupportedCheckpointError)

RNG = np.random.default_rng(0)
TENSORS = {
    "a/kernel": RNG.standard_normal((8, 4)).astype(np.float32),  # first: offset 0 in shard 0
    "b/bias": np.arange(4, dtype=np.float32),
    "c/strings": np.array([b"", b"\x00\xff", b"text" * 20], dtype=object),
    "d/step": np.int64(7),
}


def write(tmp_path, tensors=TENSORS, **options):
    prefix = str(tmp_path / "model.ckpt")
    tfckpt_writer.write_bundle(prefix, tensors, **options)
    return prefix


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0x10]))


def truncate(path, size):
    with open(path, "r+b") as f:
        f.truncate(size)


def names(path):
    return re.escape(path) + ": "


def test_index_shorter_than_its_footer_raises_format_error(tmp_path):
    prefix = write(tmp_path)
    truncate(prefix + ".index", 20)
    with pytest.raises(CheckpointFormatError,
                       match=names(prefix + ".index") + "index file is 20 bytes, shorter than "
                                                        "the 48-byte SSTable footer"):
        checkpoint.load_checkpoint(prefix)


def test_index_with_wrong_magic_raises_format_error(tmp_path):
    prefix = write(tmp_path)
    truncate(prefix + ".index", os.path.getsize(prefix + ".index") - 1)
    with pytest.raises(CheckpointFormatError, match=names(prefix + ".index") + "wrong magic"):
        checkpoint.load_checkpoint(prefix)


def test_bit_flip_in_an_index_block_raises_checksum_error(tmp_path):
    prefix = write(tmp_path, block_size=64)
    flip(prefix + ".index", 10)
    with pytest.raises(CheckpointChecksumError,
                       match=names(prefix + ".index") + "block checksum mismatch in data block 0"):
        checkpoint.load_checkpoint(prefix)


def test_truncated_data_file_raises_format_error_naming_it(tmp_path):
    prefix = write(tmp_path)
    data = prefix + ".data-00000-of-00001"
    truncate(data, 40)
    reader = checkpoint.load_checkpoint(prefix)
    with pytest.raises(CheckpointFormatError,
                       match=names(data) + r"tensor 'a/kernel' claims bytes \[0, 128\) but the "
                                           "data file has 40 bytes"):
        reader.get_tensor("a/kernel")


def test_bit_flip_in_tensor_data_raises_checksum_error(tmp_path):
    prefix = write(tmp_path)
    data = prefix + ".data-00000-of-00001"
    flip(data, 5)
    with pytest.raises(CheckpointChecksumError,
                       match=names(data) + "checksum mismatch for tensor 'a/kernel' at offset 0"):
        checkpoint.load_checkpoint(prefix).get_tensor("a/kernel")


def test_verify_false_skips_the_tensor_checksum(tmp_path):
    prefix = write(tmp_path)
    flip(prefix + ".data-00000-of-00001", 5)
    value = checkpoint.load_checkpoint(prefix, verify=False).get_tensor("a/kernel")
    differs = value != TENSORS["a/kernel"]
    assert differs.sum() == 1 and differs[0, 1]


def test_bit_flip_in_string_data_raises_checksum_error(tmp_path):
    prefix = write(tmp_path)
    data = prefix + ".data-00000-of-00001"
    flip(data, os.path.getsize(data) - 8 - 3)  # inside c/strings' last string (d/step follows)
    with pytest.raises(CheckpointChecksumError,
                       match=names(data) + "checksum mismatch for string tensor 'c/strings'"):
        checkpoint.load_checkpoint(prefix).get_tensor("c/strings")
    assert checkpoint.load_checkpoint(prefix, verify=False).get_tensor("c/strings")[0] == b""


def test_missing_data_shard_raises_not_found_naming_it(tmp_path):
    prefix = write(tmp_path, num_shards=2)
    missing = prefix + ".data-00001-of-00002"
    os.remove(missing)
    reader = checkpoint.load_checkpoint(prefix)
    assert reader.get_tensor("a/kernel").shape == (8, 4)  # shard 0 still reads
    with pytest.raises(CheckpointNotFoundError,
                       match=names(missing) + "data shard 1 of 2 is missing"):
        reader.get_tensor("b/bias")


@pytest.mark.parametrize("code, shown", [(99, r"unknown dtype code 99 \(from a newer"),
                                         (21, "dtype 'variant', which has no numpy"),
                                         (24, "dtype 'float8_e5m2', which has no numpy")])
def test_unsupported_dtype_raises_unsupported_error_naming_the_index(tmp_path, code, shown):
    prefix = write(tmp_path, {"w": tfckpt_writer.Raw(code, (2,), bytes(8)), "ok": np.ones(2)})
    reader = checkpoint.load_checkpoint(prefix)
    assert reader.get_variable_to_dtype_map()["w"] is None
    assert reader.get_tensor("ok").tolist() == [1.0, 1.0]
    with pytest.raises(UnsupportedCheckpointError,
                       match=names(prefix + ".index") + f"tensor 'w' has {shown}"):
        reader.get_tensor("w")


def test_v1_format_file_raises_unsupported_error(tmp_path):
    v1 = str(tmp_path / "model.ckpt")
    tfckpt_writer.write_table(v1, [(b"w", b"SavedSlices")])  # V1: one SSTable, no .index
    with pytest.raises(UnsupportedCheckpointError,
                       match=names(v1) + "this is a TensorFlow V1 checkpoint"):
        checkpoint.load_checkpoint(v1)


def test_size_beyond_the_file_raises_before_allocating(tmp_path):
    huge = {"a/kernel": {"shape": (10**6, 10**6), "size": 4 * 10**12}}
    prefix = write(tmp_path, overrides=huge)
    with pytest.raises(CheckpointFormatError,
                       match=names(prefix + ".data-00000-of-00001")
                       + r"tensor 'a/kernel' claims bytes \[0, 4000000000000\)"):
        checkpoint.load_checkpoint(prefix).get_tensor("a/kernel")


def test_string_count_beyond_the_data_raises_before_allocating(tmp_path):
    prefix = write(tmp_path, overrides={"c/strings": {"shape": (10**12,)}})
    with pytest.raises(CheckpointFormatError,
                       match=names(prefix + ".index") + "string tensor 'c/strings' has "
                                                        "1000000000000 elements but only"):
        checkpoint.load_checkpoint(prefix).get_tensor("c/strings")


def test_partition_shape_beyond_its_slices_raises_before_allocating(tmp_path):
    tensors = {"p": np.ones((4, 2), np.float32)}
    prefix = write(tmp_path, tensors, partitions={"p": [((0, 2), (0, -1)), ((2, 2), (0, -1))]},
                   overrides={"p": {"shape": (10**9, 2)}})
    with pytest.raises(CheckpointFormatError,
                       match=names(prefix + ".index") + "the slices of 'p' do not add up"):
        checkpoint.load_checkpoint(prefix).get_tensor("p")


@pytest.mark.parametrize("override, message", [
    ({"size": 3}, r"tensor 'b/bias' is float32\[4\], which takes 16 bytes, but its entry says 3"),
    ({"offset": -1}, r"tensor 'b/bias' claims bytes \[-1, 15\)"),
    ({"shard_id": 5}, "tensor 'b/bias' is in shard 5, but the checkpoint has 1 shards"),
])
def test_inconsistent_entry_raises_format_error(tmp_path, override, message):
    prefix = write(tmp_path, overrides={"b/bias": override})
    with pytest.raises(CheckpointFormatError, match=re.escape(prefix) + r"\.(index|data-\S+): "
                                                    + message):
        checkpoint.load_checkpoint(prefix).get_tensor("b/bias")


def test_undefined_shape_raises_format_error_when_opening(tmp_path):
    prefix = write(tmp_path, overrides={"b/bias": {"shape": (-1,)}})
    with pytest.raises(CheckpointFormatError,
                       match=names(prefix + ".index") + r"tensor 'b/bias' has an undefined "
                                                        r"shape \[-1\]"):
        checkpoint.load_checkpoint(prefix)


def test_unparseable_entry_raises_format_error_naming_the_key(tmp_path):
    index = str(tmp_path / "model.ckpt.index")
    tfckpt_writer.write_table(index, [(b"", b"\x08\x01"), (b"x", b"\x0a\xff")])
    with pytest.raises(CheckpointFormatError,
                       match=names(index) + "truncated varint in the index entry of 'x'"):
        checkpoint.load_checkpoint(str(tmp_path / "model.ckpt"))


def test_index_without_header_raises_format_error(tmp_path):
    index = str(tmp_path / "model.ckpt.index")
    tfckpt_writer.write_table(index, [(b"w", b"\x08\x01")])
    with pytest.raises(CheckpointFormatError, match=names(index) + "the index has no bundle "
                                                                   "header entry"):
        checkpoint.load_checkpoint(index)


def test_header_for_a_newer_bundle_version_raises_unsupported_error(tmp_path):
    index = str(tmp_path / "model.ckpt.index")
    header = bytes.fromhex("0801" "1a04" "0801" "1002")  # num_shards 1, min_consumer 2
    tfckpt_writer.write_table(index, [(b"", header)])
    with pytest.raises(UnsupportedCheckpointError,
                       match=names(index) + "written for bundle readers of version >= 2"):
        checkpoint.load_checkpoint(index)


def test_missing_tensor_name_raises_not_found_with_similar_names(tmp_path):
    prefix = write(tmp_path)
    with pytest.raises(TensorNotFoundError,
                       match=names(prefix + ".index") + "Key a/kernel:0 not found in checkpoint"
                       r"(.|\n)*Similar names: a/kernel"):
        checkpoint.load_checkpoint(prefix).get_tensor("a/kernel:0")


@pytest.mark.parametrize("verify", [True, False])
def test_random_damage_only_ever_raises_torchscope_errors(tmp_path, verify):
    # Whatever a corrupt file holds, no bare struct/Index/Key/Unicode/numpy error escapes.
    rng = np.random.default_rng(1 if verify else 2)
    prefix = write(tmp_path, block_size=48)
    files = [prefix + ".index", prefix + ".data-00000-of-00001"]
    pristine = {f: open(f, "rb").read() for f in files}
    for _ in range(150):
        target = files[int(rng.integers(2))]
        data = bytearray(pristine[target])
        if rng.random() < 0.2:
            data = data[:int(rng.integers(len(data)))]
        else:
            for _ in range(int(rng.integers(1, 4))):
                data[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
        for f in files:
            with open(f, "wb") as out:
                out.write(data if f == target else pristine[f])
        try:
            reader = checkpoint.load_checkpoint(prefix, verify=verify)
            for name in reader.keys():
                reader.get_tensor(name)
        except TorchscopeError:
            pass
