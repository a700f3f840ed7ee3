"""The reader returns exactly what TensorFlow's reader returned, for every fixture tensor.

The fixtures under tests/data/checkpoints/ were written by real TensorFlow, which also recorded
its answers (reference.json + reference.npz); see tests/fixtures_gen/make_checkpoints.py.
"""

import base64
import json
import os

import numpy as np
import pytest

from torchscope import checkpoint
from torchscope.checkpoint import _dtypes

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "checkpoints")
FIXTURES = sorted(os.listdir(DATA))
QUANTIZED = {"qint8", "quint8", "qint16", "quint16", "qint32"}


def load_reference(fixture):
    with open(os.path.join(DATA, fixture, "reference.json")) as f:
        doc = json.load(f)
    with np.load(os.path.join(DATA, fixture, "reference.npz"), allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return doc, arrays


def prefix_of(fixture, doc):
    return os.path.join(DATA, fixture, doc["prefix"])


def expected_strings(info):
    values = [base64.b64decode(s) for s in info["strings"]]
    if info["type"] == "bytes":
        return values[0]
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array.reshape(info["shape"])


def assert_same_kind(value, info):
    kinds = {"bytes": bytes, "scalar": np.generic, "ndarray": np.ndarray}
    assert isinstance(value, kinds[info["type"]]), (type(value), info["type"])


def assert_matches_tf(value, info, tf_array):
    assert_same_kind(value, info)
    if info["dtype"] == "string":
        expected = expected_strings(info)
        if isinstance(expected, bytes):
            assert value == expected
        else:
            assert value.dtype == object and value.shape == expected.shape
            assert value.tolist() == expected.tolist()
        return
    array = np.asarray(value)
    assert list(array.shape) == info["shape"]
    if info["dtype"] == "bfloat16":
        bits = tf_array.astype(np.uint32) << 16
        if _dtypes.bfloat16_dtype() is not None:
            assert array.dtype == _dtypes.bfloat16_dtype()
            np.testing.assert_array_equal(array.view(np.uint16), tf_array)
        else:
            assert array.dtype == np.float32
            np.testing.assert_array_equal(array.view(np.uint32), bits)
        return
    # Quantized types come back as their storage ints; TF's were stored that way too.
    assert array.dtype == tf_array.dtype
    np.testing.assert_array_equal(array, tf_array)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_list_variables_equals_tf(fixture):
    doc, _ = load_reference(fixture)
    expected = [(name, shape) for name, shape in doc["list_variables"]]
    assert checkpoint.list_variables(prefix_of(fixture, doc)) == expected


@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_tensor_equals_tf(fixture):
    doc, arrays = load_reference(fixture)
    reader = checkpoint.load_checkpoint(prefix_of(fixture, doc))
    assert sorted(reader.keys()) == sorted(doc["tensors"])
    for name, info in doc["tensors"].items():
        assert_matches_tf(reader.get_tensor(name), info, arrays.get(info.get("npz")))


@pytest.mark.parametrize("fixture", FIXTURES)
def test_dtype_and_shape_maps_equal_tf(fixture):
    doc, arrays = load_reference(fixture)
    reader = checkpoint.load_checkpoint(prefix_of(fixture, doc))
    tensors = doc["tensors"]
    assert reader.get_variable_to_dtype_name_map() == {n: i["dtype"] for n, i in tensors.items()}
    assert reader.get_variable_to_shape_map() == {n: i["shape"] for n, i in tensors.items()}
    for name, dtype in reader.get_variable_to_dtype_map().items():
        info = tensors[name]
        if info["dtype"] == "string":
            assert dtype == np.dtype(object)
        elif info["dtype"] == "bfloat16":
            assert dtype == (_dtypes.bfloat16_dtype() or np.dtype(np.float32))
        else:
            assert dtype == arrays[info["npz"]].dtype, name


def test_bfloat16_without_ml_dtypes_is_exact_float32(monkeypatch):
    monkeypatch.setattr(_dtypes, "bfloat16_dtype", lambda: None)
    reader = checkpoint.load_checkpoint(os.path.join(DATA, "tf1_many_dtypes"))
    value = reader.get_tensor("dtypes/bfloat16")
    assert value.dtype == np.float32
    np.testing.assert_array_equal(value, [1.0, -2.5, 3.140625, 0.00099945068359375])
    assert reader.get_variable_to_dtype_map()["dtypes/bfloat16"] == np.float32
    assert isinstance(reader.get_tensor("scalars/bfloat16"), np.float32)


def test_bfloat16_with_ml_dtypes_is_ml_dtypes_bfloat16():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    reader = checkpoint.load_checkpoint(os.path.join(DATA, "tf1_many_dtypes"))
    value = reader.get_tensor("dtypes/bfloat16")
    assert value.dtype == np.dtype(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(value.astype(np.float32),
                                  [1.0, -2.5, 3.140625, 0.00099945068359375])


def test_snappy_index_fixture_reads_like_the_uncompressed_original():
    doc, _ = load_reference("tf1_snappy_index")
    assert doc["tf_reads_snappy_index_identically"] and doc["snappy_data_blocks"] >= 3
    original = checkpoint.load_checkpoint(os.path.join(DATA, "tf1_many_dtypes"))
    snappy = checkpoint.load_checkpoint(os.path.join(DATA, "tf1_snappy_index", "model.ckpt"))
    for name in original.keys():
        a, b = original.get_tensor(name), snappy.get_tensor(name)
        assert type(a) is type(b)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_tf2_object_checkpoint_keys_are_listed_as_stored():
    names = [name for name, _ in checkpoint.list_variables(os.path.join(DATA, "tf2_object"))]
    assert "_CHECKPOINTABLE_OBJECT_GRAPH" in names
    assert "model/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE" in names
    graph = checkpoint.load_variable(os.path.join(DATA, "tf2_object"),
                                     "_CHECKPOINTABLE_OBJECT_GRAPH")
    assert isinstance(graph, bytes) and len(graph) > 0


def test_partitioned_variable_is_reassembled_and_its_slices_hidden():
    path = os.path.join(DATA, "tf1_partitioned")
    assert checkpoint.list_variables(path) == [("global_step", []), ("part/w", [7, 3])]
    value = checkpoint.load_variable(path, "part/w")
    np.testing.assert_array_equal(value, np.arange(21, dtype=np.float32).reshape(7, 3))


def test_sharded_checkpoint_reads_tensors_from_both_shards():
    reader = checkpoint.load_checkpoint(os.path.join(DATA, "tf1_sharded"))
    assert reader.get_tensor("tower_1/name") == b"second device"
    assert reader.get_tensor("tower_0/b").tolist() == [0.0, 1.0, 2.0]


def test_get_tensor_returns_a_writable_copy_independent_of_later_reads():
    reader = checkpoint.load_checkpoint(os.path.join(DATA, "tf1_many_dtypes"))
    first = reader.get_tensor("dense/kernel")
    assert first.flags.writeable
    first[...] = 0
    assert reader.get_tensor("dense/kernel").any()


def test_load_variable_ignores_a_trailing_colon_zero_like_tf():
    path = os.path.join(DATA, "tf1_many_dtypes")
    assert checkpoint.load_variable(path, "global_step:0") == 42


def test_has_tensor_and_contains_agree_and_hide_slice_keys():
    reader = checkpoint.load_checkpoint(os.path.join(DATA, "tf1_partitioned"))
    assert reader.has_tensor("part/w") and "part/w" in reader
    assert not reader.has_tensor("part/w/part_0") and len(reader) == 2
