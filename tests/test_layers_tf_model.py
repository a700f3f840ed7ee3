"""Acceptance: a ``tf.compat.v1.layers`` model ported line by line to ``ts.layers`` loads
TensorFlow's checkpoint through ``init_from_checkpoint`` and reproduces TensorFlow's outputs.

The TF model and its answers come from tests/fixtures_gen/make_layers.py (``model``): conv2d
'same' with stride 2 on an even size, a fused (4-D) and an unfused (2-D) batch normalization,
max and average pooling 'same', flatten, dense; every variable — moving statistics included —
randomised before ``tf.compat.v1.train.Saver`` wrote it.
"""

import json
import os

import numpy as np
import pytest
import torch

import torchscope as ts
from torchscope import layers

DATA = os.path.join(os.path.dirname(__file__), "data", "layers", "model")
PREFIX = os.path.join(DATA, "model.ckpt")
TOL = dict(rtol=0, atol=1e-4)


class Model(ts.ScopedModule):
    """``make_layers.model``, line by line (``tf.nn.relu`` → ``torch.relu``)."""

    def forward(self, x, training=False):
        h = layers.conv2d(x, 6, 3, strides=2, padding="same")
        h = layers.batch_normalization(h, training=training)
        h = torch.relu(h)
        h = layers.conv2d(h, 8, 2, padding="same", activation=torch.relu)
        h = layers.max_pooling2d(h, 3, 2, padding="same")
        h = layers.average_pooling2d(h, 2, 1, padding="same")
        h = layers.flatten(h)
        h = layers.dense(h, 10, activation=torch.tanh, name="fc")
        h = layers.batch_normalization(h, training=training, name="bn")
        return layers.dense(h, 3)


@pytest.fixture(scope="module")
def reference():
    with np.load(os.path.join(DATA, "reference.npz"), allow_pickle=False) as npz:
        arrays = {key: torch.from_numpy(npz[key]) for key in npz.files}
    with open(os.path.join(DATA, "reference.json")) as f:
        arrays["variables"] = {name: shape for name, shape in json.load(f)["variables"]}
    return arrays


@pytest.fixture
def model(reference):
    net = Model().build(reference["input"])
    ts.checkpoint.init_from_checkpoint(PREFIX, {"/": "/"}, store=net.store)
    return net


def test_tf_model_state_dict_keys_are_the_checkpoint_variable_names(model, reference):
    expected = {name: shape for name, shape in reference["variables"].items()
                if name != "global_step"}
    assert {name: list(t.shape) for name, t in model.state_dict().items()} == expected


def test_tf_model_init_from_checkpoint_writes_every_variable_by_its_own_name(reference):
    net = Model().build(reference["input"])
    written = ts.checkpoint.init_from_checkpoint(PREFIX, {"/": "/"}, store=net.store)
    assert written == {name: name for name in net.state_dict()}
    for name, value in net.state_dict().items():
        assert torch.equal(value, torch.from_numpy(ts.checkpoint.load_variable(PREFIX, name)))


def test_tf_model_moving_statistics_are_buffers_and_the_rest_parameters(model):
    buffers = {name for name, _ in model.named_buffers()}
    assert buffers == {f"{bn}/{stat}" for bn in ("batch_normalization", "bn")
                       for stat in ("moving_mean", "moving_variance")}
    assert all(p.requires_grad for p in model.parameters())
    assert {name for name, _ in model.named_parameters()}.isdisjoint(buffers)


def test_tf_model_inference_reproduces_tf_and_updates_nothing(model, reference):
    before = {name: b.clone() for name, b in model.named_buffers()}
    torch.testing.assert_close(model(reference["input"]), reference["inference"], **TOL)
    for name, value in model.named_buffers():
        assert torch.equal(value, before[name]), name


def test_tf_model_training_step_reproduces_tf_outputs_and_moving_statistics(model, reference):
    torch.testing.assert_close(model(reference["input"], training=True), reference["training"],
                               **TOL)
    for name, value in model.named_buffers():
        torch.testing.assert_close(value, reference["after/" + name], **TOL, msg=name)
    torch.testing.assert_close(model(reference["input"]), reference["inference_after"], **TOL)


def test_tf_model_training_flag_as_a_tensor_matches_the_python_bool(model, reference):
    """TF's model took ``training`` from a ``placeholder_with_default``: a run-time flag."""
    x = reference["input"]
    torch.testing.assert_close(model(x, torch.tensor(False)), reference["inference"], **TOL)
    torch.testing.assert_close(model(x, torch.tensor(True)), reference["training"], **TOL)
    for name, value in model.named_buffers():
        torch.testing.assert_close(value, reference["after/" + name], **TOL, msg=name)


def test_tf_model_training_backward_reaches_every_trainable_variable(model, reference):
    model(reference["input"], training=True).square().sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert all(b.grad is None for b in model.buffers())
