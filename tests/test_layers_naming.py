"""Layer variable names, scopes and reuse, as TF1's ``tf.compat.v1.layers`` gives them.

tests/data/layers/naming.json holds small programs (layer calls inside variable and name scopes)
and what TensorFlow produced for each: the variables in creation order, the trainable ones, the
scope names later ``default_name`` scopes got, the name scopes the activations ran in, and the
error. The same programs run here through ``ts.layers`` and must give the same answers.
"""

import builtins
import json
import os

import pytest
import torch

import torchscope as ts
from torchscope import layers

with open(os.path.join(os.path.dirname(__file__), "data", "layers", "naming.json")) as _f:
    PROGRAMS = json.load(_f)["programs"]

INPUTS = {"x2": (2, 4), "x3": (2, 6, 3), "x4": (2, 6, 6, 3)}


def _decode(value, captured, observed):
    if value == "AUTO_REUSE":
        return ts.AUTO_REUSE
    if isinstance(value, str) and value.startswith("@"):
        return captured[value[1:]]
    if value == "probe":
        return lambda t: observed.append(["name_scope", ts.get_name_scope()]) or t
    return value


def run_program(steps, captured, observed):
    """make_layers.py's ``_tf_program``, with ``ts`` for ``tf.compat.v1``."""
    for step in steps:
        if "layer" in step:
            kwargs = {k: _decode(v, captured, observed) for k, v in step["kwargs"].items()}
            getattr(layers, step["layer"])(torch.zeros(INPUTS[step["input"]]), **kwargs)
        elif "scope" in step:
            with ts.variable_scope(step["scope"], default_name=step.get("default_name"),
                                   reuse=_decode(step.get("reuse"), captured, observed)) as scope:
                if "capture" in step:
                    captured[step["capture"]] = scope
                run_program(step["body"], captured, observed)
        elif "name_scope" in step:
            with ts.name_scope(step["name_scope"]):
                run_program(step["body"], captured, observed)
        else:
            with ts.variable_scope(None, default_name=step["observe"]) as scope:
                observed.append(["variable_scope", scope.name])


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_layer_naming_program_matches_tf(program, store):
    expected = PROGRAMS[program]
    observed, error = [], None
    try:
        run_program(expected["program"], {}, observed)
    except ts.TorchscopeError as e:
        error = e
    names = lambda variables: [store.name_of(v) for v in variables]   # noqa: E731
    assert names(ts.global_variables()) == expected["variables"]
    assert names(ts.trainable_variables()) == expected["trainable"]
    assert observed == expected["observed"]
    if expected["error"] is None:
        assert error is None
    else:
        assert isinstance(error, getattr(builtins, expected["error"]["type"]))
        # TF appends "Originally defined at:" to its first line; torchscope gives it a paragraph
        sentence = expected["error"]["message"].split(" Originally defined at:")[0]
        assert str(error).split("\n")[0] == sentence.replace("tf.", "ts.")


def test_layer_reuse_true_returns_the_same_parameter_objects(store):
    x = torch.randn(2, 4)
    y1 = layers.dense(x, 3, name="fc")
    kernel = store["fc/kernel"]
    y2 = layers.dense(x, 3, name="fc", reuse=True)
    assert store["fc/kernel"] is kernel and len(store) == 2
    (y1 + y2).sum().backward()
    torch.testing.assert_close(kernel.grad, 2 * x.sum(0)[:, None].expand(4, 3))


def test_layer_auto_reuse_in_a_loop_creates_once(store):
    for _ in range(3):
        layers.conv2d(torch.zeros(1, 5, 5, 2), 4, 3, name="shared", reuse=ts.AUTO_REUSE)
    assert sorted(store) == ["shared/bias", "shared/kernel"]


def test_layer_trainable_false_variables_do_not_require_grad(store):
    layers.dense(torch.zeros(2, 4), 3, trainable=False)
    layers.batch_normalization(torch.zeros(2, 4))
    grads = {name: store[name].requires_grad for name in store}
    assert grads == {"dense/kernel": False, "dense/bias": False,
                     "batch_normalization/gamma": True, "batch_normalization/beta": True,
                     "batch_normalization/moving_mean": False,
                     "batch_normalization/moving_variance": False}


def test_layer_use_bias_false_creates_no_bias(store):
    layers.conv1d(torch.zeros(1, 5, 2), 3, 2, use_bias=False)
    layers.dense(torch.zeros(1, 2), 3, use_bias=False)
    assert sorted(store) == ["conv1d/kernel", "dense/kernel"]


def test_batch_normalization_center_scale_false_create_only_moving_statistics(store):
    layers.batch_normalization(torch.zeros(2, 3), center=False, scale=False)
    assert list(store) == ["batch_normalization/moving_mean",
                           "batch_normalization/moving_variance"]


def test_layer_kernel_initializer_default_is_the_scopes(store):
    with ts.variable_scope("s", initializer=ts.constant_initializer(0.5)):
        layers.dense(torch.zeros(2, 4), 3)
    assert torch.equal(store["s/dense/kernel"], torch.full((4, 3), 0.5))
    assert torch.equal(store["s/dense/bias"], torch.zeros(3))    # bias: zeros, TF's default


def test_layer_default_kernel_initializer_is_glorot_uniform(store):
    torch.manual_seed(0)
    layers.dense(torch.zeros(2, 300), 200)
    kernel = store["dense/kernel"]
    limit = (6 / (300 + 200)) ** 0.5
    assert kernel.abs().max() <= limit and kernel.abs().max() > 0.95 * limit
