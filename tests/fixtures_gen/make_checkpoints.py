"""Writes the TensorFlow checkpoint fixtures under tests/data/checkpoints/, with TF's own answers.

Run once, by hand, with a TensorFlow virtualenv (the test suite never imports TensorFlow)::

    python3 -m venv /work/tfvenv && /work/tfvenv/bin/pip install tensorflow-cpu tf-keras
    /work/tfvenv/bin/python tests/fixtures_gen/make_checkpoints.py

For every fixture directory it writes the checkpoint (kilobytes) and, from TensorFlow's reader
(``tf.train.list_variables``, ``tf.train.load_checkpoint(...).get_tensor`` and its dtype map):

* ``reference.json``: TF version, the prefix, ``list_variables``, and per tensor its TF dtype name,
  shape, the Python type TF returned (``ndarray``, ``scalar`` or ``bytes``), and for strings the
  values in base64;
* ``reference.npz`` (``allow_pickle=False``): numeric values, bfloat16 as its uint16 bits and
  quantized types as their storage integers.

It also checks what the fixtures cannot show by themselves: that real TF reads back the index
rewritten with snappy-compressed blocks, and what ``tests/tfckpt_writer.py`` writes.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
import tempfile
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "tests", "data", "checkpoints")

# Bound by _setup(), not at import: `pytest --doctest-modules` imports this file in the project's
# environment, which has neither TensorFlow nor any reason to swap the torchscope package.
tf = tf1 = read_table = decompress = tfckpt_writer = None


def _setup() -> None:
    global tf, tf1, read_table, decompress, tfckpt_writer
    import tensorflow

    tf, tf1 = tensorflow, tensorflow.compat.v1
    # The TF virtualenv has no torch: load torchscope's numpy-only checkpoint modules without
    # running torchscope/__init__.py (which imports torch).
    package = types.ModuleType("torchscope")
    package.__path__ = [os.path.join(REPO, "torchscope")]  # type: ignore[attr-defined]
    sys.modules.setdefault("torchscope", package)
    sys.path.insert(0, os.path.join(REPO, "tests"))
    from torchscope.checkpoint import _snappy, _table
    import tfckpt_writer as writer

    read_table, decompress, tfckpt_writer = _table.read_table, _snappy.decompress, writer


QUANTIZED = {"qint8": np.int8, "quint8": np.uint8, "qint16": np.int16, "quint16": np.uint16,
             "qint32": np.int32}


# --------------------------------------------------------------------------------------------
# TF's answers


def reference(prefix: str) -> tuple:
    """``(json dict, npz dict)`` of everything TF's reader says about the checkpoint."""
    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    shapes = reader.get_variable_to_shape_map()
    tensors, arrays = {}, {}
    for i, (name, _) in enumerate(tf.train.list_variables(prefix)):
        value = reader.get_tensor(name)
        kind = ("bytes" if isinstance(value, bytes) else
                "scalar" if isinstance(value, np.generic) else "ndarray")
        info = {"dtype": dtypes[name].name, "shape": list(shapes[name]), "type": kind}
        if dtypes[name] == tf.string:
            flat = [value] if kind == "bytes" else list(np.asarray(value).reshape(-1))
            info["strings"] = [base64.b64encode(s).decode("ascii") for s in flat]
        else:
            array = np.asarray(value)
            if dtypes[name] == tf.bfloat16:
                array = array.view(np.uint16)
            elif dtypes[name].name in QUANTIZED:
                array = array.view(QUANTIZED[dtypes[name].name])
            info["npz"] = f"t{i}"
            arrays[f"t{i}"] = np.ascontiguousarray(array)
        tensors[name] = info
    doc = {
        "tf_version": tf.__version__,
        "prefix": os.path.basename(prefix),
        "list_variables": [[n, list(s)] for n, s in tf.train.list_variables(prefix)],
        "tensors": tensors,
    }
    return doc, arrays


