"""``get_torch_tensor``: writable torch tensors, with torch's own bfloat16."""

import json
import os

import numpy as np
import pytest
import torch

from torchscope import checkpoint
from torchscope._errors import UnsupportedCheckpointError

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "checkpoints")
MANY = os.path.join(DATA, "tf1_many_dtypes")


def reference_npz(fixture):
    with open(os.path.join(DATA, fixture, "reference.json")) as f:
        doc = json.load(f)
    with np.load(os.path.join(DATA, fixture, "reference.npz"), allow_pickle=False) as npz:
        return {n: npz[i["npz"]] for n, i in doc["tensors"].items() if "npz" in i}, doc


@pytest.mark.parametrize("fixture", ["tf1_many_dtypes", "tf1_partitioned", "tf2_object",
                                     "tf_quantized_savev2"])
def test_torch_tensor_equals_tf_value_for_every_numeric_tensor(fixture):
    arrays, doc = reference_npz(fixture)
    reader = checkpoint.load_checkpoint(os.path.join(DATA, fixture, doc["prefix"]))
    for name, expected in arrays.items():
        tensor = reader.get_torch_tensor(name)
        assert list(tensor.shape) == doc["tensors"][name]["shape"]
        if doc["tensors"][name]["dtype"] == "bfloat16":
            assert tensor.dtype == torch.bfloat16
            np.testing.assert_array_equal(tensor.view(torch.int16).numpy().view(np.uint16),
                                          expected)
        else:
            np.testing.assert_array_equal(tensor.numpy(), expected)


def test_torch_tensor_is_writable_and_owns_fresh_memory():
    reader = checkpoint.load_checkpoint(MANY)
    tensor = reader.get_torch_tensor("dense/kernel")
    tensor.zero_()  # no "non-writable array" warning, no effect on later reads
    assert reader.get_torch_tensor("dense/kernel").abs().sum() > 0
    assert reader.get_torch_tensor("global_step").shape == ()


def test_string_tensor_as_torch_raises_unsupported_error_naming_the_file():
    reader = checkpoint.load_checkpoint(MANY)
    with pytest.raises(UnsupportedCheckpointError,
                       match=".*model.ckpt.index: tensor 'strings/vector' holds strings"):
        reader.get_torch_tensor("strings/vector")
