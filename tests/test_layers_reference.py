"""Each layer against TensorFlow's own output for the same input and weights.

tests/data/layers/cases.json (from tests/fixtures_gen/make_layers.py) holds one configuration per
case — conv2d/conv1d with 'same'/'valid'/'causal', strides 1/2/3 on odd and even sizes, even and
rectangular kernels, dilation, channels_first; pooling; flatten; dense; batch normalization in
both modes, fused and unfused — with the weights TF was given (``constant_initializer``) and what
TF computed. Weights go in through ``ts.constant_initializer(..., verify_shape=True)``, which also
pins that the variables have TF's shapes and layouts (dense ``[in, out]``, conv HWIO).
"""

import json
import os

import numpy as np
import pytest
import torch

import torchscope as ts
from torchscope import layers

DATA = os.path.join(os.path.dirname(__file__), "data", "layers")

with open(os.path.join(DATA, "cases.json")) as _f:
    CASES = json.load(_f)["cases"]
with np.load(os.path.join(DATA, "cases.npz"), allow_pickle=False) as _npz:
    POOLS = {key: _npz[key] for key in _npz.files}

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


def array(where):
    """A fixture array from its ``[dtype, offset, shape]`` place in cases.npz."""
    dtype, offset, shape = where
    size = int(np.prod(shape))
    return torch.from_numpy(POOLS[dtype][offset:offset + size].reshape(shape).copy())


def tolerance(case):
    if case["input"][0] == "float64":
        return dict(rtol=1e-9, atol=1e-9)
    return dict(rtol=1e-5, atol=2e-5)


def layer_kwargs(case):
    kwargs = dict(case["kwargs"])
    if kwargs.get("activation"):
        kwargs["activation"] = ACTIVATIONS[kwargs["activation"]]
    for var, where in case["weights"].items():
        kwargs[f"{var}_initializer"] = ts.constant_initializer(array(where).numpy(),
                                                               verify_shape=True)
    return kwargs


def by_name(cases):
    return pytest.mark.parametrize("case", cases, ids=[c["name"] for c in cases])


@by_name([c for c in CASES if c["layer"] != "batch_normalization"])
def test_layer_output_matches_tf_reference(case, store):
    got = getattr(layers, case["layer"])(array(case["input"]), **layer_kwargs(case))
    torch.testing.assert_close(got, array(case["output"]), **tolerance(case))


BN_CASES = [c for c in CASES if c["layer"] == "batch_normalization"]
TRAINING = {True: True, False: False, "tensor_true": torch.tensor(True),
            "tensor_false": torch.tensor(False)}


@by_name(BN_CASES)
def test_batch_normalization_output_matches_tf_reference(case, store):
    got = layers.batch_normalization(array(case["input"]), training=TRAINING[case["training"]],
                                     **layer_kwargs(case))
    torch.testing.assert_close(got, array(case["output"]), **tolerance(case))


@by_name(BN_CASES)
def test_batch_normalization_moving_statistics_match_tf_after_its_update_ops(case, store):
    """TF ran the layer's UPDATE_OPS once (none when not training or not trainable)."""
    layers.batch_normalization(array(case["input"]), training=TRAINING[case["training"]],
                               **layer_kwargs(case))
    for stat in ("moving_mean", "moving_variance"):
        torch.testing.assert_close(store[f"batch_normalization/{stat}"],
                                   array(case[f"{stat}_after"]), **tolerance(case), msg=stat)


def test_reference_cases_cover_the_fused_and_unfused_tf_kernels():
    """The update rule differs between TF's two kernels; both must be in the fixtures."""
    trained = [c for c in BN_CASES if c["update_ops"]]
    assert {c["fused_kernel"] for c in trained} == {True, False}