def dump_reference(directory: str, prefix: str, **extra) -> dict:
    doc, arrays = reference(prefix)
    doc.update(extra)
    with open(os.path.join(directory, "reference.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    np.savez(os.path.join(directory, "reference.npz"), **arrays)
    return doc


def fresh(name: str) -> str:
    directory = os.path.join(OUT, name)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    return directory


def saver_save(directory: str, build, sharded: bool = False, cpus: int = 1) -> str:
    """Builds a TF1 graph with ``build()``, initialises it and saves it with a TF1 ``Saver``."""
    prefix = os.path.join(directory, "model.ckpt")
    graph = tf.Graph()
    with graph.as_default():
        build()
        saver = tf1.train.Saver(sharded=sharded, save_relative_paths=True)
        config = tf1.ConfigProto(device_count={"CPU": cpus})
        with tf1.Session(graph=graph, config=config) as session:
            session.run(tf1.global_variables_initializer())
            saver.save(session, prefix, write_meta_graph=False)
    return prefix


def global_step(value: int) -> None:
    tf1.get_variable("global_step", initializer=tf.constant(value, tf.int64), trainable=False)


# --------------------------------------------------------------------------------------------
# The fixtures


def make_tf1_many_dtypes() -> str:
    rng = np.random.default_rng(0)

    def var(name, value, dtype):
        if dtype.is_integer:  # exact extremes: no detour through float64
            value = np.array(value, dtype=dtype.as_numpy_dtype)
        tf1.get_variable(name, initializer=tf.constant(value, dtype=dtype))

    def build():
        global_step(42)
        var("bert/embeddings/word_embeddings", rng.standard_normal((32, 16)), tf.float32)
        var("bert/encoder/layer_0/attention/self/query/kernel", rng.standard_normal((16, 16)),
            tf.float32)
        var("bert/encoder/layer_0/attention/self/query/bias", rng.standard_normal(16), tf.float32)
        var("dense/kernel", rng.standard_normal((20, 15)), tf.float32)
        var("conv/kernel", rng.standard_normal((3, 3, 2, 4)), tf.float32)
        var("dtypes/float16", [0.5, -1.25, 65504.0], tf.float16)
        var("dtypes/bfloat16", [1.0, -2.5, 3.140625, 1e-3], tf.bfloat16)
        var("dtypes/float64", rng.standard_normal((2, 2)), tf.float64)
        var("dtypes/int8", [-128, 0, 127], tf.int8)
        var("dtypes/uint8", [0, 1, 255], tf.uint8)
        var("dtypes/int16", [-32768, 7, 32767], tf.int16)
        var("dtypes/uint16", [0, 1, 65535], tf.uint16)
        var("dtypes/int32", [-2**31, 5, 2**31 - 1], tf.int32)
        var("dtypes/uint32", [0, 2**32 - 1], tf.uint32)
        var("dtypes/int64", [-2**63, 9, 2**63 - 1], tf.int64)
        var("dtypes/uint64", [0, 2**64 - 1], tf.uint64)
        var("dtypes/bool", [True, False, True], tf.bool)
        var("dtypes/complex64", [1 + 2j, -3.5j], tf.complex64)
        var("dtypes/complex128", [[1 - 1j, 2], [0, 1e-300j]], tf.complex128)
        var("dtypes/empty", np.zeros((0, 4)), tf.float32)
        var("scalars/float", 2.5, tf.float32)
        var("scalars/bfloat16", -0.375, tf.bfloat16)
        var("strings/vector", [b"", b"\x00\xff", "caf\u00e9".encode(), b"plain"], tf.string)
        var("strings/long", bytes(range(256)) + b"x" * 44, tf.string)  # 300 bytes: 2-byte varint
        var("strings/none", np.zeros((0,), dtype=object), tf.string)
    directory = fresh("tf1_many_dtypes")
    prefix = saver_save(directory, build)
    dump_reference(directory, prefix)
    return prefix


def make_tf1_sharded() -> str:
    rng = np.random.default_rng(1)

    def build():
        with tf.device("/cpu:0"):
            global_step(7)
            tf1.get_variable("tower_0/w", initializer=rng.standard_normal((4, 3)).astype("f4"))
            tf1.get_variable("tower_0/b", initializer=np.arange(3, dtype="f4"))
        with tf.device("/cpu:1"):
            tf1.get_variable("tower_1/w", initializer=rng.standard_normal((4, 3)).astype("f4"))
            tf1.get_variable("tower_1/name", initializer=tf.constant(b"second device"))
    directory = fresh("tf1_sharded")
    prefix = saver_save(directory, build, sharded=True, cpus=2)
    data = sorted(f for f in os.listdir(directory) if ".data-" in f)
    assert data == ["model.ckpt.data-00000-of-00002", "model.ckpt.data-00001-of-00002"], data
    dump_reference(directory, prefix)
    return prefix


def make_tf1_partitioned() -> str:
    full = np.arange(21, dtype="f4").reshape(7, 3)

    def initializer(shape, dtype=None, partition_info=None):
        # Each partition is initialised with its own rows of `full`.
        row = partition_info.var_offset[0] if partition_info else 0
        return tf.constant(full[row:row + shape[0]])

    def build():
        global_step(3)
        tf1.get_variable("part/w", shape=[7, 3], initializer=initializer,
                         partitioner=tf1.fixed_size_partitioner(3))
    directory = fresh("tf1_partitioned")
    prefix = saver_save(directory, build)
    keys = [k for k, _ in read_table(prefix + ".index") if k[:1] == b"\x00"]
    assert len(keys) == 3, keys  # rows 0-2, 3-4, 5-6: an uneven split
    dump_reference(directory, prefix, slice_keys=[base64.b64encode(k).decode() for k in keys])
    return prefix


def make_tf1_snappy_index(source_prefix: str) -> str:
    """The many-dtypes checkpoint with its index rewritten as small snappy-compressed blocks.

    TF has not written compressed indexes since 1.3, so our own table writer makes one; real TF
    must read it back identically, which is checked here and recorded in reference.json.
    """
    directory = fresh("tf1_snappy_index")
    prefix = os.path.join(directory, "model.ckpt")
    shutil.copy(source_prefix + ".data-00000-of-00001", prefix + ".data-00000-of-00001")
    pairs = read_table(source_prefix + ".index")
    tfckpt_writer.write_table(prefix + ".index", pairs, block_size=256, compress=True)
    blocks = count_snappy_blocks(prefix + ".index")
    assert blocks >= 3, blocks
    original, rewritten = reference(source_prefix), reference(prefix)
    assert original[0]["tensors"] == rewritten[0]["tensors"]
    for key, value in original[1].items():
        np.testing.assert_array_equal(value, rewritten[1][key])
    dump_reference(directory, prefix, tf_reads_snappy_index_identically=True,
                   snappy_data_blocks=blocks)
    return prefix


def count_snappy_blocks(index_path: str) -> int:
    """How many data blocks of the index are snappy-compressed (trailer type byte 1)."""
    with open(index_path, "rb") as f:
        data = f.read()
    index_block = _footer_index_block(data)
    count = 0
    for _, handle in _block_entries(index_block):
        offset, pos = _varint(handle, 0)
        size, _ = _varint(handle, pos)
        count += data[offset + size] == 1
    return count


def _varint(buf: bytes, pos: int) -> tuple:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def _footer_index_block(data: bytes) -> bytes:
    footer = data[-48:]
    _, pos = _varint(footer, 0)
    _, pos = _varint(footer, pos)
    offset, pos = _varint(footer, pos)
    size, _ = _varint(footer, pos)
    block = data[offset:offset + size]
    return decompress(block, "index") if data[offset + size] == 1 else block


def _block_entries(block: bytes) -> list:
    restarts = int.from_bytes(block[-4:], "little")
    end = len(block) - 4 - 4 * restarts
    pos, key, out = 0, b"", []
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        size, pos = _varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        out.append((key, block[pos:pos + size]))
        pos += size
    return out


def make_tf2_object() -> str:
    class Dense(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(np.linspace(-1, 1, 12, dtype="f4").reshape(4, 3))
            self.bias = tf.Variable(np.zeros(3, "f4"))

    class Model(tf.Module):
        def __init__(self):
            super().__init__()
            self.dense = Dense()
            self.embedding = tf.Variable(tf.constant([[0.5, 1.5], [2.0, -4.0]], tf.bfloat16))

    directory = fresh("tf2_object")
    checkpoint = tf.train.Checkpoint(model=Model(), step=tf.Variable(7, dtype=tf.int64))
    path = checkpoint.save(os.path.join(directory, "ckpt"))
    assert os.path.basename(path) == "ckpt-1", path
    state = open(os.path.join(directory, "checkpoint")).read()
    assert 'model_checkpoint_path: "ckpt-1"' in state, state  # relative, so the fixture can move
    dump_reference(directory, path)
    return path


def make_quantized_savev2() -> str:
    """Quantized dtypes (no TF1 variable holds them): written by the raw SaveV2 op."""
    directory = fresh("tf_quantized_savev2")
    prefix = os.path.join(directory, "model.ckpt")
    values = {
        "q/qint8": tf.bitcast(tf.constant([-128, 0, 127], tf.int8), tf.qint8),
        "q/quint8": tf.bitcast(tf.constant([0, 200, 255], tf.uint8), tf.quint8),
        "q/qint16": tf.bitcast(tf.constant([-300, 0, 300], tf.int16), tf.qint16),
        "q/quint16": tf.bitcast(tf.constant([0, 1000, 65535], tf.uint16), tf.quint16),
        "q/qint32": tf.bitcast(tf.constant([-2**31, 1, 2**31 - 1], tf.int32), tf.qint32),
    }
    names = sorted(values)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[values[n] for n in names])
    dump_reference(directory, prefix)
    return prefix


# --------------------------------------------------------------------------------------------
# The test-only writer, checked against real TF (nothing committed)


def check_test_writer() -> None:
    rng = np.random.default_rng(5)
    tensors = {
        "a/kernel": rng.standard_normal((9, 5)).astype("f4"),
        "b/ids": np.arange(-5, 5, dtype=np.int64),
        "c/strings": np.array([b"", b"\x00\xff", b"z" * 200], dtype=object),
        "d/scalar": b"scalar string",
        "e/bf16": tfckpt_writer.Raw(14, (3,), np.array([0x3F80, 0xC020, 0x0000], "<u2").tobytes()),
        "f/part": rng.standard_normal((7, 3)).astype("f8"),
        "g/flags": np.array([[True, False]]),
        "h/step": np.int64(12),
        "i/empty": np.zeros((0, 2), np.float16),
    }
    partitions = {"f/part": [((0, 3), (0, -1)), ((3, 2), (0, -1)), ((5, 2), (0, -1))]}
    with tempfile.TemporaryDirectory() as tmp:
        for options in ({}, {"num_shards": 3, "block_size": 40},
                        {"compress": True, "block_size": 64}, {"big_endian": True},
                        {"alignment": 32}):
            prefix = os.path.join(tmp, "w.ckpt")
            tfckpt_writer.write_bundle(prefix, tensors, partitions=partitions, **options)
            reader = tf.train.load_checkpoint(prefix)
            assert sorted(reader.get_variable_to_shape_map()) == sorted(tensors), options
            for name, value in tensors.items():
                got = reader.get_tensor(name)
                if isinstance(value, tfckpt_writer.Raw):
                    bits = np.asarray(got).view(np.uint16)
                    if options.get("big_endian"):  # Raw bytes are stored as given
                        bits = bits.byteswap()
                    assert bits.tobytes() == value.data, name
                elif isinstance(value, bytes):
                    assert got == value, name
                else:
                    assert np.asarray(got).shape == np.shape(value), name
                    np.testing.assert_array_equal(np.asarray(got), value, err_msg=name)
    print("tfckpt_writer: TensorFlow reads every variant back identically")


def main() -> None:
    _setup()
    many = make_tf1_many_dtypes()  # TF1 graphs: each builds in its own tf.Graph
    make_tf1_sharded()
    make_tf1_partitioned()
    make_tf1_snappy_index(many)
    make_tf2_object()
    make_quantized_savev2()
    check_test_writer()
    for name in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, name))
        size = sum(os.path.getsize(os.path.join(OUT, name, f)) for f in files)
        print(f"{name}: {len(files)} files, {size} bytes")


if __name__ == "__main__":
    main()
